"""Shadow prices of stock: what a unit at a location is worth to the orders still to come.

A myopic engine takes the cheapest plan for the order in front of it, even when that
plan uses a location's last units of a SKU that its own neighbourhood will ask for
later; those customers are then served from farther away, in more parcels, or not at
all. A linear programme over the demand expected until stock is next replenished says
what each unit is worth: λ[j,s], how much the expected future cost rises when one unit
of SKU s at location j is used now. Sourcing adds `Costs.scarcity_weight x λ` per unit
to the cost of taking it (the cost part "scarcity").

Two models, same output (`{(location_id, sku): price}`, only prices above zero):

- `shadow_prices`: the transportation LP of Acimovic & Graves (2015, M&SOM, "Making
  better fulfillment decisions on the fly in an online retail environment") over
  expected units by region and SKU:

      min  Σ c[j,r]·x[j,r] + Σ penalty[r]·u[r]          (one LP per SKU: they decompose)
      s.t. Σ_r x[j,r] ≤ supply[j]                        λ[j] ≥ 0
           Σ_j x[j,r] + u[r] = demand[r]

  Small and fast, but blind to parcels: it sees a unit kept from a region as a few
  cents of extra distance, when what the region's next order really pays is often a
  second shipment.

- `order_shadow_prices`: the same question over expected *orders* (each a destination
  and its lines, e.g. the recent orders scaled to the horizon), in the spirit of the
  order-type LPs of Jasin & Sinha (2015, Management Science): each expected order is
  served by a convex combination of whole plans, each plan paying its shipments:

      min  Σ_p cost[p]·z[p]
      s.t. Σ_{p of o} z[p] = count[o]                     every expected order
           Σ_p units[p,j,s]·z[p] ≤ supply[j,s]            λ[j,s] ≥ 0

  solved by column generation: the best plan of an order at prices λ is a small
  facility-location problem over its `max_locations` cheapest candidate locations,
  enumerated exactly. It sees that the last units of a SKU at a location keep that
  location's customers in one parcel, which is most of their value. In the quality
  benchmark (`benchmarks/quality.py`, prices from the recent orders, re-solved every
  100 orders) it removed 69% of the myopic-to-clairvoyant gap at `scarcity_weight` 1;
  the transportation LP removed 36% (as Acimovic & Graves report), and only at weight 4.

Costs are the policy's formula: per shipment plus handling (`Costs.fixed`), per unit,
per unit-km over the great-circle distance. Only active locations that can ship take
part: the prices are for shipped demand. Pure: no I/O, no clock, no randomness; HiGHS's
simplex is deterministic for the same input, and rows and columns are built in a sorted
order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from math import floor

import highspy
import numpy as np
import numpy.typing as npt
from highspy._core import _Highs

from ordergrid.domain.geo import EARTH_RADIUS_KM, great_circle_km
from ordergrid.domain.network import Capability, Location
from ordergrid.domain.sourcing.policy import Costs
from ordergrid.domain.sourcing.view import SourcingRequest

__all__ = [
    "DEFAULT_MAX_LOCATIONS",
    "DEFAULT_UNITS_PER_SHIPMENT",
    "DemandObservation",
    "ExpectedOrder",
    "RegionDemand",
    "ShadowPriceError",
    "expected_demand",
    "expected_orders",
    "observations_of",
    "order_shadow_prices",
    "shadow_prices",
]

#: Units over which the transportation LP shares a shipment's fixed cost (see
#: `shadow_prices`); None: no share.
DEFAULT_UNITS_PER_SHIPMENT: float | None = 2.0
#: Candidate locations per expected order in `order_shadow_prices`: 2**k plans each.
DEFAULT_MAX_LOCATIONS = 10
DEFAULT_MAX_ROUNDS = 60
_PRICE_FLOOR = 1e-7  # below: solver noise, not value
_DECIMALS = 4
_TIGHTER = 1e-5  # relative: see `_master`
Key = tuple[str, str]  # (location id, SKU)
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ShadowPriceError(RuntimeError):
    """The LP could not be solved (it is always feasible: a sign of bad input)."""

    code = "shadow_price_lp_failed"


def _shipping_sites(locations: Iterable[Location]) -> list[Location]:
    usable = (loc for loc in locations if loc.usable and Capability.SHIP in loc.capabilities)
    return sorted(usable, key=lambda loc: loc.id)


def _km(locations: Sequence[Location], points: Sequence[tuple[float, float]]) -> FloatArray:
    """Great-circle km from each location to each point: geo's haversine, vectorised."""
    lat1 = np.radians([loc.lat for loc in locations])[:, None]
    lon1 = np.radians([loc.lon for loc in locations])[:, None]
    lat2 = np.radians([p[0] for p in points])[None, :]
    lon2 = np.radians([p[1] for p in points])[None, :]
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    km: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return km


