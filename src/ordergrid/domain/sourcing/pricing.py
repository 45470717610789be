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
from ordergrid.domain.sourcing.network_index import (
    BoolArray,
    FloatArray,
    IntArray,
    NetworkIndex,
    take_rows,
    where,
)
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
    #: What `fixed` is made of (the split penalty aside), part by part: see `FIXED_PARTS`.
    fixed_columns: dict[str, FloatArray]
    #: Some location's last units cost more (`base` < `available` somewhere).
    protects: bool = False

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
        return {
            name: value
            for name, column in self.fixed_columns.items()
            if (value := float(column[row])) or name in ALWAYS_SHOWN
        }

    def __len__(self) -> int:
        return len(self.network_rows)


def _wanted(req: SourcingRequest, skus: tuple[str, ...]) -> list[int]:
    """Units wanted of each SKU, in the order of `skus`."""
    wanted = dict.fromkeys(skus, 0)
    for units in req.lines:
        wanted[units.sku] += units.quantity
    return [wanted[s] for s in skus]


def service_level_of(req: SourcingRequest) -> str:
    return req.facts.service_level if req.facts is not None else STANDARD


def build_problem(
    req: SourcingRequest, view: SourcingView, policy: Policy, screen: Screen, now: datetime
) -> Problem:
    rows = where(screen.eligible)
    net = screen.candidates.take(rows)
    index, costs = screen.index, policy.costs
    if req.promised_by is not None:
        # The date the customer was shown replaces the service level's generic days.
        costs = replace(costs, promise_risk_penalty=0.0)
    distance = None if screen.distance is None else screen.distance.take(rows)
    km = np.zeros(len(rows)) if distance is None else distance
    skus = screen.skus
    level = service_level_of(req)
    weights = np.array(
        [view.weights.get(s, _default_weight(costs)) for s in skus], dtype=np.float64
    )
    alone = [SHIP_ALONE in view.product_tags.get(s, ()) for s in skus]
    ship_alone = np.array(alone, dtype=bool)
    # Column-major, as the screen's: see `screen`.
    available = np.asfortranarray(take_rows(screen.available, rows))
    shadow = _shadow(view, index, net, skus, costs.scarcity_weight)
    unit = _unit_costs(costs, km, weights, alone, level)
    if shadow is not None:
        unit += shadow
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
    wanted = _wanted(req, skus)
    demand = np.array(wanted, dtype=np.int64)
    broken = None
    if req.promised_by is not None:
        broken = _broken_promise(policy, index, net, km, req, req.promised_by, now)
    fixed_columns = _fixed_columns(costs, index, net, km, level, view.load, now)
    if broken is not None:
        fixed_columns["broken_promise"] = broken
    fixed = _fixed(fixed_columns, costs.split_penalty)
    return Problem(
        index=index,
        network_rows=net,
        distance=distance,
        skus=skus,
        demand=demand,
        total=sum(wanted),
        available=available,
        base=base,
        unit=unit,
        extra=extra,
        fixed=fixed,
        split=costs.split_penalty,
        used=used,
        budget=policy.constraints.max_shipments - len(req.used_locations),
        max_shipments=policy.constraints.max_shipments,
        costs=costs,
        service_level=level,
        weights=weights,
        ship_alone=ship_alone,
        shadow=np.zeros(unit.shape, order="F") if shadow is None else shadow,
        fixed_columns=fixed_columns,
        protects=bool(keep) and bool(extra.any()),
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


#: The parts of a location's fixed cost, in the order explanations list them. A part
#: the policy does not use is absent; of the others, the first two are shown even when
#: 0, the rest only where they apply (a location that makes the cut-off has no
#: `promise_risk`).
FIXED_PARTS = ("per_shipment", "handling", "promise_risk", "capacity_load", "broken_promise")
ALWAYS_SHOWN = frozenset(FIXED_PARTS[:2])


def _fixed_columns(
    costs: Costs,
    index: NetworkIndex,
    net: IntArray,
    km: FloatArray,
    level: str,
    load: Mapping[str, tuple[int, int]],
    now: datetime,
) -> dict[str, FloatArray]:
    """Per location, what using it costs whatever it ships, part by part (the rate
    card's parcel price depends on the weight: it is added when the plan is known)."""
    per_type = costs.handling_per_shipment
    key = ("handling", tuple(sorted(per_type.items())))
    handling = index.column(key, lambda loc: loc.handling_cost + per_type.get(loc.type.value, 0.0))
    columns: dict[str, FloatArray] = {}
    if costs.rate_card is None:
        columns["per_shipment"] = np.full(len(net), costs.per_shipment)
    columns["handling"] = handling.take(net)
    if costs.promise_risk_penalty:
        late = [
            not meets_service_level(costs, index.locations[j], float(km[row]), level, now)
            for row, j in enumerate(net.tolist())
        ]
        columns["promise_risk"] = np.where(late, costs.promise_risk_penalty, 0.0)
    if costs.capacity_load:
        rows = {j: row for row, j in enumerate(net.tolist())}
        busy = np.zeros(len(net))
        for loc_id, taken in load.items():
            row = rows.get(index.position.get(loc_id, -1), -1)
            if row >= 0:
                busy[row] = costs.capacity_load * utilisation(index.locations[net[row]], taken)
        columns["capacity_load"] = busy
    return columns


def _fixed(columns: dict[str, FloatArray], split: float) -> FloatArray:
    """Per location, the sum of the fixed parts and the split penalty (there is always
    a handling part)."""
    parts = iter(columns.values())
    total: FloatArray = next(parts) + split
    for part in parts:
        total += part
    return total


def _default_weight(costs: Costs) -> float:
    return costs.rate_card.default_weight_kg if costs.rate_card is not None else 1.0


def _unit_costs(
    costs: Costs, km: FloatArray, weights: FloatArray, ship_alone: list[bool], level: str
) -> FloatArray:
    """Per unit: handling of the unit, transport by distance, and a parcel of its own for
    a ship-alone item (priced like any parcel: per shipment, or by the rate card).
    Column-major, as the stock (see `screen`)."""
    n, s = len(km), len(weights)
    card = costs.rate_card
    alone = [col for col, flag in enumerate(ship_alone) if flag]
    if card is None:
        by_km = costs.per_unit_km * km
        by_km += costs.per_unit
        if s == 1 and not alone:  # one SKU: the column is the array (either order)
            one: FloatArray = by_km.reshape(n, 1)
            return one
        unit: FloatArray = np.empty((n, s), dtype=np.float64, order="F")
        unit[:] = by_km[:, None]
        for col in alone:
            unit[:, col] += costs.per_shipment
        return unit
    unit = np.empty((n, s), dtype=np.float64, order="F")
    unit.fill(costs.per_unit)
    for col in alone:
        unit[:, col] += [card.price(level, float(k), float(weights[col])) for k in km]
    return unit


def _shadow(
    view: SourcingView, index: NetworkIndex, net: IntArray, skus: tuple[str, ...], weight: float
) -> FloatArray | None:
    """The weighted future value of each unit; None when no unit has any."""
    prices = view.shadow_prices
    if not prices or weight == 0:
        return None
    out = np.zeros((len(net), len(skus)), dtype=np.float64, order="F")
    for i, j in enumerate(net.tolist()):
        for c, sku in enumerate(skus):
            out[i, c] = weight * prices.get((index.ids[j], sku), 0.0)
    return out


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
