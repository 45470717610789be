"""The exact search: the plan with the most units, then the lowest cost, of at most
`max_shipments` locations.

For a fixed set of locations the cheapest assignment fills each SKU from its cheapest
units first (unit costs are separable, and a location's protected last units cost more
than its others), so a plan is known by its set of locations. Single locations are
priced all at once. Splits are searched under a lower bound that holds for every plan
containing a location: the cheapest way to place every unit (`floor`), plus the fixed
costs of the set, plus what the location's cheapest useful unit costs above the unit it
displaces (`detour`); a greedy cover gives a first plan to prune against. A covering set
holds the SKU the fewest candidates hold, so pairs are formed around its holders and
larger sets branch on the scarcest SKU still missing. Units nowhere to be had are left
out, so the most units are placed first; when no plan within the budget covers what is
to be had, the coverages placing the most units are found first (`coverage`) and each
is searched for its cheapest plan. When too many sets or coverages remain, or when a
rate card prices parcels by weight, the remaining candidates go to the MIP, which is
exact too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from math import inf

import numpy as np

from ordergrid.domain.sourcing.coverage import best_coverages
from ordergrid.domain.sourcing.network_index import (
    BoolArray,
    FloatArray,
    IntArray,
    take_rows,
    where,
)
from ordergrid.domain.sourcing.pricing import Problem, parcel_price

EPS = 1e-9
MAX_FILLS = 2_000  # sets filled one by one before the rest goes to the MIP
MAX_SETS = 5_000  # branching steps for sets of three or more before the MIP takes over
MAX_PAIRS = 200_000  # pairs tested for covering the order before the MIP takes over
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
    needs_mip: tuple[int, ...] | None  # candidate rows for the MIP, when it must decide
    problem: Problem | None = None  # what the MIP solves, when not the request's own
    #: The plans after the best, when worked out only if asked (for the explanation).
    later: Callable[[], list[Found]] | None = None

    def runner_ups(self, n: int) -> list[Found]:
        """The next `n` plans after the best."""
        if self.later is not None:
            return self.later()[:n]
        return self.plans[1 : 1 + n]


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
    """The cheapest assignment of the wanted units to a fixed set of locations: each
    SKU from its cheapest units first (ordinary before protected, then nearer)."""
    rows = np.array(group)
    available = take_rows(p.available, rows).tolist()
    base = take_rows(p.base, rows).tolist() if p.protects else available
    unit = take_rows(p.unit, rows).tolist()
    extra = p.extra.take(rows).tolist()
    fixed = dict(zip(group, p.fixed.take(rows).tolist(), strict=True))
    take: dict[tuple[int, int], int] = {}
    cost = 0.0
    for col, wanted in enumerate(p.demand.tolist()):
        if wanted == 0:
            continue
        need = wanted
        tiers = []
        for i, row in enumerate(group):
            first = base[i][col]
            rest = available[i][col] - first
            if first > 0:
                tiers.append((unit[i][col], row, first))
            if rest > 0:
                tiers.append((unit[i][col] + extra[i], row, rest))
        tiers.sort()
        for price, row, n in tiers:
            got = min(need, n)
            take[(row, col)] = take.get((row, col), 0) + got
            cost += got * price
            need -= got
            if need == 0:
                break
    if p.parcel_priced:  # parcels priced by weight: the plan's own pricing
        return found(p, take)
    shipping = tuple(sorted({r for r, _ in take}))
    if shipping:
        cost += sum(fixed[r] for r in shipping) - p.split
    return Found(shipping, take, sum(take.values()), cost)


@dataclass(frozen=True, slots=True, eq=False)
class Singles:
    """Every location alone, priced at once: units it covers and what that costs."""

    units: IntArray
    cost: FloatArray
    taken: IntArray  # units it would ship, per SKU
    rest: IntArray | None  # of those, its protected last ones (None: nothing protected)

    def plan(self, p: Problem, row: int) -> Found:
        take = {(row, c): n for c, n in enumerate(self.taken[row].tolist()) if n}
        return Found((row,), take, int(self.units[row]), float(self.cost[row]))

    def ranked(self, allowed: BoolArray, top: int | None = None) -> IntArray:
        """Rows that cover something, best first (rows are in id order: ties by id);
        with `top`, at least the best `top` (and all that tie with the last of them)."""
        units = np.where(allowed, self.units, 0)
        most = int(units.max()) if len(units) else 0
        if most == 0:
            return where(units)
        # One sort key: fewer units first by whole steps, then the cost to the micro-unit
        # (as `Found.key` compares: cents decide, floating-point noise does not).
        key = np.rint(self.cost * 1e6)
        key += (most - units) * 1e15
        key[units == 0] = inf
        if top is not None and len(key) > top:
            cut = _partitioned(key, top - 1)[top - 1]
            rows = where(key <= cut)
        else:
            rows = where(key < inf)
        result: IntArray = rows.take(np.argsort(key.take(rows), kind="stable"))
        return result


def singles(p: Problem) -> Singles:
    rest = None
    if p.protects:
        first = np.minimum(p.base, p.demand)
        rest = np.minimum(p.available - p.base, p.demand - first)
        taken = first + rest
    else:
        taken = np.minimum(p.available, p.demand)
    if taken.shape[1] == 1:  # one SKU: a location's units are its column (no sums to make)
        units = taken[:, 0]
        cost = units * p.unit[:, 0]
    else:
        units = taken.sum(axis=1)
        cost = (taken * p.unit).sum(axis=1)
    cost += p.fixed
    cost -= p.split
    if rest is not None:
        cost += rest.sum(axis=1) * p.extra
    if p.parcel_priced:
        for row in where(units > 0).tolist():
            cost[row] += parcel_price(p, row, dict(enumerate(taken[row].tolist())))
    return Singles(units, cost, taken, rest)


def _floor(p: Problem) -> tuple[float, FloatArray]:
    """The cheapest cost of every wanted unit, whatever the number of locations, and per
    SKU the cost of the dearest unit that cheapest placement uses."""
    total, marginal = 0.0, np.full(len(p.skus), inf)
    for col in range(len(p.skus)):
        need = int(p.demand[col])
        if need == 0:
            continue
        cost, units = _tiers(p, col)
        cheapest = int(np.where(units > 0, cost, inf).argmin())
        if units[cheapest] >= need:  # the usual case: one location's units suffice
            total += float(cost[cheapest]) * need
            marginal[col] = cost[cheapest]
            continue
        order = np.lexsort((np.arange(len(cost)), cost))
        cumulative = np.cumsum(units.take(order))
        last = int(np.searchsorted(cumulative, need))
        before = int(cumulative[last - 1]) if last else 0
        used = order[:last]
        total += float(cost.take(used) @ units.take(used))
        total += float(cost[order[last]]) * (need - before)
        marginal[col] = cost[order[last]]
    return total, marginal


def _tiers(p: Problem, col: int) -> tuple[FloatArray, IntArray]:
    """A SKU's units as (cost, units) per tier: each location's ordinary units, then,
    when some are protected, its last units at their higher cost."""
    if not p.protects:
        return p.unit[:, col], p.available[:, col]
    return (
        np.concatenate([p.unit[:, col], p.unit[:, col] + p.extra]),
        np.concatenate([p.base[:, col], p.available[:, col] - p.base[:, col]]),
    )


def _detour(p: Problem, marginal: FloatArray) -> FloatArray:
    """Per location, the least a plan pays above `floor` for it to ship one unit."""
    # Without protected units a location's cheapest unit is its only price.
    cheapest = np.where(p.base > 0, p.unit, p.unit + p.extra[:, None]) if p.protects else p.unit
    useful = p.available > 0
    if not p.demand.all():
        useful &= (p.demand > 0)[None, :]
    over = np.where(useful, np.maximum(cheapest - marginal[None, :], 0.0), inf)
    result: FloatArray = over.min(axis=1)
    return result


def _partitioned(values: FloatArray, kth: int) -> FloatArray:
    """A copy of `values` with the k-th smallest in place and the smaller before it: the
    array's own `partition`, which `np.partition` wraps at a cost above the work."""
    found = values.copy()
    found.partition(kth)
    return found


