"""The exact search: the plan with the most units, then the lowest cost, of at most
`max_shipments` locations.

For a fixed set of locations the cheapest assignment fills each SKU from its cheapest
units first (unit costs are separable, and a location's protected last units cost more
than its others), so a plan is known by its set of locations. Single locations are
priced all at once. Splits are searched best-first by a lower bound that holds for every
plan containing a location: the cheapest way to place every unit (`floor`), plus the
fixed costs of the set, plus what the location's cheapest useful unit costs above the
unit it displaces (`detour`). Sets whose bound reaches the best complete plan are never
filled; when too many remain, or no plan within the budget covers the order (the most
units must then be found), or a rate card prices parcels by weight, the remaining
candidates go to the MIP, which is exact too.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb, inf

import numpy as np

from ordergrid.domain.sourcing.network_index import BoolArray, FloatArray, IntArray
from ordergrid.domain.sourcing.pricing import Problem, parcel_price

EPS = 1e-9
MAX_FILLS = 2_000  # sets filled one by one before the rest goes to the MIP
MAX_SETS = 5_000  # sets of three or more enumerated before the MIP takes over
KEPT = 3  # plans kept besides the best, for runner-ups


@dataclass(frozen=True, slots=True, eq=False)
class Found:
    """A plan as the search sees it: the locations used and the units taken."""

    rows: tuple[int, ...]
    take: dict[tuple[int, int], int]  # (row, sku column) -> units
    units: int
    cost: float

    def key(self) -> tuple[int, float, int, tuple[int, ...]]:
        """More units first, then cheaper, then fewer shipments, then location ids
        (rows are in id order), so the choice is deterministic."""
        return (-self.units, round(self.cost, 6), len(self.rows), self.rows)


@dataclass(frozen=True, slots=True)
class Outcome:
    plans: list[Found]  # best first
    exact: bool
    needs_mip: tuple[int, ...] | None  # candidate rows for the MIP, when it must decide


def plan_cost(p: Problem, take: dict[tuple[int, int], int]) -> float:
    per_row: dict[int, dict[int, int]] = {}
    for (row, col), n in take.items():
        if n > 0:
            per_row.setdefault(row, {})[col] = n
    cost = 0.0
    for row, takes in per_row.items():
        cost += p.fixed[row] + parcel_price(p, row, takes)
        for col, n in takes.items():
            first = min(n, int(p.base[row, col]))
            cost += n * p.unit[row, col] + (n - first) * p.extra[row]
    return cost - (p.split if per_row else 0.0)


def found(p: Problem, take: dict[tuple[int, int], int]) -> Found:
    take = {k: n for k, n in take.items() if n > 0}
    rows = tuple(sorted({r for r, _ in take}))
    return Found(rows, take, sum(take.values()), plan_cost(p, take))


def fill(p: Problem, group: tuple[int, ...]) -> Found:
    """The cheapest assignment of the wanted units to a fixed set of locations."""
    take: dict[tuple[int, int], int] = {}
    for col in range(len(p.skus)):
        need = int(p.demand[col])
        if need == 0:
            continue
        tiers = []
        for row in group:
            first = int(p.base[row, col])
            rest = int(p.available[row, col]) - first
            if first > 0:
                tiers.append((p.unit[row, col], row, first))
            if rest > 0:
                tiers.append((p.unit[row, col] + p.extra[row], row, rest))
        tiers.sort()
        for _, row, n in tiers:
            got = min(need, n)
            take[(row, col)] = take.get((row, col), 0) + got
            need -= got
            if need == 0:
                break
    return found(p, take)


@dataclass(frozen=True, slots=True, eq=False)
class Singles:
    """Every location alone, priced at once: units it covers and what that costs."""

    units: IntArray
    cost: FloatArray
    first: IntArray  # units from its ordinary stock, per SKU
    rest: IntArray  # units from its protected last ones

    def plan(self, p: Problem, row: int) -> Found:
        taken = (self.first[row] + self.rest[row]).tolist()
        take = {(row, c): n for c, n in enumerate(taken) if n}
        return Found((row,), take, int(self.units[row]), float(self.cost[row]))

    def ranked(self, allowed: BoolArray) -> IntArray:
        """Rows that cover something, best first (rows are in id order: ties by id)."""
        rows = np.flatnonzero((self.units > 0) & allowed)
        # Costs are compared to the micro-unit, as `Found.key` does: cents decide,
        # floating-point noise does not.
        order = np.lexsort((rows, np.rint(self.cost[rows] * 1e6), -self.units[rows]))
        result: IntArray = rows[order]
        return result


def singles(p: Problem) -> Singles:
    first = np.minimum(p.base, p.demand)
    rest = np.minimum(p.available - p.base, p.demand - first)
    taken = first + rest
    units = taken.sum(axis=1)
    cost = p.fixed - p.split + (taken * p.unit).sum(axis=1) + rest.sum(axis=1) * p.extra
    if p.parcel_priced:
        for row in np.flatnonzero(units > 0).tolist():
            cost[row] += parcel_price(p, row, dict(enumerate(taken[row].tolist())))
    return Singles(units, cost, first, rest)


def _floor(p: Problem) -> tuple[float, FloatArray]:
    """The cheapest cost of every wanted unit, whatever the number of locations, and per
    SKU the cost of the dearest unit that cheapest placement uses."""
    total, marginal = 0.0, np.full(len(p.skus), inf)
    for col in range(len(p.skus)):
        need = int(p.demand[col])
        if need == 0:
            continue
        cost = np.concatenate([p.unit[:, col], p.unit[:, col] + p.extra])
        units = np.concatenate([p.base[:, col], p.available[:, col] - p.base[:, col]])
        order = np.lexsort((np.arange(len(cost)), cost))
        cumulative = np.cumsum(units[order])
        last = int(np.searchsorted(cumulative, need))
        before = int(cumulative[last - 1]) if last else 0
        total += float((cost[order][:last] * units[order][:last]).sum())
        total += float(cost[order][last]) * (need - before)
        marginal[col] = cost[order][last]
    return total, marginal


def _detour(p: Problem, marginal: FloatArray) -> FloatArray:
    """Per location, the least a plan pays above `floor` for it to ship one unit."""
    cheapest = np.where(p.base > 0, p.unit, p.unit + p.extra[:, None])
    useful = (p.available > 0) & (p.demand > 0)[None, :]
    over = np.where(useful, np.maximum(cheapest - marginal[None, :], 0.0), inf)
    result: FloatArray = over.min(axis=1)
    return result


def _others(fixed: FloatArray, k: int) -> FloatArray:
    """Per location, the least the other k-1 locations of a set of k add in fixed cost."""
    smallest = np.sort(fixed)[:k]
    with_self = smallest.sum() - fixed
    without = smallest[: k - 1].sum()
    result: FloatArray = np.where(fixed <= smallest[-1], with_self, without)
    return result


def _allowed(p: Problem, rows: tuple[int, ...]) -> bool:
    return sum(not p.used[r] for r in rows) <= p.budget


class _Best:
    """The best complete plan's cost so far, and the plans worth showing."""

    def __init__(self, p: Problem, plans: list[Found], bound: float) -> None:
        self.p, self.plans, self.bound = p, plans, bound

    def offer(self, f: Found) -> None:
        self.plans.append(f)
        if f.units == self.p.total and f.cost < self.bound:
            self.bound = f.cost


