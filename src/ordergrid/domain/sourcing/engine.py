"""One set of rules applied to a request: screen the network, price the eligible
locations, search the plans (exactly), and explain the outcome.

The search works on columns (numpy) so that large networks stay fast; the explanation
of every candidate is written out only when the decision is read or stored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np

from ordergrid.domain.sourcing import mip
from ordergrid.domain.sourcing.decision import (
    EMPTY_PLAN,
    Allocation,
    Candidate,
    Decision,
    Explanation,
    Plan,
    Shipment,
)
from ordergrid.domain.sourcing.policy import Fallback, Policy
from ordergrid.domain.sourcing.pricing import Problem, build_problem, parcel_price
from ordergrid.domain.sourcing.screening import Exclusion, Screen, screen
from ordergrid.domain.sourcing.search import Found, Singles, best_first, search, singles
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

ENUMERATION = "enumeration"
RUNNER_UPS = 3


@dataclass(eq=False)
class Attempt:
    """What one set of rules (a strategy) makes of a request."""

    policy: Policy
    req: SourcingRequest
    view: SourcingView
    screen: Screen
    problem: Problem
    found: list[Found]  # best first
    solver: str
    gap: float

    @property
    def total(self) -> int:
        return self.problem.total

    @property
    def units(self) -> int:
        return self.found[0].units if self.found else 0

    @property
    def cost(self) -> float:
        return self.found[0].cost if self.found else 0.0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.units == self.total

    @cached_property
    def best(self) -> Plan:
        return plan_of(self.problem, self.req, self.found[0]) if self.found else EMPTY_PLAN


def evaluate(req: SourcingRequest, view: SourcingView, policy: Policy, now: datetime) -> Attempt:
    """Screen the locations and search plans under one set of rules."""
    screened = screen(req, view, policy)
    problem = build_problem(req, view, policy, screened, now)
    outcome = search(problem)
    plans, solver, gap = outcome.plans, ENUMERATION, 0.0
    if outcome.needs_mip is not None:
        budget = policy.constraints.time_budget_ms / 1000
        result = mip.solve(outcome.problem or problem, outcome.needs_mip, budget)
        solver = mip.SOLVER if result.optimal else f"{mip.SOLVER}-time-limit"
        gap = result.gap
        if result.plan is not None and result.plan.units:
            plans = [result.plan, *plans]
        plans = best_first(plans)
    return Attempt(policy, req, view, screened, problem, plans, solver, gap)


def plan_of(p: Problem, req: SourcingRequest, f: Found) -> Plan:
    """The plan a search result stands for: units back on the order's lines, and the
    cost of each shipment in its parts."""
    per_row: dict[int, dict[int, int]] = defaultdict(dict)
    for (row, col), n in f.take.items():
        per_row[row][col] = n
    open_lines = {u.line_id: u.quantity for u in req.lines}
    shipments = []
    for k, row in enumerate(sorted(per_row)):
        takes = per_row[row]
        shipments.append(
            Shipment(
                p.location_id(row),
                _allocations(p, req, takes, open_lines),
                None if p.distance is None else float(p.distance[row]),
                _parts(p, row, takes, first=k == 0),
            )
        )
    return Plan(tuple(shipments))


def _allocations(
    p: Problem, req: SourcingRequest, takes: dict[int, int], open_lines: dict[str, int]
) -> tuple[Allocation, ...]:
    """A shipment's units of each SKU given to the lines of that SKU still open, in
    line order (`open_lines` is shared by the plan's shipments)."""
    left = {p.skus[c]: n for c, n in takes.items()}
    out = []
    for units in req.lines:
        n = min(open_lines[units.line_id], left.get(units.sku, 0))
        if n > 0:
            out.append(Allocation(units.line_id, units.sku, n))
            left[units.sku] -= n
            open_lines[units.line_id] -= n
    return tuple(out)


def _parts(p: Problem, row: int, takes: dict[int, int], first: bool) -> dict[str, float]:
    costs = p.costs
    n = sum(takes.values())
    km = 0.0 if p.distance is None else float(p.distance[row])
    parts = p.fixed_parts(row)
    if costs.rate_card is not None:
        parts["parcel"] = parcel_price(p, row, takes)
    parts["per_unit"] = n * costs.per_unit
    parts["distance"] = 0.0 if costs.rate_card is not None else n * costs.per_unit_km * km
    alone = {c: t for c, t in takes.items() if p.ship_alone[c]}
    if alone:
        card = costs.rate_card
        parts["ship_alone_parcels"] = sum(
            t
            * (
                costs.per_shipment
                if card is None
                else card.price(p.service_level, km, float(p.weights[c]))
            )
            for c, t in alone.items()
        )
    scarcity = sum(t * float(p.shadow[row, c]) for c, t in takes.items())
    if scarcity:
        parts["scarcity"] = scarcity
    protected = sum(t - min(t, int(p.base[row, c])) for c, t in takes.items())
    if protected and p.extra[row]:
        parts["last_units"] = protected * float(p.extra[row])
    if p.split and not first:
        parts["split"] = p.split
    return parts


def _outcome(
    best: Plan, req: SourcingRequest, policy: Policy, total: int
) -> tuple[str, Plan, dict[str, int], dict[str, int]]:
    if best.units == total:
        return "allocated", best, {}, {}
    placed: dict[str, int] = defaultdict(int)
    for sh in best.shipments:
        for a in sh.allocations:
            placed[a.line_id] += a.quantity
    missing = {
        u.line_id: u.quantity - placed[u.line_id]
        for u in req.lines
        if u.quantity > placed[u.line_id]
    }
    if policy.fallback is Fallback.BACKORDER:
        return "backordered", EMPTY_PLAN, {u.line_id: u.quantity for u in req.lines}, {}
    if policy.fallback is Fallback.CANCEL:
        return ("partially_allocated" if best.units else "cancelled"), best, {}, missing
    return ("partially_allocated" if best.units else "backordered"), best, missing, {}


def _summary(outcome: str, plan: Plan, n_candidates: int, n_excluded: int) -> str:
    where = ", ".join(s.location_id for s in plan.shipments) or "no location"
    return (
        f"{outcome}: {plan.units} unit(s) from {where} at cost {plan.cost:.2f}; "
        f"{n_candidates} candidate(s), {n_excluded} excluded"
    )


def decision_of(
    attempt: Attempt,
    req: SourcingRequest,
    fallback_policy: Policy,
    strategy: str | None,
    tried: tuple[dict[str, str], ...],
) -> Decision:
    """The decision for an attempt: its best plan, or the policy's fallback for the rest."""
    best, total = attempt.best, attempt.total
    outcome, plan, backordered, cancelled = _outcome(best, req, fallback_policy, total)
    if total == 0:
        outcome = "nothing_to_source"
    n_candidates = len(attempt.screen.candidates)
    excluded = n_candidates - int(attempt.screen.eligible.sum())
    p = attempt.problem
    return Decision(
        policy_id=fallback_policy.id,
        policy_version=fallback_policy.version,
        outcome=outcome,
        plan=plan,
        backordered=backordered,
        cancelled=cancelled,
        explanation=Explanation(
            lambda: (
                _candidates(attempt, plan),
                tuple(plan_of(p, req, f) for f in attempt.found[1 : 1 + RUNNER_UPS]),
            )
        ),
        solver=attempt.solver,
        optimality_gap=attempt.gap,
        summary=_summary(outcome, plan, n_candidates, excluded),
        strategy=strategy,
        strategies_tried=tried,
    )


def _candidates(attempt: Attempt, chosen: Plan) -> tuple[Candidate, ...]:
    """Every candidate with its verdict: excluded by a named constraint, chosen, or
    scored and beaten (with why, and what it would cost alone, in parts)."""
    p, req, total = attempt.problem, attempt.req, attempt.total
    alone = singles(p)
    parts = _alone_parts(p, alone)
    rows = p.network_rows.tolist()
    row_of = {j: r for r, j in enumerate(rows)}
    in_plan = {s.location_id for s in chosen.shipments}
    shipping = {p.location_id(r) for r in np.flatnonzero(p.used).tolist()}
    alone_units, alone_cost = alone.units.tolist(), alone.cost.tolist()
    out = []
    screened = attempt.screen.explain_all(req, attempt.view, attempt.policy)
    for j, s in zip(attempt.screen.candidates.tolist(), screened, strict=True):
        row = row_of.get(j) if s.exclusion is None else None
        units = 0 if row is None else int(alone_units[row])
        cost = None if row is None or not units else round(float(alone_cost[row]), 6)
        status, reason, detail = _verdict(
            s.exclusion, s.location.id, units, cost, chosen, total, p, in_plan, shipping
        )
        out.append(
            Candidate(
                location_id=s.location.id,
                status=status,
                reason=reason,
                detail=detail,
                distance_km=s.distance_km,
                available=s.available,
                single_location_cost=cost,
                covers_order=units == total,
                blocked=s.blocked,
                cost_parts=None if row is None else parts[row],
            )
        )
    return tuple(out)


def _alone_parts(p: Problem, alone: Singles) -> list[dict[str, float]]:
    """What each location would cost shipping what it can alone, in parts (columns)."""
    costs = p.costs
    taken = alone.first + alone.rest
    units = taken.sum(axis=1)
    per_unit = (units * costs.per_unit).tolist()
    km = np.zeros(len(p)) if p.distance is None else p.distance
    by_km = 0.0 if costs.rate_card is not None else costs.per_unit_km
    distance = (units * by_km * km).tolist()
    scarcity = (taken * p.shadow).sum(axis=1).tolist()
    last = (alone.rest.sum(axis=1) * p.extra).tolist()
    alone_units = taken[:, p.ship_alone].sum(axis=1).tolist()
    out = []
    for row in range(len(p)):
        if not units[row]:
            out.append(p.fixed_parts(row))
            continue
        takes = {c: n for c, n in enumerate(taken[row].tolist()) if n}
        if costs.rate_card is not None or alone_units[row]:
            out.append(_parts(p, row, takes, first=True))
            continue
        parts = p.fixed_parts(row)
        parts["per_unit"], parts["distance"] = per_unit[row], distance[row]
        if scarcity[row]:
            parts["scarcity"] = scarcity[row]
        if last[row]:
            parts["last_units"] = last[row]
        out.append(parts)
    return out


def _verdict(
    exclusion: Exclusion | None,
    loc_id: str,
    units: int,
    cost: float | None,
    chosen: Plan,
    total: int,
    p: Problem,
    in_plan: set[str],
    shipping: set[str],
) -> tuple[str, str | None, str | None]:
    if exclusion is not None:
        return "excluded", exclusion.reason, exclusion.detail
    if loc_id in in_plan:
        return "chosen", None, None
    if p.budget <= 0 and loc_id not in shipping:
        return (
            "scored",
            "max_shipments_reached",
            (f"the order already ships from {p.max_shipments - p.budget} location(s)"),
        )
    if units == 0:
        return "scored", "beaten", "holds none of what is still needed"
    if units < total and chosen.units > units:
        return "scored", "beaten", f"alone covers {units} of {total} units"
    return "scored", "beaten", f"alone costs {cost:.2f}; chosen plan {chosen.cost:.2f}"
