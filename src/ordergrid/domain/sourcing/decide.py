"""`source()`: a policy's strategies tried in order, then its fallback.

The first strategy whose conditions fit the order and whose plan covers every unit is
used. When none does, the fallback (`partial`, `backorder`, `cancel`) applies to the best
plan any strategy found (most units, then cheapest), and the decision says why each
strategy did not do. When no strategy's conditions fit at all, the policy's own
constraints and costs decide.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ordergrid.domain.sourcing.decision import Decision
from ordergrid.domain.sourcing.engine import Attempt, decision_of, evaluate
from ordergrid.domain.sourcing.policy import Policy, Strategy
from ordergrid.domain.sourcing.selection import matches
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

_RULES_KEPT = 64
_rules_made: dict[tuple[int, int], tuple[Policy, Strategy, Policy]] = {}


def rules_of(policy: Policy, strategy: Strategy) -> Policy:
    """The policy with a strategy's constraints and costs; made once per pair (policies
    are immutable, and every decision under them asks again)."""
    if strategy.constraints is policy.constraints and strategy.costs is policy.costs:
        return policy
    made = _rules_made.get((id(policy), id(strategy)))
    if made is not None and made[0] is policy and made[1] is strategy:
        return made[2]
    rules = replace(policy, constraints=strategy.constraints, costs=strategy.costs)
    if len(_rules_made) >= _RULES_KEPT:
        _rules_made.clear()
    _rules_made[(id(policy), id(strategy))] = (policy, strategy, rules)
    return rules


def _better(a: Attempt, b: Attempt | None) -> bool:
    return b is None or (-a.units, a.cost) < (-b.units, b.cost)


def source(req: SourcingRequest, view: SourcingView, policy: Policy, now: datetime) -> Decision:
    """Decide where the request's units come from, with the explanation of why.

    Pure and deterministic: the same request, view, policy and time give the same
    decision (`now` matters to cut-offs, through the promise-risk term).
    """
    tried: list[dict[str, str]] = []
    fallback: tuple[Attempt, Strategy] | None = None
    for strategy in policy.strategies_to_try():
        if req.facts is not None and not matches(strategy.when, req.facts):
            tried.append({"strategy": strategy.name, "result": "conditions_not_met"})
            continue
        attempt = evaluate(req, view, rules_of(policy, strategy), now)
        if attempt.complete or attempt.total == 0:
            return decision_of(attempt, req, policy, strategy.name, tuple(tried))
        tried.append(
            {
                "strategy": strategy.name,
                "result": "incomplete",
                "detail": f"covers {attempt.units} of {attempt.total} units",
            }
        )
        if _better(attempt, None if fallback is None else fallback[0]):
            fallback = (attempt, strategy)
    if fallback is None:  # no strategy's conditions fit: the policy's own rules decide
        return decision_of(evaluate(req, view, policy, now), req, policy, None, tuple(tried))
    attempt, strategy = fallback
    return decision_of(attempt, req, policy, strategy.name, tuple(tried))