def _allowed_rows(p: Problem) -> BoolArray:
    """Locations a plan may use alone: already shipping part of the order, or new while
    the budget allows one more."""
    result: BoolArray = p.used | (p.budget >= 1)
    return result


def search(p: Problem) -> Outcome:
    alone = singles(p)
    ranked = alone.ranked(_allowed_rows(p))
    plans = [alone.plan(p, int(r)) for r in ranked[: KEPT + 1]]
    complete = ranked[alone.units[ranked] == p.total]
    bound = float(alone.cost[complete].min()) if len(complete) else inf
    largest = min(p.max_shipments, len(p))
    if largest < 2 or p.budget < 1 or (len(complete) and not _split_can_help(p, bound)):
        return _done(plans, exact=True)
    everything = tuple(range(len(p)))
    if p.parcel_priced or (p.available.sum(axis=0) < p.demand).any():
        return Outcome(_ranked(plans), exact=True, needs_mip=everything)
    best = _Best(p, plans, bound)
    floor, marginal = _floor(p)
    detour = _detour(p, marginal)
    for k in range(2, largest + 1):
        bounds = p.fixed + _others(p.fixed, k) + floor + detour - p.split
        rows = np.flatnonzero(bounds < best.bound - EPS)
        if len(rows) < k:
            break
        if k == 2:
            searched = _pairs(p, rows, floor, detour, best)
        else:
            searched = comb(len(rows), k) <= MAX_SETS and _sets(p, rows, k, floor, detour, best)
        if not searched:
            return Outcome(_ranked(best.plans), True, _mip_rows(p, best, floor, detour))
    if best.bound == inf:  # nothing within the budget covers the order: most units first
        return Outcome(_ranked(best.plans), exact=True, needs_mip=everything)
    return _done(best.plans, exact=True)


