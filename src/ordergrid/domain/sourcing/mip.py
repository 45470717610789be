"""The exact model, solved by HiGHS: used when enumeration would take too long, when no
plan within the budget covers the order (the most units must be found), and when a rate
card prices each parcel by its weight band.

Variables per (location, SKU): units from the location's ordinary stock and from its
protected last units; per location: used (binary), and with a rate card, whether an
ordinary parcel leaves and its weight band (binaries). Objective: a reward per unit
placed that outweighs any cost (most units first), plus the plan's cost. Deterministic:
the same model gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
from highspy._core import _Highs

from ordergrid.domain.sourcing.pricing import Problem
from ordergrid.domain.sourcing.search import Found, found

SOLVER = "highs-mip"

#: Per (location row, SKU column): the model's variables for its ordinary and protected units.
Units = dict[tuple[int, int], list[int]]


@dataclass
class _Model:
    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)

    def var(self, cost: float, upper: float, integer: bool = True) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, terms: dict[int, float], low: float, high: float) -> None:
        self.rows.append((terms, low, high))


@dataclass(frozen=True, slots=True)
class MipResult:
    plan: Found | None
    optimal: bool
    gap: float  # relative gap HiGHS proved (0 when optimal)


def solve(p: Problem, rows: tuple[int, ...], time_limit_s: float) -> MipResult:
    """The best plan over `rows`. A plan covering every unit is looked for first (the
    model is then the plan's cost alone, which HiGHS proves optimal fast); only when
    none exists is the model with a reward per unit placed solved."""
    if (p.available[list(rows)].sum(axis=0) >= p.demand).all():
        complete = _solve(p, rows, time_limit_s, complete=True)
        if complete.plan is not None or not complete.optimal:
            return complete
    return _solve(p, rows, time_limit_s, complete=False)


def _solve(
    p: Problem,
    rows: tuple[int, ...],
    time_limit_s: float,
    complete: bool,
) -> MipResult:
    model = _Model()
    reward = 0.0 if complete else _reward(p)
    units: Units = {}
    for r in rows:
        for c in np.flatnonzero((p.available[r] > 0) & (p.demand > 0)).tolist():
            want = int(p.demand[c])
            first = min(int(p.base[r, c]), want)
            rest = min(int(p.available[r, c]) - int(p.base[r, c]), want)
            tiers = []
            if first:
                tiers.append(model.var(p.unit[r, c] - reward, first))
            if rest:
                tiers.append(model.var(p.unit[r, c] + p.extra[r] - reward, rest))
            units[(r, c)] = tiers
    if not units:
        return MipResult(found(p, {}), optimal=True, gap=0.0)
    used = {r: model.var(float(p.fixed[r]), 1) for r in rows}
    _per_sku(model, p, units, complete)
    _linking(model, p, units, used)
    _shipments(model, p, used)
    if p.parcel_priced:
        _parcels(model, p, units, used)
    return _run(model, p, units, time_limit_s)


def _reward(p: Problem) -> float:
    """More than any plan can cost, so one more unit always wins."""
    dearest_unit = float((p.unit + p.extra[:, None]).max(initial=0.0))
    fixed = float(p.fixed.max(initial=0.0))
    card = p.costs.rate_card
    parcel = (
        max((max(max(row) for row in t) for t in card.rates.values()), default=0.0) if card else 0.0
    )
    return 1.0 + p.max_shipments * (fixed + parcel) + p.total * dearest_unit


def _per_sku(model: _Model, p: Problem, units: Units, complete: bool) -> None:
    """Never more units than wanted; with `complete`, exactly as many."""
    for c in range(len(p.skus)):
        terms = {v: 1.0 for (_, col), pair in units.items() if col == c for v in pair}
        want = float(p.demand[c])
        if terms:
            model.row(terms, want if complete else 0.0, want)


def _linking(model: _Model, p: Problem, units: Units, used: dict[int, int]) -> None:
    """No unit leaves a location the plan does not use (one row per SKU: much tighter
    than one per location, so the relaxation is close to the answer)."""
    for (r, c), tiers in units.items():
        most = float(min(int(p.available[r, c]), int(p.demand[c])))
        model.row({**dict.fromkeys(tiers, 1.0), used[r]: -most}, -highspy.kHighsInf, 0.0)


def _shipments(model: _Model, p: Problem, used: dict[int, int]) -> None:
    model.row(dict.fromkeys(used.values(), 1.0), 0.0, float(p.max_shipments))
    new = {y: 1.0 for r, y in used.items() if not p.used[r]}
    if new:
        model.row(new, 0.0, float(max(p.budget, 0)))


def _parcels(
    model: _Model,
    p: Problem,
    units: Units,
    used: dict[int, int],
) -> None:
    """The ordinary parcel of each location, priced by the band its weight falls in."""
    card = p.costs.rate_card
    assert card is not None
    limits = list(card.weight_max_kg)
    heaviest = float((p.weights * p.demand).sum()) + 1.0
    for r, y in used.items():
        km = 0.0 if p.distance is None else float(p.distance[r])
        ordinary = {
            v: float(p.weights[c])
            for (row, c), pair in units.items()
            if row == r and not p.ship_alone[c]
            for v in pair
        }
        if not ordinary:
            continue
        leaves = model.var(0.0, 1)
        count = dict.fromkeys(ordinary, 1.0)
        count[leaves] = -float(p.total)
        model.row(count, -highspy.kHighsInf, 0.0)
        model.row({leaves: 1.0, y: -1.0}, -highspy.kHighsInf, 0.0)
        table = card.table(p.service_level)[card.zone(km)]
        bands = [model.var(price, 1) for price in table]
        model.row({**dict.fromkeys(bands, 1.0), leaves: -1.0}, 0.0, 0.0)
        weight = dict(ordinary)
        for b, limit in zip(bands, [*limits[:-1], heaviest], strict=True):
            weight[b] = -limit
        model.row(weight, -highspy.kHighsInf, 0.0)


def _run(
    model: _Model,
    p: Problem,
    units: Units,
    time_limit_s: float,
) -> MipResult:
    # The bare binding: highspy's `Highs` wrapper prints a banner when first made.
    h = _Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(time_limit_s, 0.001))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-6)
    h.setOptionValue("random_seed", 0)
    h.passModel(_lp(model))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        return MipResult(None, optimal=True, gap=0.0)
    if info.primal_solution_status != 2:  # no feasible solution within the time
        return MipResult(None, optimal=False, gap=1.0)
    values = h.getSolution().col_value
    take: dict[tuple[int, int], int] = {}
    for key, pair in units.items():
        n = sum(round(values[v]) for v in pair)
        if n:
            take[key] = n
    optimal = status == highspy.HighsModelStatus.kOptimal
    return MipResult(found(p, take), optimal, 0.0 if optimal else float(info.mip_gap))


def _lp(model: _Model) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    n = len(model.cost)
    lp.num_col_ = n
    lp.num_row_ = len(model.rows)
    lp.col_cost_ = np.array(model.cost, dtype=np.float64)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.array(model.upper, dtype=np.float64)
    lp.row_lower_ = np.array([low for _, low, _ in model.rows], dtype=np.float64)
    lp.row_upper_ = np.array([high for _, _, high in model.rows], dtype=np.float64)
    starts, index, value = [0], [], []
    for terms, _, _ in model.rows:
        for col, coef in sorted(terms.items()):
            index.append(col)
            value.append(coef)
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.float64)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
        for i in model.integer
    ]
    return lp
