"""One set of rules applied to a request: screen the network, price the eligible
locations, search the plans (exactly), and explain the outcome.

The search works on columns (numpy) so that large networks stay fast; the explanation
of every candidate is written out only when the decision is read or stored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

import numpy as np

from ordergrid.domain.sourcing import mip
from ordergrid.domain.sourcing.decision import (
    EMPTY_PLAN,
    Allocation,
    Decision,
    Explanation,
    Plan,
    Shipment,
)
from ordergrid.domain.sourcing.explanation import (
    CHOSEN,
    COSTS_MORE,
    COVERS_PART,
    EXCLUDED,
    HOLDS_NONE,
    MAX_SHIPMENTS,
    CandidateColumns,
    Priced,
)
from ordergrid.domain.sourcing.network_index import IntArray, where
from ordergrid.domain.sourcing.policy import Fallback, Policy
from ordergrid.domain.sourcing.pricing import (
    ALWAYS_SHOWN,
    FIXED_PARTS,
    Problem,
    build_problem,
    parcel_price,
)
from ordergrid.domain.sourcing.screening import Screen, screen
from ordergrid.domain.sourcing.search import (
    Found,
    Outcome,
    Singles,
    best_first,
    search,
    singles,
)
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
    found: list[Found]  # best first (the best at least)
    solver: str
    gap: float
    outcome: Outcome  # the search's, for its runner-ups

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
    if plans is not outcome.plans:  # the MIP decided: every plan found is on the table
        outcome = replace(outcome, plans=plans, later=None)
    return Attempt(policy, req, view, screened, problem, plans, solver, gap, outcome)


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
                candidate_columns(attempt, plan),
                tuple(plan_of(p, req, f) for f in attempt.outcome.runner_ups(RUNNER_UPS)),
            )
        ),
        solver=attempt.solver,
        optimality_gap=attempt.gap,
        summary=_summary(outcome, plan, n_candidates, excluded),
        strategy=strategy,
        strategies_tried=tried,
    )


# Unit-cost parts of a candidate alone, after its fixed parts, in the order shown.
_UNIT_PARTS = ("parcel", "per_unit", "distance", "ship_alone_parcels", "scarcity", "last_units")


def candidate_columns(attempt: Attempt, chosen: Plan) -> CandidateColumns:
    """Every candidate's verdict, made from the engine's arrays at once: excluded by a
    named constraint (spelled out for those few only), chosen, or scored and beaten, with
    what it would cost alone, in parts."""
    sc, p, total = attempt.screen, attempt.problem, attempt.total
    n = len(sc.candidates)
    rows = where(sc.eligible)  # the problem's rows, at these candidate positions
    alone = singles(p)
    units = np.zeros(n, dtype=np.int64)
    units[rows] = alone.units
    verdict = np.full(n, EXCLUDED, dtype=np.int64)
    verdict[rows] = _row_verdicts(p, alone, chosen, total)
    exclusions = _exclusions(attempt, where(~sc.eligible), verdict, p)
    priced = rows[alone.units > 0]
    return CandidateColumns(
        skus=sc.skus,
        location_id=[sc.index.ids[j] for j in sc.candidates.tolist()],
        verdict=verdict,
        exclusions=exclusions,
        distance_km=sc.distance,
        available=sc.available,
        blocked=sc.blocked(attempt.req, attempt.policy),
        units_alone=units,
        cost_alone=Priced(priced, alone.cost[alone.units > 0]),
        cost_parts=_alone_parts(p, alone, rows),
        total=total,
        chosen_units=chosen.units,
        chosen_cost=chosen.cost,
        shipping=p.max_shipments - p.budget,
    )


def _row_verdicts(p: Problem, alone: Singles, chosen: Plan, total: int) -> IntArray:
    """Why each eligible location was (not) chosen, in the order the reasons apply."""
    units = alone.units
    verdict = np.full(len(p), COSTS_MORE, dtype=np.int64)
    verdict[(units < total) & (chosen.units > units)] = COVERS_PART
    verdict[units == 0] = HOLDS_NONE
    if p.budget <= 0:
        verdict[~p.used] = MAX_SHIPMENTS
    in_plan = {s.location_id for s in chosen.shipments}
    for row, loc_id in enumerate(p.location_ids):
        if loc_id in in_plan:
            verdict[row] = CHOSEN
    return verdict


def _exclusions(
    attempt: Attempt, at: IntArray, verdict: IntArray, p: Problem
) -> dict[int, tuple[str, str]]:
    """The constraint that excludes each candidate not eligible, spelled out."""
    out = {}
    positions = at.tolist()
    found = attempt.screen.exclusions(attempt.req, attempt.view, attempt.policy, positions)
    for i, exclusion in zip(positions, found, strict=True):
        if exclusion is not None:
            out[i] = (exclusion.reason, exclusion.detail)
        else:  # not eligible, yet no constraint names why: nothing of it is usable
            verdict[i] = MAX_SHIPMENTS if p.budget <= 0 else HOLDS_NONE
    return out


def _alone_parts(p: Problem, alone: Singles, rows: IntArray) -> dict[str, Priced]:
    """What each eligible location would cost shipping what it can alone, part by part,
    at candidate positions: its fixed parts, then the units' (per unit, distance, their
    future value, protected last units). A rate card or ship-alone units price parcels
    by weight: those locations are priced one by one."""
    costs = p.costs
    taken, useful = alone.taken, alone.units > 0
    n_units = alone.units.astype(np.float64)
    km = np.zeros(len(p)) if p.distance is None else p.distance
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, column in p.fixed_columns.items():
        shown = np.ones(len(p), dtype=bool) if name in ALWAYS_SHOWN else column != 0
        columns[name] = (shown, column)
    by_km = 0.0 if costs.rate_card is not None else costs.per_unit_km
    columns["per_unit"] = (useful, n_units * costs.per_unit)
    columns["distance"] = (useful, n_units * by_km * km)
    scarcity = (taken * p.shadow).sum(axis=1)
    columns["scarcity"] = (useful & (scarcity != 0), scarcity)
    if alone.rest is not None:
        last = alone.rest.sum(axis=1) * p.extra
        columns["last_units"] = (useful & (last != 0), last)
    one_by_one = useful if costs.rate_card is not None else useful & taken[:, p.ship_alone].any(1)
    by_parcel = where(one_by_one).tolist()
    if by_parcel:  # written row by row below: the problem's own arrays stay as they are
        columns = {name: (shown.copy(), values.copy()) for name, (shown, values) in columns.items()}
    for row in by_parcel:
        takes = {c: t for c, t in enumerate(taken[row].tolist()) if t}
        for name, value in _parts(p, row, takes, first=True).items():
            shown, values = columns.setdefault(name, (np.zeros(len(p), bool), np.zeros(len(p))))
            shown[row], values[row] = True, value
    order = [*FIXED_PARTS, *_UNIT_PARTS]
    return {
        name: Priced(rows[shown], values[shown])
        for name in sorted(columns, key=order.index)
        for shown, values in [columns[name]]
        if shown.any()
    }