def _split_can_help(p: Problem, bound: float) -> bool:
    """A quick test before any split is searched: no plan of two locations can cost less
    than the cheapest placement of every unit plus the two smallest fixed costs."""
    if len(p) < 2:
        return False
    cheapest = np.where(p.base > 0, p.unit, p.unit + p.extra[:, None])
    lowest = np.where(p.available > 0, cheapest, inf).min(axis=0)
    least = float((lowest * p.demand).sum()) + float(np.sort(p.fixed)[:2].sum()) - p.split
    return least < bound - EPS


def _pairs(p: Problem, rows: IntArray, floor: float, detour: FloatArray, best: _Best) -> bool:
    """Pairs that cover the order, lowest bound first; False when too many remain."""
    capped = np.minimum(p.available[rows], p.demand)
    covers = np.minimum(capped[:, None, :] + capped[None, :, :], p.demand).sum(-1) == p.total
    fixed, away = p.fixed[rows], detour[rows]
    bound = fixed[:, None] + fixed[None, :] + floor + np.maximum(away[:, None], away[None, :])
    bound -= p.split
    i, j = np.nonzero(np.triu(covers & (bound < best.bound - EPS), k=1))
    if len(i) > MAX_FILLS:
        return False
    for n in np.argsort(bound[i, j], kind="stable").tolist():
        if bound[i[n], j[n]] >= best.bound - EPS:
            break
        group = (int(rows[i[n]]), int(rows[j[n]]))
        if _allowed(p, group):
            best.offer(fill(p, group))
    return True


def _sets(
    p: Problem, rows: IntArray, k: int, floor: float, detour: FloatArray, best: _Best
) -> bool:
    capped = np.minimum(p.available, p.demand)
    fills = 0
    for group in combinations(rows.tolist(), k):
        bound = sum(p.fixed[r] for r in group) + floor + max(detour[r] for r in group) - p.split
        if bound >= best.bound - EPS or not _allowed(p, group):
            continue
        if (np.minimum(capped[list(group)].sum(axis=0), p.demand) < p.demand).any():
            continue
        fills += 1
        if fills > MAX_FILLS:
            return False
        best.offer(fill(p, group))
    return True


def _mip_rows(p: Problem, best: _Best, floor: float, detour: FloatArray) -> tuple[int, ...]:
    """Locations that can be part of a plan better than the best found: the others'
    bound already reaches it. The plans found so far stay on the table."""
    bound = p.fixed + _others(p.fixed, 2) + floor + detour - p.split
    keep: BoolArray = bound < best.bound - EPS
    for f in best.plans[:1]:
        keep[list(f.rows)] = True
    return tuple(np.flatnonzero(keep).tolist())


def _ranked(plans: list[Found]) -> list[Found]:
    unique: dict[tuple[int, ...], Found] = {}
    for f in plans:
        if f.rows not in unique or f.cost < unique[f.rows].cost:
            unique[f.rows] = f
    return sorted(unique.values(), key=Found.key)


def _done(plans: list[Found], exact: bool) -> Outcome:
    return Outcome(_ranked(plans), exact, None)
