"""Sourcing a set of waiting orders together.

Orders decided one at a time take the best stock for themselves; the next order may then
need two shipments where one would have done had the first gone elsewhere (Xu, Allgor &
Graves 2009). Here the waiting orders are first placed one by one, hardest first (fewest
locations that could ship them whole), then improved in turns: each order is taken out
and placed again against what the others hold, and the move is kept when it lowers the
total cost of the set. Every order's plan stays feasible under its own policy, no unit
is promised twice, and the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ordergrid.domain.sourcing.decide import source
from ordergrid.domain.sourcing.decision import Decision
from ordergrid.domain.sourcing.policy import Policy
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

MAX_ROUNDS = 3

Taken = dict[tuple[str, str], int]


def source_batch(
    requests: Sequence[SourcingRequest],
    view: SourcingView,
    policy: Policy | Sequence[Policy],
    now: datetime,
) -> list[Decision]:
    """Decisions for the waiting requests, in the order given."""
    policies = [policy] * len(requests) if isinstance(policy, Policy) else list(policy)
    order = sorted(range(len(requests)), key=lambda i: _difficulty(requests[i], view))
    taken: Taken = {}
    decisions: dict[int, Decision] = {}
    for i in order:
        decisions[i] = source(requests[i], _less(view, taken), policies[i], now)
        _hold(taken, decisions[i], +1)
    for _ in range(MAX_ROUNDS):
        if not _improve(order, requests, policies, view, taken, decisions, now):
            break
    return [decisions[i] for i in range(len(requests))]


def _improve(
    order: list[int],
    requests: Sequence[SourcingRequest],
    policies: Sequence[Policy],
    view: SourcingView,
    taken: Taken,
    decisions: dict[int, Decision],
    now: datetime,
) -> bool:
    """One turn over the set; True when some order, or pair of orders competing for the
    same stock, moved to cheaper plans."""
    moved = False
    for i in order:
        current = decisions[i]
        _hold(taken, current, -1)
        again = source(requests[i], _less(view, taken), policies[i], now)
        if _better(again, current):
            decisions[i] = again
            moved = True
        _hold(taken, decisions[i], +1)
    for i, j in _competing(order, decisions):
        pair = (decisions[i], decisions[j])
        _hold(taken, pair[0], -1)
        _hold(taken, pair[1], -1)
        best = pair
        for first, second in ((j, i), (i, j)):
            a = source(requests[first], _less(view, taken), policies[first], now)
            _hold(taken, a, +1)
            b = source(requests[second], _less(view, taken), policies[second], now)
            _hold(taken, a, -1)
            option = (a, b) if first == i else (b, a)
            if _pair_key(option) < _pair_key(best):
                best = option
        if best is not pair:
            decisions[i], decisions[j] = best
            moved = True
        _hold(taken, decisions[i], +1)
        _hold(taken, decisions[j], +1)
    return moved


def _competing(order: list[int], decisions: dict[int, Decision]) -> list[tuple[int, int]]:
    """Pairs of orders that want the same SKU: one may be better off with the other's."""
    users: dict[str, list[int]] = {}
    for i in order:
        for sku in {a.sku for s in decisions[i].plan.shipments for a in s.allocations}:
            users.setdefault(sku, []).append(i)
    pairs = {
        (min(x, y), max(x, y)) for group in users.values() for x in group for y in group if x != y
    }
    return sorted(pairs)


def _pair_key(pair: tuple[Decision, Decision]) -> tuple[int, float]:
    units = sum(d.plan.units for d in pair)
    return (-units, round(sum(d.plan.cost for d in pair), 6))


def _better(a: Decision, b: Decision) -> bool:
    return (-a.plan.units, round(a.plan.cost, 6)) < (-b.plan.units, round(b.plan.cost, 6))


def _difficulty(req: SourcingRequest, view: SourcingView) -> tuple[int, int, str]:
    """Orders that few locations can ship whole go first, larger ones before smaller."""
    whole = 0
    for loc in view.locations:
        if all(view.available(loc, u.sku) >= u.quantity for u in req.lines):
            whole += 1
    return (whole, -sum(u.quantity for u in req.lines), req.order_id)


def _hold(taken: Taken, decision: Decision, sign: int) -> None:
    for shipment in decision.plan.shipments:
        for a in shipment.allocations:
            key = (shipment.location_id, a.sku)
            taken[key] = taken.get(key, 0) + sign * a.quantity


def _less(view: SourcingView, taken: Mapping[tuple[str, str], int]) -> SourcingView:
    """The view with the units other orders of the set hold counted as reserved."""
    if not any(taken.values()):
        return view
    positions = dict(view.positions)
    for key, n in taken.items():
        p = positions.get(key)
        if p is not None and n:
            positions[key] = replace(p, reserved=p.reserved + n)
    return replace(view, positions=positions, columns=None)
