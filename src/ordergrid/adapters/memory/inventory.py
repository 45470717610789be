"""In-memory inventory: positions, conditional reservations and the ledger."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.inventory import PHYSICAL, Movement, Position
from ordergrid.domain.sourcing.sku_stock import SkuStock
from ordergrid.service.ports import LedgerEntry, LedgerFilter

_PHYSICAL_REASONS = frozenset(r.value for r in PHYSICAL)


class InMemoryInventory(_Repo):
    def positions(self, skus: Iterable[str]) -> list[Position]:
        wanted = set(skus)
        return [p for k, p in sorted(self._t.positions.items()) if k[1] in wanted]

    def position(self, location_id: str, sku: str) -> Position | None:
        return self._t.positions.get((location_id, sku))

    def lock(self, location_id: str, skus: Iterable[str]) -> None:
        del location_id, skus  # writers are serialised by the store's lock

    def positions_at(self, location_id: str) -> list[Position]:
        return [p for k, p in sorted(self._t.positions.items()) if k[0] == location_id]

    def skus_available_at(self, location_id: str) -> list[str]:
        return sorted(
            sku
            for (loc, sku), p in self._t.positions.items()
            if loc == location_id and p.available > 0
        )

    def reserve(self, location_id: str, sku: str, quantity: int, keep: int = 0) -> Position | None:
        p = self._t.positions.get((location_id, sku))
        if p is None or p.on_hand - p.reserved - p.safety_stock - keep < quantity:
            return None
        return self._put(replace(p, reserved=p.reserved + quantity))

    def move(self, movement: Movement, clamp: bool = False) -> Position | None:
        m = movement
        p = self._t.positions.get((m.location_id, m.sku)) or Position(m.location_id, m.sku)
        on_hand = p.on_hand + m.on_hand_delta
        if on_hand < 0:
            if not clamp:
                return None
            on_hand = 0
        return self._put(replace(p, on_hand=on_hand, reserved=p.reserved + m.reserved_delta))

    def set_on_hand(self, location_id: str, sku: str, on_hand: int, as_of: datetime) -> Position:
        p = self._t.positions.get((location_id, sku)) or Position(location_id, sku)
        return self._put(replace(p, on_hand=on_hand, snapshot_as_of=as_of))

    def physical_since(self, location_id: str, sku: str, since: datetime) -> int:
        return sum(
            e.on_hand_delta
            for e in self._t.ledger
            if e.location_id == location_id
            and e.sku == sku
            and e.at > since
            and str(e.reason) in _PHYSICAL_REASONS
        )

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        start = len(self._t.ledger) + 1
        self._t.ledger.extend(
            replace(e, details=copy.deepcopy(e.details), id=start + n)
            for n, e in enumerate(entries)
        )

    def ledger(self, flt: LedgerFilter, limit: int, after: int | None) -> list[LedgerEntry]:
        found = [
            e
            for e in self._t.ledger
            if e.sku == flt.sku
            and (flt.location_id is None or e.location_id == flt.location_id)
            and (flt.since is None or e.at >= flt.since)
            and (flt.until is None or e.at < flt.until)
            and (after is None or (e.id or 0) > after)
        ]
        return [replace(e, details=copy.deepcopy(e.details)) for e in found[:limit]]

    def claim_adjustment(self, adjustment_id: str, at: datetime) -> bool:
        if adjustment_id in self._t.adjustments:
            return False
        self._t.adjustments[adjustment_id] = at
        return True

    def adjustment_applied(self, adjustment_id: str) -> bool:
        """Whether the id was claimed (not part of the port; for tests and tools)."""
        return adjustment_id in self._t.adjustments

    def _put(self, p: Position) -> Position:
        self._t.positions[(p.location_id, p.sku)] = p
        return p


class InMemoryStockReads(_Repo):
    """Committed positions for read-only answers: the unit of work's copy of the tables
    is already in this process, so there is nothing to cache."""

    def positions(self, skus: Iterable[str]) -> list[Position]:
        wanted = set(skus)
        return [p for k, p in sorted(self._t.positions.items()) if k[1] in wanted]

    def by_sku(self, skus: Iterable[str]) -> dict[str, SkuStock]:
        wanted = sorted(set(skus))
        held: dict[str, list[Position]] = {sku: [] for sku in wanted}
        for p in self.positions(wanted):
            held[p.sku].append(p)
        return {sku: SkuStock.of_positions(sku, found) for sku, found in held.items()}

    def warm(self, after: str | None, count: int) -> list[str]:
        return []  # nothing cached, nothing to warm
