"""The clairvoyant lower bound of the quality benchmark: every order of the horizon known
in advance, assigned at once with HiGHS.

    min  Σ (per_unit + per_unit_km·km[j,o])·x[o,s,j] + per_shipment·y[o,j] + penalty[o]·u[o,s]
    s.t. Σ_j x[o,s,j] + u[o,s] = q[o,s]           every order line
         x[o,s,j] ≤ q[o,s]·y[o,j]                  a unit from j needs a shipment from j
         Σ_o x[o,s,j] ≤ stock[j,s]                 the initial stock, no replenishment
         x, u ≥ 0;  0 ≤ y ≤ 1 (LP relaxation) or y ∈ {0,1} (the exact MIP)

The LP relaxation is a valid lower bound on every policy's cost (the per-line linking
rows keep it tight: an order served whole from one centre pays its whole shipment). The
MIP (y binary; x may stay continuous: with y fixed the rest is a transportation problem
with integer data, which has an integral optimum) is the exact clairvoyant optimum when
HiGHS proves it within its time limit; its dual bound is a lower bound in any case. On
1,000 orders HiGHS still had an 11% gap after two minutes, so the LP relaxation is the
default.

Not a benchmark itself (`run_all.py` skips it): `quality.py` imports it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
from highspy._core import _Highs

from quality_model import COSTS, Order, World


@dataclass(frozen=True)
class Bound:
    value: float  # the LP optimum, or the MIP's incumbent when `mip`
    dual_bound: float  # a proven lower bound on the clairvoyant cost
    mip: bool
    optimal: bool  # solved to optimality (for the MIP: within the relative gap tolerance)
    seconds: float
    columns: int
    rows: int


class _Columns:
    """The model's columns as they are added: cost, upper bound, (row, value) entries."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.entries: list[list[tuple[int, float]]] = []

    def add(self, cost: float, upper: float, entries: list[tuple[int, float]]) -> None:
        self.cost.append(cost)
        self.upper.append(upper)
        self.entries.append(entries)


def _model(world: World, orders: Sequence[Order]) -> tuple[highspy.HighsLp, int]:
    """The LP in column form, and the index of the first y column (the shipments)."""
    fc_index = {fc.id: j for j, fc in enumerate(world.fcs)}
    keys = sorted(k for k, units in world.stock.items() if units > 0)
    supply_row = {key: i for i, key in enumerate(keys)}
    holders: dict[str, list[int]] = {sku: [] for sku in world.skus}
    for fc, sku in keys:
        holders[sku].append(fc_index[fc])
    rows: list[tuple[float, float]] = [(-highspy.kHighsInf, float(world.stock[k])) for k in keys]
    cols = _Columns()
    links: dict[tuple[int, int], list[tuple[int, float]]] = {}  # (order, fc) -> y's entries
    for o, order in enumerate(orders):
        km = world.km[:, order.city]
        for sku, q in order.lines:
            line = len(rows)
            rows.append((float(q), float(q)))
            for j in holders[sku]:
                link = len(rows)
                rows.append((-highspy.kHighsInf, 0.0))
                links.setdefault((o, j), []).append((link, -float(q)))
                entries = [(supply_row[(world.fcs[j].id, sku)], 1.0), (line, 1.0), (link, 1.0)]
                cols.add(COSTS.per_unit_at(float(km[j])), float(q), entries)
            cols.add(float(world.penalty[order.city]), float(q), [(line, 1.0)])
    first_y = len(cols.cost)
    for key in sorted(links):
        cols.add(COSTS.per_shipment, 1.0, links[key])
    lp = highspy.HighsLp()
    lp.num_col_ = len(cols.cost)
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.asarray(cols.cost)
    lp.col_lower_ = np.zeros(lp.num_col_)
    lp.col_upper_ = np.asarray(cols.upper)
    lp.row_lower_ = np.asarray([lo for lo, _ in rows])
    lp.row_upper_ = np.asarray([up for _, up in rows])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = np.cumsum([0] + [len(e) for e in cols.entries]).astype(np.int32)
    lp.a_matrix_.index_ = np.asarray([r for e in cols.entries for r, _ in e], dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray([v for e in cols.entries for _, v in e])
    return lp, first_y


def clairvoyant(
    world: World, orders: Sequence[Order], *, mip: bool = False, time_limit_s: float = 60.0
) -> Bound:
    """The clairvoyant LP relaxation (or MIP) over `orders` from the world's stock."""
    lp, first_y = _model(world, orders)
    if mip:
        kinds = [highspy.HighsVarType.kContinuous] * first_y
        kinds += [highspy.HighsVarType.kInteger] * (lp.num_col_ - first_y)
        lp.integrality_ = kinds
    h = _Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 1e-4)
    if not mip:  # interior point then crossover: ~30x faster than simplex on this LP
        h.setOptionValue("solver", "ipm")
    h.passModel(lp)
    started = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - started
    status = h.getModelStatus()
    info = h.getInfo()
    optimal = status == highspy.HighsModelStatus.kOptimal
    value = float(info.objective_function_value)
    dual = float(info.mip_dual_bound) if mip else value
    if not mip and not optimal:
        raise RuntimeError(f"clairvoyant LP not solved: {h.modelStatusToString(status)}")
    return Bound(value, dual, mip, optimal, seconds, lp.num_col_, lp.num_row_)
