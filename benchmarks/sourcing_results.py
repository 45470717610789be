"""What the sourcing benchmark measured: the timed run of one network, the MIP check of
one sampled order, and the figures drawn from them.

Not a benchmark itself (`run_all.py` skips it); `sourcing.py` imports it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from networks import Network, Order
from oracle import Instance, Solution, km_to, plan_cost, usable, violations
from ordergrid.domain.sourcing import Decision
from ordergrid.domain.sourcing.policy import Costs

REL_TOL = 1e-6  # a plan within this relative cost of the optimum is optimal


@dataclass(frozen=True, eq=False)
class Measured:
    """The timed run of one network: per order, in order."""

    network: Network
    view_builder: str  # how the view was built
    lines: NDArray[np.int64]
    view_ns: NDArray[np.int64]
    decide_ns: NDArray[np.int64]
    explain_ns: NDArray[np.int64]  # decision.as_dict(), as the service stores it; -1: not timed
    cpu_ns: NDArray[np.int64]  # CPU time of view + decision (thread time)
    shipments: NDArray[np.int64]
    units: NDArray[np.int64]
    cost: NDArray[np.float64]
    outcomes: list[str]
    solvers: list[str]
    cpu: int | None
    cpu_s: float  # CPU time of the timing loop (bookkeeping included)
    cpu_share: float  # of the pinned CPU the loop got: below 1, other programs took some
    stopped_early: bool


def shipments_of(decision: Decision) -> dict[str, dict[str, int]]:
    """The engine's plan as location -> SKU -> units."""
    out: dict[str, dict[str, int]] = {}
    for shipment in decision.plan.shipments:
        units = out.setdefault(shipment.location_id, {})
        for a in shipment.allocations:
            units[a.sku] = units.get(a.sku, 0) + a.quantity
    return out


def _reported_cost(decision: Decision) -> float:
    """The plan's cost as the engine states it, without the future value of stock."""
    return sum(
        v for sh in decision.plan.shipments for k, v in sh.cost_parts.items() if k != "scarcity"
    )


@dataclass(frozen=True, eq=False)
class Check:
    """One sampled order: the engine's plan against the MIP optimum."""

    order: Order
    inst: Instance
    costs: Costs
    engine: dict[str, dict[str, int]]
    engine_units: int
    engine_cost: float  # recomputed with the oracle's formula
    reported_cost: float
    optimum: Solution
    violations: tuple[str, ...]
    solver: str
    outcome: str
    same_as_timed: bool  # deciding again gave the same plan (determinism)

    @classmethod
    def of(
        cls,
        order: Order,
        inst: Instance,
        decision: Decision,
        optimum: Solution,
        costs: Costs,
        max_shipments: int,
        timed: Measured,
        index: int,
    ) -> Check:
        plan = shipments_of(decision)
        return cls(
            order=order,
            inst=inst,
            costs=costs,
            engine=plan,
            engine_units=decision.plan.units,
            engine_cost=plan_cost(inst, plan, costs),
            reported_cost=_reported_cost(decision),
            optimum=optimum,
            violations=tuple(violations(inst, plan, max_shipments)),
            solver=decision.solver,
            outcome=decision.outcome,
            same_as_timed=decision.plan.units == timed.units[index]
            and math.isclose(decision.plan.cost, timed.cost[index], rel_tol=1e-12),
        )

    @property
    def lines(self) -> int:
        return self.order.lines

    @property
    def optimal(self) -> bool:
        return (
            not self.violations
            and self.engine_units == self.optimum.units
            and self.engine_cost <= self.optimum.cost * (1 + REL_TOL) + 1e-9
        )

    @property
    def beats_optimum(self) -> bool:
        """Better than the MIP's optimum: the oracle or the comparison would be wrong."""
        if self.violations:
            return False
        return self.engine_units > self.optimum.units or (
            self.engine_units == self.optimum.units
            and self.engine_cost < self.optimum.cost * (1 - REL_TOL) - 1e-9
        )

    @property
    def gap(self) -> float | None:
        """Relative extra cost over the optimum, for plans placing as many units."""
        if self.violations or self.engine_units != self.optimum.units or self.optimum.cost <= 0:
            return None
        return (self.engine_cost - self.optimum.cost) / self.optimum.cost

    @property
    def flagged(self) -> bool:
        """Worth a look: not optimal, better than optimal, or its cost stated wrong."""
        return not self.optimal or self.beats_optimum or self.cost_mismatch

    @property
    def cost_mismatch(self) -> bool:
        """The engine states a different cost than its plan has under the formula."""
        return not math.isclose(self.reported_cost, self.engine_cost, rel_tol=1e-6, abs_tol=1e-4)

    def as_dict(self) -> dict[str, Any]:
        inst = self.inst
        can = usable(inst)
        km = km_to(inst.locations, inst.destination)
        return {
            "order": self.order.id,
            "destination": inst.destination,
            "lines": [
                {"sku": sku, "quantity": q, "tags": sorted(t)}
                for sku, q, t in zip(inst.skus, inst.demand, inst.tags, strict=True)
            ],
            "engine": {"units": self.engine_units, "cost": self.engine_cost, "plan": self.engine},
            "engine_reported_cost": self.reported_cost,
            "engine_solver": self.solver,
            "violations": list(self.violations),
            "optimum": {
                "units": self.optimum.units,
                "cost": self.optimum.cost,
                "plan": self.optimum.shipments,
            },
            "eligible_locations": [
                {
                    "id": loc.id,
                    "type": loc.type.value,
                    "lat": loc.lat,
                    "lon": loc.lon,
                    "km": round(float(km[j]), 3),
                    "handling_cost": loc.handling_cost,
                    "available": {
                        sku: int(can[j, s]) for s, sku in enumerate(inst.skus) if can[j, s]
                    },
                }
                for j, loc in enumerate(inst.locations)
                if can[j].any()
            ],
        }


