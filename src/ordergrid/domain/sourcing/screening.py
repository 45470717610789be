"""Hard constraints: which locations may serve a request, and why the others may not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ordergrid.domain.network import Capability, Location, LocationStatus
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.sourcing.network_index import (
    BoolArray,
    FloatArray,
    IntArray,
    NetworkIndex,
    index_of,
    row_in,
)
from ordergrid.domain.sourcing.policy import Constraints, Policy
from ordergrid.domain.sourcing.product_rules import BUILT_IN_RULES, ProductRule
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

CAPABILITY_FOR = {
    DeliveryMethod.SHIP: Capability.SHIP,
    DeliveryMethod.SAME_DAY: Capability.SAME_DAY,
    DeliveryMethod.PICKUP: Capability.PICKUP,
    DeliveryMethod.CURBSIDE: Capability.CURBSIDE,
}


@dataclass(frozen=True, slots=True)
class Exclusion:
    reason: str  # stable code of the constraint
    detail: str


@dataclass(frozen=True, slots=True)
class Screened:
    location: Location
    distance_km: float | None
    available: dict[str, int]  # what the location may give: 0 where a product rule blocks
    exclusion: Exclusion | None
    blocked: dict[str, str] = field(default_factory=dict)  # SKU -> product rule


def _status(loc: Location) -> Exclusion | None:
    if loc.status is LocationStatus.ACTIVE:
        return None
    return Exclusion(f"location_{loc.status.value}", f"location is {loc.status.value}")


def _fit_rules(
    loc: Location, channel: str, method: DeliveryMethod, c: Constraints
) -> Exclusion | None:
    """What depends only on the location and the rules, not on this order."""
    if c.location_types is not None and loc.type.value not in c.location_types:
        return Exclusion("location_type_not_allowed", f"policy does not use {loc.type.value}")
    if loc.channels and channel not in loc.channels:
        return Exclusion("channel_not_served", f"location does not serve {channel!r}")
    needed = CAPABILITY_FOR[method]
    if needed not in loc.capabilities:
        return Exclusion("capability_missing", f"location cannot do {needed.value}")
    blocked = sorted(loc.tags & c.exclude_location_tags)
    if blocked:
        return Exclusion("location_tag_excluded", f"tag {blocked[0]!r} is excluded")
    if c.include_location_tags and not (loc.tags & c.include_location_tags):
        return Exclusion("location_tag_required", "location lacks every required tag")
    return None


def _elsewhere(loc: Location, req: SourcingRequest) -> bool:
    """The customer collects at another store (no store named: any store may do)."""
    return (
        req.method.collects_at_store
        and req.pickup_location_id is not None
        and loc.id != req.pickup_location_id
    )


def _capacity(loc: Location, view: SourcingView, policy: Policy) -> Exclusion | None:
    """A location that has taken its daily orders or units gets no more work today.

    The count is the one read when deciding: decisions running at the same moment can
    take a location a few orders past its limit (a soft cap, not a reservation)."""
    if not policy.constraints.respect_capacity:
        return None
    orders, units = view.load.get(loc.id, (0, 0))
    if loc.orders_per_day is not None and orders >= loc.orders_per_day:
        return Exclusion("capacity_reached", f"{orders} of {loc.orders_per_day} orders today")
    if loc.units_per_day is not None and units >= loc.units_per_day:
        return Exclusion("capacity_reached", f"{units} of {loc.units_per_day} units today")
    return None


def _full(loc: Location, orders: int, units: int) -> bool:
    """Whether the location has taken its daily orders or units."""
    return (loc.orders_per_day is not None and orders >= loc.orders_per_day) or (
        loc.units_per_day is not None and units >= loc.units_per_day
    )


@dataclass(frozen=True, slots=True, eq=False)
class Screen:
    """Every candidate (holders of the request's SKUs and the pick-up store), as columns
    in location id order: where it is, what it may give, and whether it may be used."""

    index: NetworkIndex
    skus: tuple[str, ...]
    candidates: IntArray  # positions in the network index
    distance: FloatArray | None  # km; None for store pick-up
    available: IntArray  # (candidates, skus): 0 where a product rule blocks
    eligible: BoolArray
    rules: dict[str, tuple[ProductRule, ...]]

    def explain(self, i: int, req: SourcingRequest, view: SourcingView, policy: Policy) -> Screened:
        """Candidate `i` with its verdict spelled out: the constraint that excludes it
        (the first, in the order the checks run), its stock and product-rule blocks."""
        return self._spell(i, _Columns.of(self, req, policy), req, view, policy)

    def explain_all(
        self,
        req: SourcingRequest,
        view: SourcingView,
        policy: Policy,
        only: Sequence[int] | None = None,
    ) -> list[Screened]:
        """`explain` for every candidate (or those at `only`), in that order, with the
        columns converted once: an order on a large network has hundreds of candidates."""
        columns = _Columns.of(self, req, policy)
        which = range(len(columns.rows)) if only is None else only
        return [self._spell(i, columns, req, view, policy) for i in which]

    def blocked(self, req: SourcingRequest, policy: Policy) -> dict[int, dict[str, str]]:
        """Per candidate (by position) that a product rule keeps some SKU away from, which
        rule keeps each SKU away; empty when no rule concerns the request's SKUs."""
        if not self.rules:
            return {}
        columns = _Columns.of(self, req, policy)
        found = {i: columns.blocked(j) for i, j in enumerate(columns.rows)}
        return {i: b for i, b in found.items() if b}

    def exclusions(
        self, req: SourcingRequest, view: SourcingView, policy: Policy, only: Sequence[int]
    ) -> list[Exclusion | None]:
        """The constraint `explain` names for each candidate at `only` (None: none), without
        the rest of its verdict: an explanation stores only this of the excluded ones, and
        late in a day most stores have reached their capacity."""
        columns = _Columns.of(self, req, policy)
        return [self._excluded_by(i, columns, req, view, policy) for i in only]

    def _spell(
        self, i: int, cols: _Columns, req: SourcingRequest, view: SourcingView, policy: Policy
    ) -> Screened:
        j = cols.rows[i]
        loc = self.index.locations[j]
        dist = None if cols.distance is None else cols.distance[i]
        available = dict(zip(self.skus, cols.available[i], strict=True))
        blocked = cols.blocked(j)
        exclusion = self._excluded_by(i, cols, req, view, policy, blocked)
        return Screened(loc, dist, available, exclusion, blocked)

    def _excluded_by(
        self,
        i: int,
        cols: _Columns,
        req: SourcingRequest,
        view: SourcingView,
        policy: Policy,
        blocked: dict[str, str] | None = None,
    ) -> Exclusion | None:
        """The first check the candidate fails, in the order the checks run."""
        j = cols.rows[i]
        loc = self.index.locations[j]
        exclusion = _status(loc) or _fit(loc, req, cols.fit[j]) or _capacity(loc, view, policy)
        if exclusion is not None:
            return exclusion
        limit = policy.constraints.max_distance_km
        dist = None if cols.distance is None else cols.distance[i]
        if limit is not None and dist is not None and dist > limit:
            return Exclusion("max_distance_exceeded", f"{dist:.0f} km > {limit:.0f} km")
        if any(cols.available[i]):
            return None
        blocked = cols.blocked(j) if blocked is None else blocked
        if blocked:
            names = ", ".join(sorted(set(blocked.values())))
            return Exclusion("product_rule", f"product rules keep the items away: {names}")
        return Exclusion("no_available_stock", "on-hand is reserved or safety stock")


@dataclass(frozen=True, slots=True)
class _Columns:
    """A screen's columns as Python values, and the verdicts that depend only on the
    location and the policy, looked up once for all its candidates."""

    rows: list[int]  # network index position of each candidate
    distance: list[float] | None
    available: list[list[int]]
    fit: list[Exclusion | None]  # by network index position
    rule_masks: list[tuple[str, list[tuple[str, BoolArray]]]]  # SKU -> (rule, blocks)

    @staticmethod
    def of(screen: Screen, req: SourcingRequest, policy: Policy) -> _Columns:
        c, index = policy.constraints, screen.index
        fit = index.per_location(
            ("why", c, req.channel, req.method),
            lambda x: _fit_rules(x, req.channel, req.method, c),
        )
        masks = [
            (sku, [(r.name, index.mask(("rule", r), _blocked_by(r))) for r in rules])
            for sku, rules in screen.rules.items()
        ]
        return _Columns(
            screen.candidates.tolist(),
            None if screen.distance is None else screen.distance.tolist(),
            screen.available.tolist(),
            fit,
            masks,
        )

    def blocked(self, j: int) -> dict[str, str]:
        blocked: dict[str, str] = {}
        for sku, rules in self.rule_masks:
            for name, blocks in rules:
                if blocks[j]:
                    blocked[sku] = name
                    break
        return blocked


def _fit(loc: Location, req: SourcingRequest, found: Exclusion | None) -> Exclusion | None:
    if loc.id in req.excluded_locations:
        return Exclusion("excluded_for_order", "location already failed this order")
    if found is None and _elsewhere(loc, req):
        return Exclusion("not_pickup_location", "customer collects at another store")
    return found


def _fits(index: NetworkIndex, c: Constraints, channel: str, method: DeliveryMethod) -> BoolArray:
    """The locations that may serve the channel and method under the constraints,
    whatever the order (status and rules only)."""
    return index.mask(
        ("fit", c, channel, method),
        lambda loc: _status(loc) is None and _fit_rules(loc, channel, method, c) is None,
    )


def serves_nowhere(
    policy: Policy, index: NetworkIndex, channel: str, method: DeliveryMethod
) -> bool:
    """No location of the network may serve the channel and method under any of the
    policy's sets of constraints (its own, each strategy's): every request so made is
    screened to no eligible location, whatever its SKUs and destination."""
    constraints = (policy.constraints, *(s.constraints for s in policy.strategies))
    # Asked for every option of every quote: the answer is kept with the index.
    return index.remembered(
        ("serves_nowhere", constraints, channel, method),
        lambda: not any(_fits(index, c, channel, method).any() for c in constraints),
    )


def screen(req: SourcingRequest, view: SourcingView, policy: Policy) -> Screen:
    """Screen every candidate at once (`Screen.explain` spells out each verdict)."""
    index = index_of(view.locations)
    stock = view.stock_columns(index, req.skus)
    # Column-major: the search sums and compares across a location's few SKUs, which
    # numpy does several times faster when each SKU's column is contiguous.
    candidates, available = stock.holders, np.asfortranarray(stock.available)
    pickup = index.position.get(req.pickup_location_id or "")
    if pickup is not None and pickup not in set(candidates.tolist()):
        candidates, available = _with_row(candidates, available, pickup)
    c = policy.constraints
    eligible = _fits(index, c, req.channel, req.method).take(candidates)
    _order_specific(eligible, candidates, index, req, view, policy)
    distance = None
    if req.destination is not None:
        distance = index.distances_km(candidates, req.destination)
        if c.max_distance_km is not None:
            eligible &= distance <= c.max_distance_km
    rules = _rules_by_sku(req, view, policy)
    available = _apply_product_rules(available, candidates, stock.skus, rules, index)
    # One SKU: its column as it is (a reduction over one column costs several times more).
    eligible &= available[:, 0] > 0 if available.shape[1] == 1 else available.any(axis=1)
    return Screen(index, stock.skus, candidates, distance, available, eligible, rules)


def _with_row(candidates: IntArray, available: IntArray, row: int) -> tuple[IntArray, IntArray]:
    at = int(np.searchsorted(candidates, row))
    zeros = np.zeros(available.shape[1], dtype=available.dtype)
    return (
        np.insert(candidates, at, row),
        np.asfortranarray(np.insert(available, at, zeros, axis=0)),
    )


def _order_specific(
    eligible: BoolArray,
    candidates: IntArray,
    index: NetworkIndex,
    req: SourcingRequest,
    view: SourcingView,
    policy: Policy,
) -> None:
    """Exclusions of this order (failed before, another pick-up store, capacity used)."""

    def row(loc_id: str | None) -> int | None:
        j = index.position.get(loc_id or "")
        return None if j is None else row_in(candidates, j)

    for loc_id in req.excluded_locations:
        i = row(loc_id)
        if i is not None:
            eligible[i] = False
    if req.method.collects_at_store and req.pickup_location_id is not None:
        keep = row(req.pickup_location_id)
        eligible[:] = False if keep is None else eligible & (np.arange(len(eligible)) == keep)
    if policy.constraints.respect_capacity:
        for loc_id, (orders, units) in view.load.items():
            j = index.position.get(loc_id)
            if j is not None and _full(index.locations[j], orders, units):
                i = row(loc_id)
                if i is not None:
                    eligible[i] = False


def _apply_product_rules(
    available: IntArray,
    candidates: IntArray,
    skus: tuple[str, ...],
    rules: dict[str, tuple[ProductRule, ...]],
    index: NetworkIndex,
) -> IntArray:
    if not rules:
        return available
    available = available.copy(order="F")
    for col, sku in enumerate(skus):
        for rule in rules.get(sku, ()):
            blocks = index.mask(("rule", rule), _blocked_by(rule))
            available[blocks.take(candidates), col] = 0
    return available


def _blocked_by(rule: ProductRule) -> Callable[[Location], bool]:
    def test(loc: Location) -> bool:
        return rule.blocks(rule.product_tags, loc)

    return test


def _rules_by_sku(
    req: SourcingRequest, view: SourcingView, policy: Policy
) -> dict[str, tuple[ProductRule, ...]]:
    """The product rules that may apply to each tagged SKU (most SKUs carry no tag)."""
    rules = policy.constraints.product_rules
    out: dict[str, tuple[ProductRule, ...]] = {}
    for sku in req.skus:
        tags = view.product_tags.get(sku)
        if tags:
            relevant = _relevant(tags, rules)
            if relevant:
                out[sku] = relevant
    return out


@lru_cache(maxsize=1024)
def _relevant(tags: frozenset[str], rules: tuple[ProductRule, ...]) -> tuple[ProductRule, ...]:
    return tuple(r for r in (*BUILT_IN_RULES, *rules) if r.product_tags & tags)
