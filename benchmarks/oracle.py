"""The exact optimum of one order's sourcing, by a MIP solved with HiGHS: the oracle the
sourcing benchmark compares the engine's plans to.

It is written independently of the engine (nothing of `ordergrid.domain.sourcing` beyond
the policy's cost constants is used) and mirrors what the engine must do for a ship-to-home
order under the default policy:

- eligible locations: active, able to ship, serving the order's channel; the built-in
  product rules zero what they forbid (`dropship-only` SKUs only from dropship vendors,
  `not-from-store` SKUs never from stores or dark stores);
- variables: x[j,s] units of SKU s from location j (integer, 0..min(available, demand)),
  y[j] = 1 when location j ships; x[j,s] <= min(available, demand)*y[j] (the per-SKU form
  of sum_s x[j,s] <= available_j*y[j]: the same integer solutions, a tighter relaxation);
  sum_j x[j,s] <= demand[s]; sum_j y[j] <= max_shipments;
- objective, lexicographic: most units placed first (each unit earns a bonus larger than
  any plan's whole cost), then the least cost
  sum_j y[j]*(per_shipment + handling(j)) + sum x[j,s]*(per_unit + per_unit_km*km(j)),
  handling(j) = the location's handling cost + the policy's handling per shipment of its
  type, km = great-circle distance to the destination.

Not a benchmark itself (`run_all.py` skips it); `sourcing.py` and the tests import it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from ordergrid.domain.network import Capability, Location, LocationStatus, LocationType
from ordergrid.domain.sourcing.policy import Costs

EARTH_RADIUS_KM = 6371.0088
DROPSHIP_ONLY = "dropship-only"
NOT_FROM_STORE = "not-from-store"
_STORE_TYPES = frozenset({LocationType.STORE, LocationType.DARK_STORE})

Shipments = Mapping[str, Mapping[str, int]]  # location id -> SKU -> units


@dataclass(frozen=True, eq=False)
class Instance:
    """One order's question: the locations holding its SKUs and what each may give."""

    locations: tuple[Location, ...]
    skus: tuple[str, ...]
    tags: tuple[frozenset[str], ...]  # per SKU
    demand: tuple[int, ...]  # units wanted, per SKU
    available: NDArray[np.int64]  # (locations, SKUs), never below 0
    destination: tuple[float, float]
    channel: str = "web"

    @classmethod
    def of_stock(
        cls,
        locations: Sequence[Location],
        stock: Sequence[tuple[NDArray[np.integer], NDArray[np.integer]]],
        skus: Sequence[str],
        tags: Sequence[frozenset[str]],
        demand: Sequence[int],
        destination: tuple[float, float],
        channel: str = "web",
    ) -> Instance:
        """From per-SKU stock given as (location indices into `locations`, available)."""
        rows = np.unique(np.concatenate([h for h, _ in stock])) if stock else np.zeros(0, int)
        available = np.zeros((len(rows), len(skus)), dtype=np.int64)
        for s, (holder, units) in enumerate(stock):
            available[np.searchsorted(rows, holder), s] = np.maximum(units, 0)
        return cls(
            tuple(locations[i] for i in rows.tolist()),
            tuple(skus),
            tuple(tags),
            tuple(demand),
            available,
            destination,
            channel,
        )

    @property
    def units(self) -> int:
        return sum(self.demand)


@dataclass(frozen=True)
class Solution:
    units: int
    cost: float
    shipments: dict[str, dict[str, int]]
    seconds: float


def km_to(locations: Sequence[Location], point: tuple[float, float]) -> NDArray[np.float64]:
    """Great-circle (haversine) km from each location to a point."""
    lat1 = np.radians([loc.lat for loc in locations])
    lon1 = np.radians([loc.lon for loc in locations])
    lat2, lon2 = np.radians(point[0]), np.radians(point[1])
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    km: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return km


def _location_ok(loc: Location, channel: str) -> bool:
    return (
        loc.status is LocationStatus.ACTIVE
        and Capability.SHIP in loc.capabilities
        and (not loc.channels or channel in loc.channels)
    )


def _rule_allows(tags: frozenset[str], loc: Location) -> bool:
    if DROPSHIP_ONLY in tags and loc.type is not LocationType.DROPSHIP:
        return False
    return not (NOT_FROM_STORE in tags and loc.type in _STORE_TYPES)


def usable(inst: Instance) -> NDArray[np.int64]:
    """What each location may give for this order: available where eligible, else 0."""
    ok = np.array(
        [
            [_location_ok(loc, inst.channel) and _rule_allows(t, loc) for t in inst.tags]
            for loc in inst.locations
        ],
        dtype=bool,
    ).reshape(inst.available.shape)
    return np.where(ok, inst.available, 0)