def _solved(h: _Highs) -> float:
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise ShadowPriceError(f"shadow price LP not solved: {h.modelStatusToString(status)}")
    return float(h.getInfo().objective_function_value)


def _solver() -> _Highs:
    # The bare binding: highspy's `Highs` wrapper adds callback machinery that prints a
    # banner on construction, and domain code writes nothing.
    h = _Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "simplex")
    return h


def _rounded(prices: Iterable[tuple[Key, float]]) -> dict[Key, float]:
    return {k: round(float(p), _DECIMALS) for k, p in prices if p > _PRICE_FLOOR}


# ---------------------------------------------------- expected units by region (A&G)


@dataclass(frozen=True, slots=True)
class RegionDemand:
    """Units of a SKU expected from a region (its centre point) over the horizon."""

    lat: float
    lon: float
    sku: str
    expected_units: float
    #: What a unit left unfilled here costs; None: the caller's `unfilled_unit_cost`.
    unfilled_unit_cost: float | None = None


@dataclass(frozen=True, slots=True)
class DemandObservation:
    """Units of a SKU an order asked for, where it was to be delivered."""

    lat: float
    lon: float
    sku: str
    units: int


def observations_of(requests: Iterable[SourcingRequest]) -> list[DemandObservation]:
    """What shipped requests asked for, by destination (pick-ups carry none: they are
    served at their store and do not draw on the network's shipping stock)."""
    out: list[DemandObservation] = []
    for req in requests:
        if req.destination is not None:
            lat, lon = req.destination
            out.extend(DemandObservation(lat, lon, u.sku, u.quantity) for u in req.lines)
    return out


def _scale(observed_span: timedelta, horizon: timedelta) -> float:
    if observed_span <= timedelta(0):
        raise ValueError("observed_span must be positive")
    if horizon < timedelta(0):
        raise ValueError("horizon must not be negative")
    return horizon / observed_span


def expected_demand(
    observed: Iterable[DemandObservation],
    observed_span: timedelta,
    horizon: timedelta,
    *,
    regions: Sequence[tuple[float, float]] | None = None,
    grid_degrees: float = 1.0,
) -> list[RegionDemand]:
    """Units expected over `horizon`, by region and SKU, from those observed over
    `observed_span` (each region's rate times the horizon).

    A destination belongs to the nearest of `regions` (centre points) when they are
    given, else to its cell of a `grid_degrees` latitude/longitude grid (represented by
    the cell's centre). Sorted by SKU, then region, so equal inputs give equal LPs.
    """
    scale = _scale(observed_span, horizon)
    if not regions and grid_degrees <= 0:
        raise ValueError("grid_degrees must be positive")
    totals: dict[tuple[str, float, float], int] = defaultdict(int)
    region_of: dict[tuple[float, float], tuple[float, float]] = {}  # orders share addresses
    for obs in observed:
        if obs.units <= 0:
            continue
        point = (obs.lat, obs.lon)
        if point not in region_of:
            region_of[point] = _nearest(regions, point) if regions else _cell(point, grid_degrees)
        lat, lon = region_of[point]
        totals[(obs.sku, lat, lon)] += obs.units
    return [
        RegionDemand(lat, lon, sku, units * scale)
        for (sku, lat, lon), units in sorted(totals.items())
        if units * scale > 0
    ]


def _nearest(
    regions: Sequence[tuple[float, float]], point: tuple[float, float]
) -> tuple[float, float]:
    return min(regions, key=lambda c: (great_circle_km(c[0], c[1], *point), c))


def _cell(point: tuple[float, float], size: float) -> tuple[float, float]:
    lat, lon = point
    return (round((floor(lat / size) + 0.5) * size, 9), round((floor(lon / size) + 0.5) * size, 9))


