"""Answers the sourcing engine would give a quote, read from the screening columns where
they already decide it, so a quote runs the full engine (pricing, plan search, the
decision) only where the outcome is open.

- What a pick-up store can hand over: at a named store only that store is eligible, so
  each attempt of the engine (one per strategy whose conditions fit) places as much of
  each SKU as the store may give under that strategy's screen, or nothing where the
  screen excludes the store. The first complete attempt wins; else the policy's
  fallback takes the attempt placing the most units (cost breaks ties, so attempts
  placing as many units differently are left to the engine) or back-orders everything.
- A transfer the network cannot fill: no plan places more units of a SKU than the other
  locations may give, whatever the rules.
- A transfer to a store: the screen of the missing SKUs is the same for every store of
  the quote but for the store's own row and the distances, so it is made once; each
  store's attempts then price and search as the engine does (`build_problem`,
  `search`), the first complete one deciding, without the decision and its
  explanation, which a quote does not show.

- Ship options that differ only in their service level: standard, express and next-day
  go as far as each other under the default transit tables, so the engine sees the same
  request, stock and constraints; the level reaches it only through the strategies whose
  conditions it meets and, where a policy prices by it, the rate card and the
  promise-risk term. Options equal in all of these share one engine run.

Where the columns do not decide (the store lacks something, or is excluded), the caller
runs the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from ordergrid.domain.sourcing import Policy, SourcingRequest, SourcingView
from ordergrid.domain.sourcing.decide import rules_of
from ordergrid.domain.sourcing.network_index import row_in
from ordergrid.domain.sourcing.policy import Fallback
from ordergrid.domain.sourcing.pricing import build_problem
from ordergrid.domain.sourcing.screening import Screen, screen
from ordergrid.domain.sourcing.search import search
from ordergrid.domain.sourcing.selection import matches


def _rules_tried(req: SourcingRequest, policy: Policy) -> list[tuple[int, Policy]]:
    """The rules of each attempt the engine makes on the request, in order: one per
    strategy whose conditions fit (by its place in the policy), else the policy's own
    (-1)."""
    tried = [
        (i, rules_of(policy, s))
        for i, s in enumerate(policy.strategies_to_try())
        if req.facts is None or matches(s.when, req.facts)
    ]
    return tried or [(-1, policy)]


#: Screens of the network for collection at any store, per (policy, method): one per
#: attempt the engine makes, in order.
Screens = dict[tuple[int, str], tuple[Policy, list[Screen]]]


def _network_screen(req: SourcingRequest, view: SourcingView, rules: Policy) -> Screen:
    """The attempt's screen with no store named. A store's own row is what it would be
    with the store named (naming one only excludes the others, and adds the store as a
    row of nothing when it holds none of the SKUs), so one screen serves every store."""
    return screen(replace(req, pickup_location_id=None), view, rules)


def _placed_by(screened: Screen, store: str, demand: Mapping[str, int]) -> dict[str, int] | None:
    """What one attempt places at the store: as much of each SKU as the store may give
    when it is eligible, nothing when it is not or holds none (None: an unknown store)."""
    j = screened.index.position.get(store)
    if j is None:
        return None
    i = row_in(screened.candidates, j)
    if i is None or not screened.eligible[i]:
        return {}
    have = dict(zip(screened.skus, screened.available[i].tolist(), strict=True))
    placed = {sku: min(units, have.get(sku, 0)) for sku, units in demand.items()}
    return {sku: n for sku, n in placed.items() if n > 0}


def placed_at_store(
    req: SourcingRequest,
    view: SourcingView,
    policy: Policy,
    demand: Mapping[str, int],
    screens: Screens | None = None,
) -> dict[str, int] | None:
    """The units of each SKU the engine would place at the pick-up request's store,
    read from the screens of the attempts it would make; None where only the engine can
    tell (attempts placing as many units in different ways, which cost decides).
    `screens` keeps the screens for the other stores of the same cart and view."""
    store = req.pickup_location_id
    if store is None or req.excluded_locations:
        return None
    kept: Screens = {} if screens is None else screens
    key = (id(policy), req.method.value)
    if key not in kept:
        # The entry holds its policy: no other object takes the policy's id meanwhile.
        tried = _rules_tried(req, policy)
        kept[key] = (policy, [_network_screen(req, view, rules) for _, rules in tried])
    total = sum(demand.values())
    attempts: list[dict[str, int]] = []
    for screened in kept[key][1]:
        placed = _placed_by(screened, store, demand)
        if placed is None:
            return None
        if sum(placed.values()) == total:
            return placed  # the first complete attempt decides
        attempts.append(placed)
    if policy.fallback is Fallback.BACKORDER:
        return {}  # an incomplete pick-up is back-ordered whole
    most = max(sum(p.values()) for p in attempts)
    best = {tuple(sorted(p.items())) for p in attempts if sum(p.values()) == most}
    return dict(best.pop()) if len(best) == 1 else None


#: Transfer screens with no store named, per (policy, attempt, SKUs); each entry holds
#: its policy, so no other object takes the policy's id while the entry lives.
TransferScreens = dict[tuple[int, int, frozenset[str]], tuple[Policy, Screen]]


@dataclass(frozen=True, slots=True)
class TransferPlan:
    """What the engine decides for a transfer: the shipments of its plan as (location,
    km) in location order, or None when no attempt places every unit."""

    shipments: tuple[tuple[str, float], ...] | None


def _row(screened: Screen, location_id: str) -> int | None:
    j = screened.index.position.get(location_id)
    return None if j is None else row_in(screened.candidates, j)


def _to_store(req: SourcingRequest, base: Screen, rules: Policy) -> Screen:
    """The screen `screen(req, ...)` gives, from the one with no store named: the
    excluded store's row is not eligible, and the distances are to the store."""
    assert req.destination is not None
    km = base.index.distances_to(req.destination).take(base.candidates)
    eligible = base.eligible.copy()
    for location_id in req.excluded_locations:
        i = _row(base, location_id)
        if i is not None:
            eligible[i] = False
    limit = rules.constraints.max_distance_km
    if limit is not None:
        eligible &= km <= limit
    # Made directly, not by `replace`: each store of a quote makes one, and `replace`
    # reads every field by name first.
    return Screen(base.index, base.skus, base.candidates, km, base.available, eligible, base.rules)


