"""Baseline sourcing: the cheapest plan of at most `max_shipments` locations under the
API cost formula (which is a single location whenever one is cheapest), else the
policy's fallback for what cannot be covered.

For a fixed set of locations the cheapest assignment fills each line from its cheapest
location first, because unit costs are separable per line; a location left unused is the
same plan as the smaller set, which is enumerated too. Splits are only searched when a
lower bound says one could beat the best single location. With up to `EXACT_POOL`
eligible locations every set is tried (exact); beyond that, sets are drawn from a pool of
the cheapest holders of each line and the decision says so (`solver` ends in `-pooled`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from ordergrid.domain.sourcing.decision import (
    EMPTY_PLAN,
    Allocation,
    Candidate,
    Decision,
    Plan,
    Shipment,
)
from ordergrid.domain.sourcing.policy import Fallback, Policy
from ordergrid.domain.sourcing.screening import Screened, screen
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

SOLVER = "baseline-enumeration"
POOL_PER_LINE = 4
POOL_BY_COVERAGE = 8
EXACT_POOL = 12  # up to this many eligible locations, every combination is tried
RUNNER_UPS = 3


def _fill(group: tuple[Screened, ...], req: SourcingRequest, policy: Policy) -> Plan:
    """Cheapest assignment of the request's units to a fixed group of locations."""
    taken: dict[tuple[str, str], int] = defaultdict(int)
    per_loc: dict[str, list[Allocation]] = defaultdict(list)
    costs = policy.costs
    for units in req.lines:
        need = units.quantity
        for s in sorted(group, key=lambda s: (s.distance_km or 0.0, s.location.id)):
            free = s.available.get(units.sku, 0) - taken[(s.location.id, units.sku)]
            take = min(need, free)
            if take > 0:
                taken[(s.location.id, units.sku)] += take
                per_loc[s.location.id].append(Allocation(units.line_id, units.sku, take))
                need -= take
            if need == 0:
                break
    shipments = []
    for s in group:
        allocations = per_loc.get(s.location.id)
        if not allocations:
            continue
        n = sum(a.quantity for a in allocations)
        dist = s.distance_km or 0.0
        parts = {
            "per_shipment": costs.per_shipment,
            "handling": costs.handling(s.location),
            "per_unit": n * costs.per_unit,
            "distance": n * costs.per_unit_km * dist,
        }
        shipments.append(Shipment(s.location.id, tuple(allocations), s.distance_km, parts))
    return Plan(tuple(sorted(shipments, key=lambda sh: sh.location_id)))


def _rank(plan: Plan) -> tuple[int, float, int, tuple[str, ...]]:
    """More units first, then cheaper, then fewer shipments, then ids (determinism)."""
    return (
        -plan.units,
        plan.cost,
        len(plan.shipments),
        tuple(s.location_id for s in plan.shipments),
    )


def _pool(
    eligible: list[Screened], req: SourcingRequest, policy: Policy, singles: dict[str, Plan]
) -> list[Screened]:
    """Every location when there are few; else the cheapest holders of each line (fixed
    plus unit cost) and the locations covering the most units on their own."""
    if len(eligible) <= EXACT_POOL:
        return eligible
    costs = policy.costs
    chosen: dict[str, Screened] = {}
    for units in req.lines:
        holders = [s for s in eligible if s.available.get(units.sku, 0) > 0]
        holders.sort(
            key=lambda s: (
                costs.fixed(s.location) + costs.per_unit_at(s.distance_km or 0.0),
                s.location.id,
            )
        )
        chosen.update((s.location.id, s) for s in holders[:POOL_PER_LINE])
    by_cover = sorted(eligible, key=lambda s: _rank(singles[s.location.id]))
    chosen.update((s.location.id, s) for s in by_cover[:POOL_BY_COVERAGE])
    return [chosen[k] for k in sorted(chosen)]


def _variable_floor(eligible: list[Screened], req: SourcingRequest, policy: Policy) -> float:
    """No plan can pay less per unit than filling every unit from its cheapest holder."""
    everything = _fill(tuple(eligible), req, policy)
    return sum(s.cost_parts["per_unit"] + s.cost_parts["distance"] for s in everything.shipments)


def _multi(
    pool: list[Screened],
    req: SourcingRequest,
    policy: Policy,
    total: int,
    best_full: float | None,
    floor: float,
) -> list[Plan]:
    """Plans of 2..max_shipments locations; groups whose fixed costs alone already lose
    to the best complete plan are skipped (bound), which keeps the search exact."""
    plans: list[Plan] = []
    fixed = {s.location.id: policy.costs.fixed(s.location) for s in pool}
    budget = _budget(req, policy)
    for size in range(2, policy.constraints.max_shipments + 1):
        for group in combinations(pool, size):
            if sum(s.location.id not in req.used_locations for s in group) > budget:
                continue
            if (
                best_full is not None
                and sum(fixed[s.location.id] for s in group) + floor >= best_full
            ):
                continue
            plan = _fill(group, req, policy)
            if len(plan.shipments) == size:  # smaller plans are enumerated on their own
                plans.append(plan)
                if plan.units == total and (best_full is None or plan.cost < best_full):
                    best_full = plan.cost
    return plans