def shadow_prices(
    locations: Iterable[Location],
    supply: Mapping[Key, int],
    demand: Sequence[RegionDemand],
    costs: Costs,
    unfilled_unit_cost: float,
    *,
    units_per_shipment: float | None = DEFAULT_UNITS_PER_SHIPMENT,
) -> dict[Key, float]:
    """The transportation LP's price of a unit of each SKU at each location.

    `supply[(location_id, sku)]` is what may still be used (available stock); `demand`
    what is expected until the stock is next replenished; `unfilled_unit_cost` what an
    unfilled unit costs where a region does not say (no unit is worth more than the
    sale it saves). A unit's cost c[j,r] is `per_unit + per_unit_km x km` plus
    `Costs.fixed(location) / units_per_shipment`. A share equal everywhere cancels out of
    the differences between locations, and in the quality benchmark no share, 1, 2 or 5
    units per shipment gave the same decisions within 0.1%; it is kept because it makes
    the comparison with an unfilled unit fair (a unit served pays its part of a parcel)
    and a location with dearer handling per shipment dearer per unit. What the parcel
    is really worth shows only with whole orders: see `order_shadow_prices`.

    The price is V(supply - one unit at j) - V(supply), not the row dual: when supply
    equals what the LP sends there, the case of stock set to the expected demand, the
    LP is degenerate and a vertex dual can be 0 although the last unit is worth a lot.
    """
    if unfilled_unit_cost < 0:
        raise ValueError("unfilled_unit_cost must not be negative")
    if units_per_shipment is not None and units_per_shipment <= 0:
        raise ValueError("units_per_shipment must be positive")
    sites = _shipping_sites(locations)
    by_sku: dict[str, list[RegionDemand]] = defaultdict(list)
    for d in demand:
        if d.expected_units < 0:
            raise ValueError(f"negative expected demand for {d.sku!r}")
        if d.expected_units > 0:
            by_sku[d.sku].append(d)
    prices: list[tuple[Key, float]] = []
    for sku in sorted(by_sku):
        holders = [loc for loc in sites if supply.get((loc.id, sku), 0) > 0]
        if holders:
            units = np.array([supply[(loc.id, sku)] for loc in holders], dtype=np.float64)
            regions = by_sku[sku]
            c = _km(holders, [(r.lat, r.lon) for r in regions]) * costs.per_unit_km
            c += costs.per_unit
            if units_per_shipment is not None:
                c += np.array([[costs.fixed(loc) / units_per_shipment] for loc in holders])
            penalty = [
                unfilled_unit_cost if r.unfilled_unit_cost is None else r.unfilled_unit_cost
                for r in regions
            ]
            want = np.array([r.expected_units for r in regions], dtype=np.float64)
            lam = _last_unit_values(_transportation_lp(c, penalty, units, want), units)
            prices += [((loc.id, sku), p) for loc, p in zip(holders, lam, strict=True)]
    return _rounded(prices)