def _nearest_rank(ordered: NDArray[np.int64], q: float) -> float:
    if len(ordered) == 0:
        return 0.0
    return float(ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1])


def latency(ns: NDArray[np.int64]) -> dict[str, float]:
    """p50, p99, max in milliseconds, and how many per second back to back."""
    ordered = np.sort(ns)
    total_s = float(ns.sum()) / 1e9
    return {
        "per_s": round(len(ns) / total_s, 1) if total_s else 0.0,
        "p50_ms": round(_nearest_rank(ordered, 50) / 1e6, 3),
        "p99_ms": round(_nearest_rank(ordered, 99) / 1e6, 3),
        "max_ms": round(float(ordered[-1]) / 1e6, 3) if len(ordered) else 0.0,
    }


def in_range(lines: NDArray[np.int64], low: int, high: int) -> NDArray[np.bool_]:
    return (lines >= low) & (lines <= high)


def optimality(checks: Sequence[Check]) -> dict[str, Any]:
    gaps = [g for c in checks if (g := c.gap) is not None and not c.optimal]
    return {
        "sampled": len(checks),
        "optimal": sum(c.optimal for c in checks),
        "optimal_share": round(sum(c.optimal for c in checks) / len(checks), 4) if checks else None,
        "units_short": sum(
            1 for c in checks if not c.violations and c.engine_units < c.optimum.units
        ),
        "infeasible": sum(1 for c in checks if c.violations),
        "beats_mip": sum(c.beats_optimum for c in checks),
        "mean_gap": round(sum(gaps) / len(checks), 6) if checks else None,
        "max_gap": round(max(gaps), 6) if gaps else 0.0,
        "cost_mismatch": sum(c.cost_mismatch for c in checks),
        "not_deterministic": sum(not c.same_as_timed for c in checks),
    }


def split_stats(m: Measured, mask: NDArray[np.bool_]) -> dict[str, Any]:
    n = int(mask.sum())
    ships = m.shipments[mask]
    return {
        "orders": n,
        "split_rate": round(float((ships > 1).mean()), 4) if n else None,
        "shipments_per_order": round(float(ships.mean()), 3) if n else None,
    }


def explained(m: Measured, mask: NDArray[np.bool_]) -> tuple[dict[str, float], float]:
    """Latency of the explanation (on the orders it was timed for) and decisions/s with
    it (view + decision + the mean explanation)."""
    timed = mask & (m.explain_ns >= 0)
    explain = latency(m.explain_ns[timed])
    mean_ns = float(m.explain_ns[timed].mean()) if timed.any() else 0.0
    total_s = (float(m.view_ns[mask].sum() + m.decide_ns[mask].sum()) + mean_ns * mask.sum()) / 1e9
    return explain, round(int(mask.sum()) / total_s, 1) if total_s else 0.0