def _budget(req: SourcingRequest, policy: Policy) -> int:
    """How many locations not yet shipping part of the order may still be added."""
    return policy.constraints.max_shipments - len(req.used_locations)


def _fits(plan: Plan, req: SourcingRequest, budget: int) -> bool:
    return sum(sh.location_id not in req.used_locations for sh in plan.shipments) <= budget


def _verdict(
    s: Screened, single: Plan | None, chosen: Plan, total: int, budget: int, req: SourcingRequest
) -> tuple[str, str | None, str | None]:
    """(status, reason, detail) of one screened location."""
    if s.exclusion is not None:
        return "excluded", s.exclusion.reason, s.exclusion.detail
    if any(sh.location_id == s.location.id for sh in chosen.shipments):
        return "chosen", None, None
    if budget <= 0 and s.location.id not in req.used_locations:
        return (
            "scored",
            "max_shipments_reached",
            (f"the order already ships from {len(req.used_locations)} location(s)"),
        )
    if single is None or single.units == 0:
        return "scored", "beaten", "holds none of what is still needed"
    if single.units < total and chosen.units > single.units:
        return "scored", "beaten", f"alone covers {single.units} of {total} units"
    return "scored", "beaten", f"alone costs {single.cost:.2f}; chosen plan {chosen.cost:.2f}"


def _candidates(
    screened: list[Screened],
    singles: dict[str, Plan],
    chosen: Plan,
    total: int,
    req: SourcingRequest,
    policy: Policy,
) -> tuple[Candidate, ...]:
    out = []
    budget = _budget(req, policy)
    for s in screened:
        single = singles.get(s.location.id)
        status, reason, detail = _verdict(s, single, chosen, total, budget, req)
        out.append(
            Candidate(
                location_id=s.location.id,
                status=status,
                reason=reason,
                detail=detail,
                distance_km=s.distance_km,
                available=s.available,
                single_location_cost=None if single is None or not single.units else single.cost,
                covers_order=single is not None and single.units == total,
                blocked=s.blocked,
            )
        )
    return tuple(out)


def _search(
    eligible: list[Screened], req: SourcingRequest, policy: Policy, total: int
) -> tuple[dict[str, Plan], list[Plan], bool]:
    """Singles first; splits only when a split could still be cheaper than the best
    complete single (lower bound: cheapest unit costs plus the two smallest fixed costs).
    Returns the singles, every plan found (best first), and whether the search was exact."""
    singles = {s.location.id: _fill((s,), req, policy) for s in eligible}
    budget = _budget(req, policy)
    plans = [p for p in singles.values() if p.units > 0 and _fits(p, req, budget)]
    exact = True
    if policy.constraints.max_shipments > 1 and len(eligible) > 1:
        best_full = min((p.cost for p in plans if p.units == total), default=None)
        floor = _variable_floor(eligible, req, policy)
        two_fixed = sum(sorted(policy.costs.fixed(s.location) for s in eligible)[:2])
        if best_full is None or best_full > floor + two_fixed:
            pool = _pool(eligible, req, policy, singles)
            exact = len(pool) == len(eligible)
            plans += _multi(pool, req, policy, total, best_full, floor)
    plans.sort(key=_rank)
    return singles, plans, exact


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


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one set of rules (a strategy) makes of a request."""

    policy: Policy
    screened: list[Screened]
    singles: dict[str, Plan]
    plans: list[Plan]
    exact: bool
    total: int

    @property
    def best(self) -> Plan:
        return self.plans[0] if self.plans else EMPTY_PLAN

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.best.units == self.total


def evaluate(req: SourcingRequest, view: SourcingView, policy: Policy) -> Attempt:
    """Screen the locations and search plans under one set of rules."""
    total = sum(u.quantity for u in req.lines)
    screened = screen(req, view, policy)
    eligible = [s for s in screened if s.exclusion is None]
    singles, plans, exact = _search(eligible, req, policy, total)
    return Attempt(policy, screened, singles, plans, exact, total)


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
    excluded = sum(1 for s in attempt.screened if s.exclusion)
    return Decision(
        policy_id=fallback_policy.id,
        policy_version=fallback_policy.version,
        outcome=outcome,
        plan=plan,
        backordered=backordered,
        cancelled=cancelled,
        candidates=_candidates(attempt.screened, attempt.singles, plan, total, req, attempt.policy),
        runner_ups=tuple(p for p in attempt.plans if p is not best)[:RUNNER_UPS],
        solver=SOLVER if attempt.exact else f"{SOLVER}-pooled",
        summary=_summary(outcome, plan, len(attempt.screened), excluded),
        strategy=strategy,
        strategies_tried=tried,
    )