def _others(fixed: FloatArray, k: int, ordered: FloatArray) -> FloatArray:
    """Per location, the least the other k-1 locations of a set of k add in fixed cost
    (`ordered`: the fixed costs sorted)."""
    smallest = ordered[:k]
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
    """The best plan: exactly, or with the rows the MIP must decide between (and the
    problem it must solve: units nowhere to be had are left out of it)."""
    held = p.available.sum(axis=0)
    if (held < p.demand).any():
        placeable = np.minimum(p.demand, held)
        # The most units are those that are to be had somewhere; a plan placing all of
        # them within the budget is the best there is, and the search looks for it.
        reduced = replace(p, demand=placeable, total=int(placeable.sum()))
        if not reduced.total:
            return Outcome([], needs_mip=None)
        outcome = _search(reduced)
        found_all = bool(outcome.plans) and outcome.plans[0].units == reduced.total
        if outcome.needs_mip is None and not found_all:
            outcome = _most_units(reduced, outcome.plans)
        return replace(outcome, problem=reduced)
    return _search(p)


def _search(p: Problem, *, whole: bool = True) -> Outcome:
    alone = singles(p)
    allowed = _allowed_rows(p)
    covers = alone.units == p.total
    # With room for one more location (the usual case) every row is allowed.
    complete = where(covers if p.budget >= 1 else covers & allowed)
    costs = alone.cost.take(complete)
    bound = float(costs.min()) if len(complete) else inf
    # One unit, or room for one location only: no plan has two shipments.
    no_split = p.total < 2 or min(p.max_shipments, len(p)) < 2 or p.budget < 1
    if len(complete) and (no_split or not _split_can_help(p, bound)):
        return _one_location(p, alone, allowed, complete, costs)
    plans = _best_singles(p, alone, allowed)
    if no_split:
        return _done(plans)
    if p.parcel_priced:
        return Outcome(best_first(plans), needs_mip=tuple(range(len(p))))
    return _splits(p, _Best(p, plans, bound), whole=whole)