def transfer_plan(
    req: SourcingRequest,
    view: SourcingView,
    policy: Policy,
    now: datetime,
    screens: TransferScreens,
) -> TransferPlan | None:
    """The plan the engine would choose for a transfer request (a shipment to a store),
    attempt by attempt as `source` makes them; None where the engine is to answer (the
    exact solver would decide, nothing is left to place, or no destination is given).
    `screens` keeps the screens for the other stores of the quote."""
    if req.destination is None:
        return None
    for attempt, rules in _rules_tried(req, policy):
        key = (id(policy), attempt, req.skus)
        kept = screens.get(key)
        if kept is None:
            anywhere = replace(req, destination=None, excluded_locations=frozenset())
            kept = screens[key] = (policy, screen(anywhere, view, rules))
        base = kept[1]
        problem = build_problem(req, view, rules, _to_store(req, base, rules), now)
        if problem.total == 0:
            return None
        outcome = search(problem)
        if outcome.needs_mip is not None:
            return None
        if outcome.plans and outcome.plans[0].units == problem.total:
            rows = sorted({row for row, _ in outcome.plans[0].take})
            return TransferPlan(tuple((problem.location_id(r), problem.km(r)) for r in rows))
    return TransferPlan(None)


def transfer_cannot_fill(
    missing: Mapping[str, int], network: Mapping[str, int], at_store: Mapping[str, int]
) -> bool:
    """Whether the locations other than the store hold too few units of some missing SKU
    (`network`: what every location may give; `at_store`: what the store may give)."""
    return any(network.get(sku, 0) - at_store.get(sku, 0) < units for sku, units in missing.items())


def prices_by_service(policy: Policy) -> bool:
    """Whether the service level enters the engine's costs under the policy: a rate card
    prices parcels per level, the promise-risk term checks the level's days."""
    costs = [policy.costs, *(s.costs for s in policy.strategies)]
    return any(c.rate_card is not None or c.promise_risk_penalty for c in costs)


def ship_run_key(
    req: SourcingRequest, policy: Policy, reach_km: float | None
) -> tuple[object, ...]:
    """What a quote's engine run for a ship option depends on besides the cart, its
    destination and the view: runs with equal keys decide alike. `policy` is the one
    selected for the option (a quote holds it, so its identity is stable) and `reach_km`
    how far the option's service goes (the quote's distance limit)."""
    facts = req.facts
    fits = tuple(
        i
        for i, strategy in enumerate(policy.strategies_to_try())
        if facts is None or matches(strategy.when, facts)
    )
    level = facts.service_level if facts is not None and prices_by_service(policy) else None
    return (id(policy), req.method, reach_km, fits, level)
