"""Stock held back from sale: safety stock and channel fences, most specific rule first.

A *safety stock* rule keeps units at a position unsold (for every channel, or for one).
A *channel fence* is a standing floor kept for one channel (a marketplace's share): every
other channel must leave that many units of the position's available stock, while the
fenced channel may sell all of it; as stock arrives the floor fills again first.

Both resolve per (location, SKU, channel) by specificity: product first (SKU, then SKU
tag, then any), then location (location, then location type, then any), then channel
(named, then any); on a tie the larger amount wins, so two equally specific rules never
protect less than either asks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Location


class RuleKind(StrEnum):
    SAFETY_STOCK = "safety_stock"
    CHANNEL_FENCE = "channel_fence"


@dataclass(frozen=True, slots=True)
class RuleScope:
    """Which positions a rule covers; an empty field matches anything."""

    channel: str | None = None
    location_id: str | None = None
    location_type: str | None = None
    sku: str | None = None
    sku_tag: str | None = None

    def covers(self, loc: Location, sku: str, tags: frozenset[str]) -> bool:
        return (
            (self.location_id is None or self.location_id == loc.id)
            and (self.location_type is None or self.location_type == loc.type.value)
            and (self.sku is None or self.sku == sku)
            and (self.sku_tag is None or self.sku_tag in tags)
        )

    @property
    def specificity(self) -> tuple[int, int, int]:
        product = 2 if self.sku is not None else 1 if self.sku_tag is not None else 0
        place = 2 if self.location_id is not None else 1 if self.location_type is not None else 0
        return product, place, int(self.channel is not None)


@dataclass(frozen=True, slots=True)
class StockRule:
    id: str
    kind: RuleKind
    scope: RuleScope
    quantity: int | None = None
    #: A share of the position's on-hand (0, 1], rounded up: protects at least that much.
    share: float | None = None

    def __post_init__(self) -> None:
        if (self.quantity is None) == (self.share is None):
            raise InvalidInput(
                "give exactly one of quantity and share", code="invalid_rule", field="quantity"
            )
        if self.quantity is not None and self.quantity < 0:
            raise InvalidInput("quantity must be 0 or more", code="invalid_rule", field="quantity")
        if self.share is not None and not 0 < self.share <= 1:
            raise InvalidInput("share must be in (0, 1]", code="invalid_rule", field="share")
        if self.kind is RuleKind.CHANNEL_FENCE and self.scope.channel is None:
            raise InvalidInput(
                "a channel fence names the channel it protects stock for",
                code="invalid_rule",
                field="scope.channel",
            )

    def amount(self, on_hand: int) -> int:
        if self.quantity is not None:
            return self.quantity
        assert self.share is not None
        return math.ceil(self.share * max(0, on_hand) - 1e-9)

    def precedence(self, on_hand: int) -> tuple[int, int, int, int, str]:
        """Smallest first: most specific, then the larger amount, then the id."""
        product, place, channel = self.scope.specificity
        return -product, -place, -channel, -self.amount(on_hand), self.id


class StockRules:
    """The rules that may touch some SKUs, indexed for resolution per position."""

    def __init__(self, rules: Iterable[StockRule] = ()) -> None:
        self.rules = tuple(sorted(rules, key=lambda r: r.id))
        self._by_sku: dict[str, list[StockRule]] = {}
        self._by_tag: dict[str, list[StockRule]] = {}
        self._general: list[StockRule] = []
        for rule in self.rules:
            if rule.scope.sku is not None:
                self._by_sku.setdefault(rule.scope.sku, []).append(rule)
            elif rule.scope.sku_tag is not None:
                self._by_tag.setdefault(rule.scope.sku_tag, []).append(rule)
            else:
                self._general.append(rule)
        self.has_fences = any(r.kind is RuleKind.CHANNEL_FENCE for r in self.rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _covering(self, loc: Location, sku: str, tags: frozenset[str]) -> list[StockRule]:
        found = [*self._by_sku.get(sku, ()), *self._general]
        for tag in tags:
            found.extend(self._by_tag.get(tag, ()))
        return [r for r in found if r.scope.covers(loc, sku, tags)]

    def safety_stock(
        self, loc: Location, sku: str, tags: frozenset[str], channel: str | None, on_hand: int
    ) -> int:
        """Units the channel may not sell (channel None: the rules of every channel only)."""
        fits = [
            r
            for r in self._covering(loc, sku, tags)
            if r.kind is RuleKind.SAFETY_STOCK and r.scope.channel in (None, channel)
        ]
        if not fits:
            return 0
        return min(fits, key=lambda r: r.precedence(on_hand)).amount(on_hand)

    def fences(self, loc: Location, sku: str, tags: frozenset[str], on_hand: int) -> dict[str, int]:
        """Units protected per channel at the position (the most specific fence each)."""
        best: dict[str, StockRule] = {}
        for r in self._covering(loc, sku, tags):
            if r.kind is not RuleKind.CHANNEL_FENCE:
                continue
            channel = r.scope.channel
            assert channel is not None
            if channel not in best or r.precedence(on_hand) < best[channel].precedence(on_hand):
                best[channel] = r
        return {c: r.amount(on_hand) for c, r in best.items() if r.amount(on_hand) > 0}

    def keep(
        self, position: Position, loc: Location, tags: frozenset[str], channel: str | None
    ) -> int:
        """Units of the position the channel must leave unsold: its safety stock plus the
        fences of every other channel. Channel None leaves fences out: the position's own
        view (`GET /v1/inventory`), not a channel's."""
        kept = self.safety_stock(loc, position.sku, tags, channel, position.on_hand)
        if channel is None:
            return kept
        fences = self.fences(loc, position.sku, tags, position.on_hand)
        return kept + sum(q for other, q in fences.items() if other != channel)