def _splits(p: Problem, best: _Best, *, whole: bool) -> Outcome:
    """Plans of two locations or more, best first under the bounds (see the module)."""
    if best.bound == inf:
        covering = _greedy_cover(p)
        if covering is not None:
            best.offer(fill(p, covering))
    floor, marginal = _floor(p)
    detour = _detour(p, marginal)
    ordered = np.sort(p.fixed)
    for k in range(2, min(p.max_shipments, len(p)) + 1):
        bounds = p.fixed + _others(p.fixed, k, ordered) + floor + detour - p.split
        rows = where(bounds < best.bound - EPS)
        if len(rows) < k:
            break
        if k == 2:
            searched = _pairs(p, rows, floor, detour, best)
        else:
            searched = _sets(p, rows, k, floor, detour, best)
        if not searched:
            return Outcome(best_first(best.plans), _mip_rows(p, best, floor, detour))
    if best.bound == inf:  # nothing within the budget covers the order: most units first
        if whole:
            return _most_units(p, best.plans)
        return Outcome(best_first(best.plans), needs_mip=tuple(range(len(p))))
    return _done(best.plans)


def _best_singles(p: Problem, alone: Singles, allowed: BoolArray) -> list[Found]:
    return [alone.plan(p, int(r)) for r in alone.ranked(allowed, top=KEPT + 1)[: KEPT + 1]]


def _one_location(
    p: Problem, alone: Singles, allowed: BoolArray, complete: IntArray, costs: FloatArray
) -> Outcome:
    """One location covers the order and no split can cost less: the cheapest of them
    (`costs`, to the micro-unit, then by id); the runner-ups only if the explanation
    asks."""
    micro = np.rint(costs * 1e6)
    best = alone.plan(p, int(complete[int(micro.argmin())]))

    def later() -> list[Found]:
        return [f for f in best_first(_best_singles(p, alone, allowed)) if f.rows != best.rows]

    return Outcome([best], None, later=later)


