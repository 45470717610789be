"""The objective as arrays: what each eligible location costs to use and what each unit
from it costs, with every optional term of the policy's `Costs`.

A plan's cost is Σ over its shipments of a fixed part (per shipment or the carrier's
parcel price, handling, promise risk, capacity load, split penalty) and Σ over its units
of a unit cost (per unit, per unit-km, a parcel for each ship-alone unit, the unit's
future value, and a penalty for a store's last units). The split penalty is paid by every
shipment but the first, so the search adds it to each and takes one off the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

import numpy as np

from ordergrid.domain.network import Location
from ordergrid.domain.promise.carrier_calendar import NOWHERE, DeliveryArea
from ordergrid.domain.promise.dates import keeps_promise, service_key
from ordergrid.domain.sourcing.network_index import BoolArray, FloatArray, IntArray, NetworkIndex
from ordergrid.domain.sourcing.policy import Costs, Policy
from ordergrid.domain.sourcing.screening import Screen
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

SHIP_ALONE = "ship-alone"  # product tag: every unit travels in a parcel of its own
STANDARD = "standard"


@dataclass(eq=False)
class Problem:
    """One request under one set of rules, ready for the search.

    Rows are the eligible locations (id order), columns the request's SKUs. Each
    location offers its units in two tiers: the first `base` units at `unit` cost, the
    rest (its protected last units) at `unit + extra`."""

    index: NetworkIndex
    network_rows: IntArray  # positions of the eligible locations in the network index
    distance: FloatArray | None
    skus: tuple[str, ...]
    demand: IntArray  # units wanted per SKU
    total: int
    available: IntArray  # (locations, skus)
    base: IntArray  # (locations, skus): units before the protected last ones
    unit: FloatArray  # (locations, skus)
    extra: FloatArray  # (locations,): added per protected unit
    fixed: FloatArray  # (locations,): per shipment, split penalty included
    split: float
    used: BoolArray  # (locations,): already shipping part of the order
    budget: int  # locations not yet used that may still be added
    max_shipments: int
    costs: Costs
    service_level: str
    weights: FloatArray  # (skus,) kg
    ship_alone: BoolArray  # (skus,)
    shadow: FloatArray  # (locations, skus) future value of a unit, weighted
    load: Mapping[str, tuple[int, int]]
    now: datetime
    #: (locations,): added where a shipment would break the date promised to the customer.
    broken_promise: FloatArray | None = None

    @property
    def parcel_priced(self) -> bool:
        """A rate card prices the ordinary parcel by its weight."""
        return self.costs.rate_card is not None

    @cached_property
    def location_ids(self) -> tuple[str, ...]:
        return tuple(self.index.ids[j] for j in self.network_rows.tolist())

    def location_id(self, row: int) -> str:
        return self.index.ids[int(self.network_rows[row])]

    def location(self, row: int) -> Location:
        return self.index.locations[int(self.network_rows[row])]

    def km(self, row: int) -> float:
        return 0.0 if self.distance is None else float(self.distance[row])

    def fixed_parts(self, row: int) -> dict[str, float]:
        """What `fixed` is made of for one location (the split penalty aside)."""
        parts = _fixed_parts(
            self.costs, self.location(row), self.km(row), self.service_level, self.load, self.now
        )
        if self.broken_promise is not None and self.broken_promise[row]:
            parts["broken_promise"] = float(self.broken_promise[row])
        return parts

    def __len__(self) -> int:
        return len(self.network_rows)


def demand_of(req: SourcingRequest, skus: tuple[str, ...]) -> IntArray:
    wanted = dict.fromkeys(skus, 0)
    for units in req.lines:
        wanted[units.sku] += units.quantity
    return np.array([wanted[s] for s in skus], dtype=np.int64)


def service_level_of(req: SourcingRequest) -> str:
    return req.facts.service_level if req.facts is not None else STANDARD


def build_problem(
    req: SourcingRequest, view: SourcingView, policy: Policy, screen: Screen, now: datetime
) -> Problem:
    rows = np.flatnonzero(screen.eligible)
    net = screen.candidates[rows]
    index, costs = screen.index, policy.costs
    if req.promised_by is not None:
        # The date the customer was shown replaces the service level's generic days.
        costs = replace(costs, promise_risk_penalty=0.0)
    distance = None if screen.distance is None else screen.distance[rows]
    km = np.zeros(len(rows)) if distance is None else distance
    skus = screen.skus
    level = service_level_of(req)
    weights = np.array(
        [view.weights.get(s, _default_weight(costs)) for s in skus], dtype=np.float64
    )
    ship_alone = np.array([SHIP_ALONE in view.product_tags.get(s, ()) for s in skus], dtype=bool)
    available = screen.available[rows]
    shadow = _shadow(view, index, net, skus, costs.scarcity_weight)
    unit = _unit_costs(costs, km, weights, ship_alone, level) + shadow
    keep = costs.protect_last_units if costs.last_units_penalty > 0 else 0
    if keep:
        types = costs.protect_location_types
        protected = index.mask(("protect", types), lambda loc: loc.type.value in types)[net]
        base = np.where(protected[:, None], np.maximum(available - keep, 0), available)
        extra = np.where(protected, costs.last_units_penalty, 0.0)
    else:
        base, extra = available, np.zeros(len(rows))
    used = np.zeros(len(rows), dtype=bool)
    for loc_id in req.used_locations:
        used |= net == index.position.get(loc_id, -1)
    demand = demand_of(req, skus)
    broken = None
    if req.promised_by is not None:
        broken = _broken_promise(policy, index, net, km, req, req.promised_by, now)
    fixed = _fixed(costs, index, net, km, level, view.load, now) + costs.split_penalty
    return Problem(
        index=index,
        network_rows=net,
        distance=distance,
        skus=skus,
        demand=demand,
        total=int(demand.sum()),
        available=available,
        base=base,
        unit=unit,
        extra=extra,
        fixed=fixed if broken is None else fixed + broken,
        split=costs.split_penalty,
        used=used,
        budget=policy.constraints.max_shipments - len(req.used_locations),
        max_shipments=policy.constraints.max_shipments,
        costs=costs,
        service_level=level,
        weights=weights,
        ship_alone=ship_alone,
        shadow=shadow,
        load=view.load,
        now=now,
        broken_promise=broken,
    )


def _broken_promise(
    policy: Policy,
    index: NetworkIndex,
    net: IntArray,
    km: FloatArray,
    req: SourcingRequest,
    promised: datetime,
    now: datetime,
) -> FloatArray:
    """Per location, the penalty for missing the promised day by its cut-off,
    processing and transit (the policy's promise-risk price, else the promise rules')."""
    penalty = policy.costs.promise_risk_penalty or policy.promise.broken_promise_penalty
    service = service_key(req.method.value, service_level_of(req))
    facts = req.facts
    area = NOWHERE if facts is None else DeliveryArea.of(facts.country, facts.region)
    out = np.zeros(len(net), dtype=np.float64)
    for row, j in enumerate(net.tolist()):
        loc = index.locations[j]
        if not keeps_promise(loc, float(km[row]), service, now, policy.promise, promised, area):
            out[row] = penalty
    return out


def _fixed(
    costs: Costs,
    index: NetworkIndex,
    net: IntArray,
    km: FloatArray,
    level: str,
    load: Mapping[str, tuple[int, int]],
    now: datetime,
) -> FloatArray:
    """Per location, what using it costs whatever it ships: the parts of `_fixed_parts`,
    worked out for all at once (the optional ones only when the policy asks)."""
    per_type = costs.handling_per_shipment
    key = ("handling", tuple(sorted(per_type.items())))
    handling = index.column(key, lambda loc: loc.handling_cost + per_type.get(loc.type.value, 0.0))
    fixed: FloatArray = handling[net] + (costs.per_shipment if costs.rate_card is None else 0.0)
    if costs.promise_risk_penalty:
        for row, j in enumerate(net.tolist()):
            loc = index.locations[j]
            if not meets_service_level(costs, loc, float(km[row]), level, now):
                fixed[row] += costs.promise_risk_penalty
    if costs.capacity_load:
        rows = {j: row for row, j in enumerate(net.tolist())}
        for loc_id, taken in load.items():
            row = rows.get(index.position.get(loc_id, -1), -1)
            if row >= 0:
                fixed[row] += costs.capacity_load * utilisation(index.locations[net[row]], taken)
    return fixed


def _default_weight(costs: Costs) -> float:
    return costs.rate_card.default_weight_kg if costs.rate_card is not None else 1.0


def _unit_costs(
    costs: Costs, km: FloatArray, weights: FloatArray, ship_alone: BoolArray, level: str
) -> FloatArray:
    """Per unit: handling of the unit, transport by distance, and a parcel of its own for
    a ship-alone item (priced like any parcel: per shipment, or by the rate card)."""
    n, s = len(km), len(weights)
    card = costs.rate_card
    if card is None:
        unit: FloatArray = np.add.outer(
            costs.per_unit + costs.per_unit_km * km, np.where(ship_alone, costs.per_shipment, 0.0)
        )
        return unit
    unit = np.full((n, s), costs.per_unit, dtype=np.float64)
    for col in np.flatnonzero(ship_alone):
        unit[:, col] += [card.price(level, float(k), float(weights[col])) for k in km]
    return unit


def _shadow(
    view: SourcingView, index: NetworkIndex, net: IntArray, skus: tuple[str, ...], weight: float
) -> FloatArray:
    out = np.zeros((len(net), len(skus)), dtype=np.float64)
    prices = view.shadow_prices
    if not prices or weight == 0:
        return out
    for i, j in enumerate(net.tolist()):
        for c, sku in enumerate(skus):
            out[i, c] = weight * prices.get((index.ids[j], sku), 0.0)
    return out


def _fixed_parts(
    costs: Costs,
    loc: Location,
    km: float,
    level: str,
    load: Mapping[str, tuple[int, int]],
    now: datetime,
) -> dict[str, float]:
    """What using the location costs whatever it ships (the rate card's parcel price
    depends on the weight, so it is added when the plan is known)."""
    parts = {"handling": costs.handling(loc)}
    if costs.rate_card is None:
        parts = {"per_shipment": costs.per_shipment, **parts}
    if costs.promise_risk_penalty and not meets_service_level(costs, loc, km, level, now):
        parts["promise_risk"] = costs.promise_risk_penalty
    if costs.capacity_load:
        used = utilisation(loc, load.get(loc.id, (0, 0)))
        if used:
            parts["capacity_load"] = costs.capacity_load * used
    return parts


def meets_service_level(costs: Costs, loc: Location, km: float, level: str, now: datetime) -> bool:
    """Whether a parcel handed over at the location's next cut-off and then in transit
    arrives within the days the service level promises."""
    promised = costs.service_days.get(level)
    if promised is None:
        return True
    return dispatch_delay_days(loc, now) + costs.transit(km) <= promised


def dispatch_delay_days(loc: Location, now: datetime) -> int:
    """0 when the order is in before today's cut-off (UTC), else 1."""
    if loc.cutoff_utc is None:
        return 0
    cutoff = now.replace(
        hour=loc.cutoff_utc.hour, minute=loc.cutoff_utc.minute, second=0, microsecond=0
    )
    return 0 if now < cutoff else 1


def utilisation(loc: Location, load: tuple[int, int]) -> float:
    """The larger share of today's orders or units capacity already taken (0 to 1)."""
    orders, units = load
    shares = [0.0]
    if loc.orders_per_day:
        shares.append(orders / loc.orders_per_day)
    if loc.units_per_day:
        shares.append(units / loc.units_per_day)
    return min(1.0, max(shares))


def parcel_price(problem: Problem, row: int, takes: Mapping[int, int]) -> float:
    """The rate card's price of the ordinary parcel of a shipment (0 without one)."""
    card = problem.costs.rate_card
    if card is None:
        return 0.0
    kg = sum(problem.weights[s] * n for s, n in takes.items() if not problem.ship_alone[s])
    if kg <= 0:
        return 0.0
    return card.price(problem.service_level, problem.km(row), float(kg))
