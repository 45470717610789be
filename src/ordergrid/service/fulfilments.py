"""What a location does with its work, and the re-sourcing a failure triggers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ordergrid.domain import lifecycle
from ordergrid.domain.errors import Conflict, Forbidden, NotFound
from ordergrid.domain.fulfilments import Fulfilment, FulfilmentStatus, Parcel
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import Order
from ordergrid.service.commands import ActOnFulfilment, Actor
from ordergrid.service.context import Context
from ordergrid.service.orders import check_channel
from ordergrid.service.pickup_transfers import awaiting_transfer
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.reallocation import Failure, after_failure
from ordergrid.service.stock import apply_movements
from ordergrid.service.tracking import save

Action = Callable[[Order, ActOnFulfilment, datetime], list[Movement]]

_ACTIONS: dict[str, Action] = {
    "accept": lambda o, c, now: lifecycle.accept(o, c.fulfilment_id, now, c.actor.name),
    "reject": lambda o, c, now: lifecycle.give_back(
        o, c.fulfilment_id, FulfilmentStatus.REJECTED, c.reason or "other", now, c.actor.name
    ),
    "cancel": lambda o, c, now: lifecycle.give_back(
        o,
        c.fulfilment_id,
        FulfilmentStatus.CANCELLED,
        c.reason or "cancelled_by_location",
        now,
        c.actor.name,
    ),
    "pick": lambda o, c, now: lifecycle.pick(o, c.fulfilment_id, dict(c.picked), now, c.actor.name),
    "ship": lambda o, c, now: lifecycle.ship(
        o,
        c.fulfilment_id,
        [Parcel(carrier, tracking) for carrier, tracking in c.parcels],
        now,
        c.actor.name,
    ),
    "ready_for_pickup": lambda o, c, now: lifecycle.ready_for_pickup(
        o, c.fulfilment_id, now, c.actor.name
    ),
    "collect": lambda o, c, now: lifecycle.collect(o, c.fulfilment_id, now, c.actor.name),
}

#: Actions that can leave units without a location, with the reason code each failure
#: carries into the policy's table (a rejection names its own).
_FREEING: dict[str, Callable[[ActOnFulfilment], str]] = {
    "reject": lambda c: c.reason or "other",
    "cancel": lambda _: "cancelled_by_location",
    "pick": lambda _: "short_pick",
}
_FREED = frozenset({MovementReason.RELEASE, MovementReason.SHORT_PICK})


def _failure(cmd: ActOnFulfilment, f: Fulfilment, movements: list[Movement]) -> Failure | None:
    freed = tuple(m.sku for m in movements if m.reason in _FREED)
    if cmd.action not in _FREEING or not freed:
        return None
    reason = _FREEING[cmd.action](cmd)
    return Failure(reason, f.location_id, f.id, freed, cmd.actor.name)


def check_location(actor: Actor, location_id: str) -> None:
    if actor.locations is not None and location_id not in actor.locations:
        raise Forbidden(
            f"this token may not act for location {location_id!r}", location_id=location_id
        )


def load_fulfilment(uow: UnitOfWork, fulfilment_id: str, actor: Actor) -> tuple[Order, Fulfilment]:
    order_id = uow.orders.order_id_of_fulfilment(fulfilment_id)
    order = None if order_id is None else uow.orders.get(order_id)
    f = None if order is None else order.fulfilment(fulfilment_id)
    if order is None or f is None:
        raise NotFound("fulfilment", fulfilment_id)
    check_location(actor, f.location_id)
    check_channel(actor, order.channel)
    return order, f


def _check_complete(uow: UnitOfWork, order: Order) -> None:
    """A pick-up is handed over whole: not ready while a transfer bringing some of its
    units to the store has not been received (409 `awaiting_transfer`)."""
    waiting = awaiting_transfer(uow, order)
    if waiting:
        raise Conflict(
            f"units of order {order.id!r} are still on their way to the store",
            code="awaiting_transfer",
            supply_ids=waiting,
        )


def act(cmd: ActOnFulfilment, ctx: Context) -> tuple[Order, Fulfilment]:
    """Apply one location action. Units it frees follow the policy's failure table: the
    re-sourcing is scheduled in the same transaction and done by the worker right after."""
    with ctx.uow() as uow:
        order, f = load_fulfilment(uow, cmd.fulfilment_id, cmd.actor)
        now = ctx.clock.now()
        if cmd.action == "ready_for_pickup":
            _check_complete(uow, order)
        movements = _ACTIONS[cmd.action](order, cmd, now)
        apply_movements(uow, movements, now, cmd.actor.name)
        failure = _failure(cmd, f, movements)
        if failure is not None:
            after_failure(uow, order, failure, ctx, now)
        order.refresh_status(now, cmd.actor.name)
        save(uow, order, ctx, now)
        uow.commit()
    if failure is not None:
        ctx.wake()
    return order, f


ACTIONS = frozenset(_ACTIONS)