def _most_units(p: Problem, plans: list[Found]) -> Outcome:
    """No plan within the budget covers the order: the cheapest complete plan for each
    of the coverages placing the most units (few, see `coverage`), the best of them."""
    everything = tuple(range(len(p)))
    targets = best_coverages(p)
    if targets is None:
        return Outcome(best_first(plans), needs_mip=everything)
    found = list(plans)
    for demand in targets:
        outcome = _search(replace(p, demand=demand, total=int(demand.sum())), whole=False)
        found += outcome.plans
        if outcome.needs_mip is not None:
            return Outcome(best_first(found), needs_mip=everything)
    return _done(found)


def _greedy_cover(p: Problem) -> tuple[int, ...] | None:
    """A set of locations that covers every unit, picked greedily (most of what is still
    missing first, the cheaper on ties), within the budget; None if greedy fails. Only
    an upper bound for the exact search, which then prunes against it."""
    missing = p.demand.copy()
    chosen: list[int] = []
    new = 0
    while missing.any() and len(chosen) < p.max_shipments:
        gain = np.minimum(p.available, missing).sum(axis=1).astype(np.float64)
        gain[chosen] = 0
        if new >= p.budget:
            gain[~p.used] = 0
        top = gain.max()
        if top <= 0:
            return None
        best = where(gain == top)
        row = int(best[p.fixed[best].argmin()])
        chosen.append(row)
        new += int(not p.used[row])
        missing = np.maximum(missing - p.available[row], 0)
    return None if missing.any() else tuple(sorted(chosen))


def _split_can_help(p: Problem, bound: float) -> bool:
    """A quick test before any split is searched: no plan of two locations can cost less
    than the cheapest placement of every unit plus the two smallest fixed costs."""
    if len(p) < 2:
        return False
    cheapest = np.where(p.base > 0, p.unit, p.unit + p.extra[:, None]) if p.protects else p.unit
    lowest = np.where(p.available > 0, cheapest, inf).min(axis=0)
    least = float(lowest @ p.demand) if np.isfinite(lowest).all() else _least(lowest, p.demand)
    two = _partitioned(p.fixed, 1)
    least += float(two[0] + two[1]) - p.split
    return least < bound - EPS


def _least(lowest: FloatArray, demand: IntArray) -> float:
    """Σ lowest · demand over the SKUs wanted (some SKU held nowhere has no price)."""
    wanted = demand > 0
    return float((lowest[wanted] * demand[wanted]).sum())


def _pairs(p: Problem, rows: IntArray, floor: float, detour: FloatArray, best: _Best) -> bool:
    """Pairs that cover the order, lowest bound first; False when too many remain.

    A pair covering the order holds its scarcest SKU, so one of the two is among that
    SKU's few holders: only those pairs are formed. Their bound (both fixed costs, the
    floor, the larger detour) is checked first, covering only for the pairs it leaves."""
    capped = np.minimum(take_rows(p.available, rows), p.demand)
    held = capped > 0
    wanted = where(p.demand > 0)
    scarcest = wanted[held[:, wanted].sum(axis=0).argmin()]
    holds_scarcest = held[:, scarcest]
    anchors = where(holds_scarcest)
    if len(anchors) * len(rows) > MAX_PAIRS:
        return False
    # Each anchor against every row (the array methods: `np.repeat` and `np.tile` wrap
    # them at a cost above the work on these arrays).
    a = anchors.repeat(len(rows))
    b = np.arange(len(rows))[None, :].repeat(len(anchors), axis=0).ravel()
    keep = where((a != b) & ~(holds_scarcest.take(b) & (b < a)))  # each unordered pair once
    a, b = a.take(keep), b.take(keep)
    i, j = np.minimum(a, b), np.maximum(a, b)
    fixed, away = p.fixed.take(rows), detour.take(rows)
    bound = fixed.take(i) + fixed.take(j) + floor + np.maximum(away.take(i), away.take(j)) - p.split
    under = where(bound < best.bound - EPS)
    i, j, bound = i.take(under), j.take(under), bound.take(under)
    together = take_rows(capped, i) + take_rows(capped, j)
    covers = where(np.logical_and.reduce(together >= p.demand, axis=1))
    i, j, bound = i.take(covers), j.take(covers), bound.take(covers)
    if len(i) > MAX_FILLS:
        return False
    for n in np.argsort(bound, kind="stable").tolist():
        if bound[n] >= best.bound - EPS:
            break
        group = (int(rows[i[n]]), int(rows[j[n]]))
        if _allowed(p, group):
            best.offer(fill(p, group))
    return True