def _transportation_lp(
    c: FloatArray, penalty: Sequence[float], supply: FloatArray, want: FloatArray
) -> highspy.HighsLp:
    """Columns x[j, r] (j-major), then u[r]; rows: supply j, then demand r."""
    n_j, n_r = c.shape
    n_x = n_j * n_r
    jj, rr = np.divmod(np.arange(n_x), n_r)
    index = np.empty(2 * n_x + n_r, dtype=np.int32)
    index[0 : 2 * n_x : 2] = jj
    index[1 : 2 * n_x : 2] = n_j + rr
    index[2 * n_x :] = n_j + np.arange(n_r)
    lp = highspy.HighsLp()
    lp.num_col_ = n_x + n_r
    lp.num_row_ = n_j + n_r
    lp.col_cost_ = np.concatenate([c.ravel(), np.asarray(penalty, dtype=np.float64)])
    lp.col_lower_ = np.zeros(lp.num_col_)
    lp.col_upper_ = np.full(lp.num_col_, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate([np.full(n_j, -highspy.kHighsInf), want])
    lp.row_upper_ = np.concatenate([supply, want])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = np.concatenate(
        [np.arange(0, 2 * n_x, 2), 2 * n_x + np.arange(n_r + 1)]
    ).astype(np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = np.ones(len(index))
    return lp


def _last_unit_values(lp: highspy.HighsLp, supply: FloatArray) -> FloatArray:
    """V(supply - one unit at j) - V(supply) for every supply row j: a row with a unit
    or more to spare loses nothing; a binding one is re-solved with a unit less, from
    the optimal basis (a few dual simplex pivots)."""
    h = _solver()
    h.passModel(lp)
    base = _solved(h)
    used = np.asarray(h.getSolution().row_value[: len(supply)], dtype=np.float64)
    lam = np.zeros(len(supply))
    for j in np.flatnonzero(supply - used < 1.0 - 1e-9):
        h.changeRowBounds(int(j), -highspy.kHighsInf, float(supply[j]) - 1.0)
        lam[j] = max(0.0, _solved(h) - base)
        h.changeRowBounds(int(j), -highspy.kHighsInf, float(supply[j]))
    return lam


# ------------------------------------------------------- expected orders (whole plans)


@dataclass(frozen=True, slots=True)
class ExpectedOrder:
    """An order (destination and lines) expected `count` times over the horizon."""

    lat: float
    lon: float
    lines: tuple[tuple[str, int], ...]  # (SKU, units)
    count: float = 1.0
    #: What a unit left unfilled costs; None: the caller's `unfilled_unit_cost`.
    unfilled_unit_cost: float | None = None


def expected_orders(
    recent: Iterable[SourcingRequest], observed_span: timedelta, horizon: timedelta
) -> list[ExpectedOrder]:
    """The orders expected over `horizon`: the shipped ones seen over `observed_span`,
    each expected `horizon / observed_span` times again (equal orders, same destination
    and lines, merged). Sorted, so equal inputs give equal LPs."""
    scale = _scale(observed_span, horizon)
    counts: dict[tuple[float, float, tuple[tuple[str, int], ...]], int] = defaultdict(int)
    for req in recent:
        if req.destination is None:
            continue
        wanted: dict[str, int] = defaultdict(int)
        for u in req.lines:
            if u.quantity > 0:
                wanted[u.sku] += u.quantity
        if wanted:
            counts[(*req.destination, tuple(sorted(wanted.items())))] += 1
    if scale == 0:
        return []
    return [
        ExpectedOrder(lat, lon, lines, n * scale) for (lat, lon, lines), n in sorted(counts.items())
    ]


def order_shadow_prices(
    locations: Iterable[Location],
    supply: Mapping[Key, int],
    orders: Sequence[ExpectedOrder],
    costs: Costs,
    unfilled_unit_cost: float,
    *,
    max_shipments: int | None = None,
    max_locations: int = DEFAULT_MAX_LOCATIONS,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> dict[Key, float]:
    """The price of a unit of each SKU at each location, from the plans LP over the
    expected orders (see the module's docstring): minus the duals of its supply rows.

    Each expected order may use its `max_locations` cheapest candidate locations (those
    holding any of its SKUs, by fixed plus unit cost to its destination) and at most
    `max_shipments` of them; with no more candidates than that, its best plan is exact.
    Column generation stops when no plan prices below its order's dual or after
    `max_rounds` rounds (the prices of the last restricted LP are returned then).
    """
    if unfilled_unit_cost < 0:
        raise ValueError("unfilled_unit_cost must not be negative")
    if not 1 <= max_locations <= 14:
        raise ValueError("max_locations must be between 1 and 14")
    if max_shipments is not None and max_shipments < 1:
        raise ValueError("max_shipments must be at least 1")
    sites = _shipping_sites(locations)
    wanted = [o for o in orders if o.count > 0 and any(q > 0 for _, q in o.lines)]
    if any(o.count < 0 for o in orders):
        raise ValueError("an expected order's count must not be negative")
    skus = sorted({sku for o in wanted for sku, q in o.lines if q > 0})
    keys = [(loc.id, s) for loc in sites for s in skus if supply.get((loc.id, s), 0) > 0]
    if not wanted or not keys:
        return {}
    book = _Book.build(sites, keys, wanted, costs, unfilled_unit_cost, max_locations)
    units = np.array([supply[k] for k in keys], dtype=np.float64)
    lam = _column_generation(book, units, max_shipments, max_rounds)
    return _rounded(zip(keys, lam, strict=True))


@dataclass(frozen=True, slots=True)
class _Book:
    """The expected orders as arrays, each with K candidate locations and L lines
    (padding: no quantity, an infinite fixed cost)."""

    count: FloatArray  # (N,)
    quantity: FloatArray  # (N, L)
    penalty: FloatArray  # (N,)
    fixed: FloatArray  # (N, K)
    unit: FloatArray  # (N, K, L): per unit, infinite where the location has none
    row: IntArray  # (N, K, L): supply row, -1 where none

    @classmethod
    def build(
        cls,
        sites: Sequence[Location],
        keys: Sequence[Key],
        orders: Sequence[ExpectedOrder],
        costs: Costs,
        unfilled_unit_cost: float,
        max_locations: int,
    ) -> _Book:
        site_of = {loc.id: j for j, loc in enumerate(sites)}
        row_of = {(site_of[loc], sku): i for i, (loc, sku) in enumerate(keys)}
        holders: dict[str, list[int]] = defaultdict(list)
        for loc, sku in keys:
            holders[sku].append(site_of[loc])
        lines = [_merged(o.lines) for o in orders]
        n, width = len(orders), max(len(x) for x in lines)
        km = _km(sites, [(o.lat, o.lon) for o in orders])
        fixed_at = np.array([costs.fixed(loc) for loc in sites], dtype=np.float64)
        picks = [
            _candidates(x, holders, fixed_at, km[:, i], costs, max_locations)
            for i, x in enumerate(lines)
        ]
        k = max(len(p) for p in picks)
        book = cls(
            count=np.array([o.count for o in orders], dtype=np.float64),
            quantity=np.zeros((n, width)),
            penalty=np.array(
                [
                    unfilled_unit_cost if o.unfilled_unit_cost is None else o.unfilled_unit_cost
                    for o in orders
                ],
                dtype=np.float64,
            ),
            fixed=np.full((n, k), np.inf),
            unit=np.full((n, k, width), np.inf),
            row=np.full((n, k, width), -1, dtype=np.int64),
        )
        for i, (order_lines, pick) in enumerate(zip(lines, picks, strict=True)):
            book.quantity[i, : len(order_lines)] = [q for _, q in order_lines]
            book.fixed[i, : len(pick)] = fixed_at[pick]
            for a, j in enumerate(pick):
                per_unit = costs.per_unit_at(float(km[j, i]))
                for b, (sku, _) in enumerate(order_lines):
                    r = row_of.get((j, sku))
                    if r is not None:
                        book.unit[i, a, b] = per_unit
                        book.row[i, a, b] = r
        return book

    def __len__(self) -> int:
        return len(self.count)


def _merged(lines: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    units: dict[str, int] = defaultdict(int)
    for sku, q in lines:
        if q > 0:
            units[sku] += q
    return sorted(units.items())


def _candidates(
    lines: Sequence[tuple[str, int]],
    holders: Mapping[str, Sequence[int]],
    fixed_at: FloatArray,
    km: FloatArray,
    costs: Costs,
    limit: int,
) -> list[int]:
    """The `limit` cheapest locations holding any of the lines' SKUs (then by index)."""
    held = sorted({j for sku, _ in lines for j in holders.get(sku, ())})
    return sorted(held, key=lambda j: (fixed_at[j] + costs.per_unit_at(float(km[j])), j))[:limit]


@dataclass(frozen=True, slots=True)
class _Plans:
    """The best plan of each order of a chunk at the current prices."""

    priced: FloatArray  # (B,) cost with the prices: compared with the order's dual
    cost: FloatArray  # (B,) cost without them: the column's cost
    location: IntArray  # (B, L): candidate serving each line, -1 unfilled or padding


def _best_plans(book: _Book, idx: IntArray, lam: FloatArray, max_shipments: int | None) -> _Plans:
    """Every subset of an order's candidates, exactly: the cheapest candidate in the
    subset per line (or unfilled), built up subset by subset from the one without its
    lowest member, for all orders of the chunk at once."""
    unit = book.unit[idx]
    priced_unit = unit + np.append(lam, 0.0)[book.row[idx]]
    q, pen, fixed = book.quantity[idx], book.penalty[idx], book.fixed[idx]
    n, k, width = unit.shape
    best = np.empty((1 << k, n, width))
    best[0] = np.inf
    fixed_sum = np.zeros((1 << k, n))
    for s in range(1, 1 << k):
        low, rest = (s & -s).bit_length() - 1, s & (s - 1)
        np.minimum(best[rest], priced_unit[:, low, :], out=best[s])
        fixed_sum[s] = fixed_sum[rest] + fixed[:, low]
    total = fixed_sum + (np.minimum(best, pen[None, :, None]) * q[None]).sum(axis=2)
    if max_shipments is not None:
        sizes = np.array([s.bit_count() for s in range(1 << k)])
        total[sizes > max_shipments] = np.inf
    pick = np.argmin(total, axis=0)
    members = ((pick[:, None] >> np.arange(k)) & 1).astype(bool)
    allowed = np.where(members[:, :, None], priced_unit, np.inf)
    location = np.argmin(allowed, axis=1)
    chosen = np.take_along_axis(allowed, location[:, None, :], axis=1)[:, 0, :]
    location = np.where((chosen < pen[:, None]) & (q > 0), location, -1)
    filled = location >= 0
    rows = np.arange(n)[:, None]
    per_unit = np.where(filled, unit[rows, np.maximum(location, 0), np.arange(width)], pen[:, None])
    used = np.zeros((n, k), dtype=bool)
    used[np.broadcast_to(rows, location.shape)[filled], location[filled]] = True
    cost = np.where(used, fixed, 0.0).sum(axis=1) + (per_unit * q).sum(axis=1)
    return _Plans(total[pick, np.arange(n)], cost, location)


def _column_generation(
    book: _Book, supply: FloatArray, max_shipments: int | None, max_rounds: int
) -> FloatArray:
    """λ: minus the supply rows' duals of the plans LP, columns added as they price in."""
    n = len(book)
    h = _solver()
    h.passModel(_master(book, supply))
    chunk = max(1, 2_000_000 // ((1 << book.fixed.shape[1]) * book.quantity.shape[1]))
    lam = np.zeros(len(supply))
    for _ in range(max_rounds):
        _solved(h)
        dual = np.asarray(h.getSolution().row_dual, dtype=np.float64)
        lam = np.maximum(0.0, -dual[n:])
        added = 0
        for start in range(0, n, chunk):
            idx = np.arange(start, min(n, start + chunk))
            plans = _best_plans(book, idx, lam, max_shipments)
            reduced = plans.priced - dual[idx]
            new = np.flatnonzero(reduced < -1e-7 * np.maximum(1.0, np.abs(dual[idx])))
            if len(new):
                _add_plans(h, book, idx[new], plans, new)
                added += len(new)
        if not added:
            break
    return lam


def _master(book: _Book, supply: FloatArray) -> highspy.HighsLp:
    """Rows: one per expected order (= its count), one per supply key (≤ supply); the
    first columns leave each order unfilled, so the LP is feasible from the start.

    The counts are raised by a hair (`_TIGHTER`): when expected orders use exactly the
    supply, the LP is degenerate and a vertex may price the last unit at 0; a hair more
    demand makes every such row bind, and its dual the value of the last unit."""
    n = len(book)
    count = book.count * (1.0 + _TIGHTER)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = n + len(supply)
    lp.col_cost_ = (book.quantity * book.penalty[:, None]).sum(axis=1)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, highspy.kHighsInf)
    lp.row_lower_ = np.concatenate([count, np.full(len(supply), -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([count, supply])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = np.arange(n + 1, dtype=np.int32)
    lp.a_matrix_.index_ = np.arange(n, dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(n)
    return lp


def _add_plans(h: _Highs, book: _Book, orders: IntArray, plans: _Plans, which: IntArray) -> None:
    n = len(book)
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    for o, w in zip(orders.tolist(), which.tolist(), strict=True):
        starts.append(len(index))
        index.append(o)
        value.append(1.0)
        for b, a in enumerate(plans.location[w].tolist()):
            if a >= 0:
                index.append(n + int(book.row[o, a, b]))
                value.append(float(book.quantity[o, b]))
    h.addCols(
        len(which),
        plans.cost[which],
        np.zeros(len(which)),
        np.full(len(which), highspy.kHighsInf),
        len(index),
        np.asarray(starts, dtype=np.int32),
        np.asarray(index, dtype=np.int32),
        np.asarray(value, dtype=np.float64),
    )