def unit_and_fixed(inst: Instance, costs: Costs) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per location: cost per unit shipped, and cost of shipping at all."""
    per_unit = costs.per_unit + costs.per_unit_km * km_to(inst.locations, inst.destination)
    fixed = np.array(
        [
            costs.per_shipment
            + loc.handling_cost
            + costs.handling_per_shipment.get(loc.type.value, 0.0)
            for loc in inst.locations
        ]
    )
    return per_unit, fixed


def plan_cost(inst: Instance, shipments: Shipments, costs: Costs) -> float:
    """What a plan costs under the objective above."""
    per_unit, fixed = unit_and_fixed(inst, costs)
    row = {loc.id: i for i, loc in enumerate(inst.locations)}
    total = 0.0
    for loc_id, units in shipments.items():
        n = sum(units.values())
        if n:
            j = row[loc_id]
            total += float(fixed[j]) + n * float(per_unit[j])
    return total


def violations(inst: Instance, shipments: Shipments, max_shipments: int) -> list[str]:
    """Why a plan is not allowed (empty when it is)."""
    can = usable(inst)
    row = {loc.id: i for i, loc in enumerate(inst.locations)}
    col = {sku: s for s, sku in enumerate(inst.skus)}
    out: list[str] = []
    used = [loc_id for loc_id, units in shipments.items() if sum(units.values())]
    if len(used) > max_shipments:
        out.append(f"{len(used)} shipments > {max_shipments}")
    placed = np.zeros(len(inst.skus), dtype=np.int64)
    for loc_id, units in shipments.items():
        for sku, n in units.items():
            if loc_id not in row or sku not in col:
                out.append(f"{n} x {sku} from {loc_id}: not a position of the order")
                continue
            j, s = row[loc_id], col[sku]
            placed[s] += n
            if n > can[j, s]:
                out.append(f"{n} x {sku} from {loc_id}: only {int(can[j, s])} allowed")
    for s, sku in enumerate(inst.skus):
        if placed[s] > inst.demand[s]:
            out.append(f"{int(placed[s])} x {sku} placed, {inst.demand[s]} wanted")
    return out


def _silent_highs() -> highspy.Highs:
    """A HiGHS instance with output off; HiGHS prints a banner on its first construction,
    before options can turn output off, so standard output is closed around it."""
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-9)
    return h


_highs: list[highspy.Highs] = []


def highs() -> highspy.Highs:
    """The oracle's HiGHS instance, made once per process (call it early: the banner is
    printed by the first instance a process makes, whoever makes it)."""
    if not _highs:
        _highs.append(_silent_highs())
    return _highs[0]


def solve(inst: Instance, costs: Costs, max_shipments: int) -> Solution:
    """The optimal plan (most units, then least cost) of at most `max_shipments`
    locations."""
    started = time.perf_counter()
    can = np.minimum(usable(inst), np.array(inst.demand, dtype=np.int64)[None, :])
    rows = np.flatnonzero(can.sum(axis=1) > 0)
    if len(rows) == 0 or max_shipments <= 0:
        return Solution(0, 0.0, {}, time.perf_counter() - started)
    can = can[rows]
    per_unit, fixed = unit_and_fixed(inst, costs)
    per_unit, fixed = per_unit[rows], fixed[rows]
    bonus = 1.0 + max_shipments * float(fixed.max()) + inst.units * float(per_unit.max())
    loc_of, sku_of = np.nonzero(can)  # one x per (location, SKU) it may give
    n_x, n_y = len(loc_of), len(rows)
    lp = highspy.HighsLp()
    lp.num_col_ = n_x + n_y
    lp.col_cost_ = np.concatenate([per_unit[loc_of] - bonus, fixed])
    lp.col_lower_ = np.zeros(n_x + n_y)
    lp.col_upper_ = np.concatenate([can[loc_of, sku_of].astype(float), np.ones(n_y)])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (n_x + n_y)
    starts, index, value, upper = [0], [], [], []
    for s in range(len(inst.skus)):  # sum_j x[j,s] <= demand[s]
        cols = np.flatnonzero(sku_of == s)
        index += cols.tolist()
        value += [1.0] * len(cols)
        starts.append(len(index))
        upper.append(float(inst.demand[s]))
    for k in range(n_x):  # x[j,s] - cap[j,s]*y[j] <= 0
        index += [k, n_x + int(loc_of[k])]
        value += [1.0, -float(can[loc_of[k], sku_of[k]])]
        starts.append(len(index))
        upper.append(0.0)
    index += list(range(n_x, n_x + n_y))  # sum_j y[j] <= max_shipments
    value += [1.0] * n_y
    starts.append(len(index))
    upper.append(float(max_shipments))
    lp.num_row_ = len(upper)
    lp.row_lower_ = np.full(len(upper), -highspy.kHighsInf)
    lp.row_upper_ = np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    h = highs()
    if h.passModel(lp) != highspy.HighsStatus.kOk or h.run() == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS could not solve the model of {len(inst.skus)} SKUs")
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS: {h.modelStatusToString(status)}")
    x = np.rint(np.asarray(h.getSolution().col_value[:n_x])).astype(np.int64)
    shipments: dict[str, dict[str, int]] = {}
    for k in np.flatnonzero(x > 0).tolist():
        loc_id = inst.locations[rows[loc_of[k]]].id
        shipments.setdefault(loc_id, {})[inst.skus[sku_of[k]]] = int(x[k])
    return Solution(
        units=int(x.sum()),
        cost=plan_cost(inst, shipments, costs),
        shipments=shipments,
        seconds=time.perf_counter() - started,
    )