class _Sets:
    """Sets of k locations covering the order, found by branching: every covering set
    holds the SKU still missing that the fewest candidates hold, so each step tries only
    its holders. A partial set whose bound (fixed costs so far, the floor, the largest
    detour so far) reaches the best plan is not extended: adding locations only raises
    the bound. The last location must cover all that is missing, found for all at once."""

    def __init__(
        self, p: Problem, rows: IntArray, k: int, floor: float, detour: FloatArray, best: _Best
    ) -> None:
        self.p, self.rows, self.k, self.floor, self.detour, self.best = (
            p,
            rows,
            k,
            floor,
            detour,
            best,
        )
        self.capped = np.minimum(p.available, p.demand)
        self.seen: set[tuple[int, ...]] = set()
        self.steps = 0

    def run(self) -> bool:
        """False when the branching grew too large (the MIP then decides)."""
        return self._extend((), self.p.demand, 0.0, 0.0)

    def _bound(self, fixed: float, away: float) -> float:
        return fixed + self.floor + away - self.p.split

    def _extend(
        self, chosen: tuple[int, ...], missing: IntArray, fixed: float, away: float
    ) -> bool:
        self.steps += 1
        if self.steps > MAX_SETS:
            return False
        if len(chosen) == self.k - 1:
            self._last(chosen, missing, fixed, away)
            return True
        wanted = where(missing > 0)
        branch = self.rows  # covered already: a further location may still lower the cost
        if len(wanted):
            held = self.capped[np.ix_(self.rows, wanted)] > 0
            scarcest = wanted[int(held.sum(axis=0).argmin())]
            branch = self.rows[self.capped[self.rows, scarcest] > 0]
        for r in branch.tolist():
            if r in chosen:
                continue
            f, a = fixed + float(self.p.fixed[r]), max(away, float(self.detour[r]))
            if self._bound(f, a) >= self.best.bound - EPS:
                continue
            left = np.maximum(missing - self.capped[r], 0)
            if not self._extend((*chosen, r), left, f, a):
                return False
        return True

    def _last(self, chosen: tuple[int, ...], missing: IntArray, fixed: float, away: float) -> None:
        rows = self.rows[(self.capped[self.rows] >= missing).all(axis=1)]
        bounds = self._bound(fixed, away) + self.p.fixed[rows]
        bounds = np.maximum(
            bounds, self._bound(fixed, 0.0) + self.p.fixed[rows] + self.detour[rows]
        )
        for n in np.argsort(bounds, kind="stable").tolist():
            if bounds[n] >= self.best.bound - EPS:
                break
            group = tuple(sorted((*chosen, int(rows[n]))))
            if len(set(group)) < self.k or group in self.seen or not _allowed(self.p, group):
                continue
            self.seen.add(group)
            self.best.offer(fill(self.p, group))


def _sets(
    p: Problem, rows: IntArray, k: int, floor: float, detour: FloatArray, best: _Best
) -> bool:
    return _Sets(p, rows, k, floor, detour, best).run()


def _mip_rows(p: Problem, best: _Best, floor: float, detour: FloatArray) -> tuple[int, ...]:
    """Locations that can be part of a plan better than the best found: the others'
    bound already reaches it. The plans found so far stay on the table."""
    bound = p.fixed + _others(p.fixed, 2, np.sort(p.fixed)) + floor + detour - p.split
    keep: BoolArray = bound < best.bound - EPS
    for f in best.plans[:1]:
        keep[list(f.rows)] = True
    return tuple(where(keep).tolist())


def best_first(plans: list[Found]) -> list[Found]:
    """Best first, one plan per set of locations (the better where two were found)."""
    unique: dict[tuple[int, ...], Found] = {}
    for f in plans:
        if f.rows not in unique or f.key() < unique[f.rows].key():
            unique[f.rows] = f
    return sorted(unique.values(), key=Found.key)


def _done(plans: list[Found]) -> Outcome:
    return Outcome(best_first(plans), None)
