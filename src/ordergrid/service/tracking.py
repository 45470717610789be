"""Saving an order with what follows from its changes: the deadlines of fulfilments that
moved, and the close of its exception case once nothing waits any more."""

from __future__ import annotations

from datetime import datetime

from ordergrid.domain.exception_queue import resolve_case
from ordergrid.domain.lifecycle_rules import LifecycleRules, deadline_for
from ordergrid.domain.orders import Order, OrderStatus
from ordergrid.service.commands import SYSTEM
from ordergrid.service.context import Context
from ordergrid.service.pegging import release_surplus_pegs
from ordergrid.service.ports import Timer, UnitOfWork
from ordergrid.service.sourcing import policy_for

#: Events that say a fulfilment changed status (its running deadline changes with it).
_MOVED = frozenset(
    {
        "fulfilment.released",
        "fulfilment.accepted",
        "fulfilment.picked",
        "fulfilment.ready_for_pickup",
        "fulfilment.shipped",
        "fulfilment.collected",
        "fulfilment.rejected",
        "fulfilment.expired",
        "fulfilment.cancelled",
        "fulfilment.uncollected",
    }
)


def rules_for(uow: UnitOfWork, order: Order) -> LifecycleRules:
    """The lifecycle rules of the policy that decides the order."""
    return policy_for(uow, order).lifecycle


def _moved(order: Order) -> dict[str, bool]:
    """Fulfilments the pending events moved, each with whether it is new in this step."""
    moved: dict[str, bool] = {}
    for e in order.events:
        if e.type in _MOVED:
            fid = str(e.data["fulfilment_id"])
            moved[fid] = moved.get(fid, True) and e.type == "fulfilment.released"
    return moved


def track_deadlines(uow: UnitOfWork, order: Order, ctx: Context) -> None:
    """Replace the deadline of every fulfilment that moved by the one its new status runs."""
    moved = _moved(order)
    if not moved:
        return
    rules = rules_for(uow, order)
    for fid, new in moved.items():
        if not new:
            uow.timers.cancel(fid)
        f = order.fulfilment(fid)
        location = None if f is None else uow.locations.get(f.location_id)
        if f is None or location is None:
            continue
        due = deadline_for(f, location.type.value, rules, f.updated_at)
        if due is not None:
            uow.timers.add(Timer(ctx.ids.new_id(), due[0].value, due[1], order.id, fid))


def settle_case(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """An order in the exception queue leaves it once none of its units waits."""
    if order.exception_id is None or order.on_hold or order.to_source():
        return
    case = uow.exceptions.get(order.exception_id)
    if case is None or not case.is_open:
        order.exception_id = None
        return
    resolution = "cancelled" if order.status is OrderStatus.CANCELLED else "placed"
    resolve_case(case, order, resolution, now, SYSTEM.name)
    uow.exceptions.save(case)


def save(uow: UnitOfWork, order: Order, ctx: Context, now: datetime) -> None:
    """Persist a changed order with its deadlines, its exception case and its pegs to
    future supply kept in step."""
    release_surplus_pegs(uow, order, SYSTEM.name)
    track_deadlines(uow, order, ctx)
    settle_case(uow, order, now)
    uow.orders.save(order)


def add(uow: UnitOfWork, order: Order, ctx: Context) -> None:
    """Persist a new order and start the deadlines of its first fulfilments."""
    track_deadlines(uow, order, ctx)
    uow.orders.add(order)
