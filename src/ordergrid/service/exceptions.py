"""What a person does with an order in the exception queue: retry, re-route to a chosen
location, or cancel. Each closes the case once none of the order's units waits."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ordergrid.domain.cancellation import cancel
from ordergrid.domain.errors import Conflict, InvalidInput, NotFound
from ordergrid.domain.exception_queue import ExceptionCase, resolve_case
from ordergrid.domain.lifecycle import set_hold
from ordergrid.domain.network import Capability
from ordergrid.domain.orders import Order
from ordergrid.service.commands import Actor, CancelException, RerouteException, RetryException
from ordergrid.service.context import Context
from ordergrid.service.orders import check_channel, load_order
from ordergrid.service.ports import ExceptionFilter, Page, UnitOfWork
from ordergrid.service.sourcing import record_decision, source_order
from ordergrid.service.stock import apply_movements
from ordergrid.service.tracking import save
from ordergrid.service.trial import covers, trial


def _open_case(uow: UnitOfWork, case_id: str, actor: Actor) -> tuple[ExceptionCase, Order]:
    case = uow.exceptions.get(case_id)
    if case is None:
        raise NotFound("exception", case_id)
    check_channel(actor, case.channel)
    case.check_open()
    return case, load_order(uow, case.order_id, actor)


def _release_hold(order: Order, now: datetime, actor: str) -> None:
    if order.on_hold:
        set_hold(order, False, "exception_handled", now, actor)


def _finish(
    uow: UnitOfWork,
    case: ExceptionCase,
    order: Order,
    resolution: str,
    ctx: Context,
    actor: Actor,
) -> None:
    """Close the case when nothing waits any more; else keep it open with the attempt."""
    now = ctx.clock.now()
    if order.to_source():
        case.note(f"{resolution}_incomplete", now, actor.name, waiting=order.to_source())
    else:
        resolve_case(case, order, resolution, now, actor.name)
    uow.exceptions.save(case)
    save(uow, order, ctx, now)


def retry(cmd: RetryException, ctx: Context) -> tuple[ExceptionCase, Order]:
    """Source the waiting units again, with the policy's full budget of attempts."""
    with ctx.uow() as uow:
        case, order = _open_case(uow, cmd.case_id, cmd.actor)
        now = ctx.clock.now()
        case.note("retry", now, cmd.actor.name)
        _release_hold(order, now, cmd.actor.name)
        order.reallocations = 0
        source_order(uow, order, ctx, now, cmd.actor.name, "exception_retry")
        _finish(uow, case, order, "retried", ctx, cmd.actor)
        uow.commit()
    return case, order


def _check_destination(uow: UnitOfWork, order: Order, location_id: str) -> None:
    location = uow.locations.get(location_id)
    if location is None:
        raise InvalidInput(
            f"unknown location {location_id!r}", code="unknown_location", field="location_id"
        )
    if location_id in order.excluded_locations:
        raise Conflict(
            f"location {location_id!r} already failed this order",
            code="location_excluded",
            location_id=location_id,
        )
    if order.delivery.method.collects_at_store:
        needed = Capability(order.delivery.method.value)
        if needed not in location.capabilities:
            raise InvalidInput(
                f"location {location_id!r} does not offer {needed.value}",
                code="capability_missing",
                field="location_id",
            )


def reroute(cmd: RerouteException, ctx: Context) -> tuple[ExceptionCase, Order]:
    """Place every waiting unit at the chosen location (for click & collect: the customer
    now collects there), or refuse with the engine's reason (409 `reroute_not_possible`)."""
    with ctx.uow() as uow:
        case, order = _open_case(uow, cmd.case_id, cmd.actor)
        now = ctx.clock.now()
        _check_destination(uow, order, cmd.location_id)
        _release_hold(order, now, cmd.actor.name)
        previous = order.delivery
        if previous.method.collects_at_store:
            order.delivery = replace(previous, pickup_location_id=cmd.location_id)
        decision = trial(uow, order, now, only=cmd.location_id)
        if not covers(decision, order):
            why = next(
                (c.reason for c in decision.candidates if c.location_id == cmd.location_id),
                None,
            )
            raise Conflict(
                f"location {cmd.location_id!r} cannot take every waiting unit",
                code="reroute_not_possible",
                location_id=cmd.location_id,
                reason=why or "cannot_take_every_unit",
            )
        if order.delivery != previous:
            order.record(
                "order.delivery_changed",
                cmd.actor.name,
                pickup_location_id=cmd.location_id,
                previous=previous.pickup_location_id,
            )
        order.record(
            "order.rerouted", cmd.actor.name, trigger="manual", locations=[cmd.location_id]
        )
        record_decision(uow, order, decision, ctx, now, cmd.actor.name, "manual_reroute")
        case.note("reroute", now, cmd.actor.name, location_id=cmd.location_id)
        _finish(uow, case, order, "rerouted", ctx, cmd.actor)
        uow.commit()
    return case, order


def cancel_case(cmd: CancelException, ctx: Context) -> tuple[ExceptionCase, Order]:
    """Cancel every unit of the order that has not left a location, and close the case."""
    with ctx.uow() as uow:
        case, order = _open_case(uow, cmd.case_id, cmd.actor)
        now = ctx.clock.now()
        _release_hold(order, now, cmd.actor.name)
        freed = cancel(order, None, cmd.reason or "exception_cancelled", now, cmd.actor.name)
        apply_movements(uow, freed, now, cmd.actor.name)
        _finish(uow, case, order, "cancelled", ctx, cmd.actor)
        uow.commit()
    return case, order


def cases(
    ctx: Context, flt: ExceptionFilter, limit: int, cursor: str | None, actor: Actor
) -> Page[ExceptionCase]:
    """The queue, oldest case first; an integrator sees its channels only."""
    with ctx.uow(readonly=True) as uow:
        page = uow.exceptions.page(flt, limit, cursor)
    items = [c for c in page.items if actor.channels is None or c.channel in actor.channels]
    return Page(items, page.next_cursor)


def case(ctx: Context, case_id: str, actor: Actor) -> ExceptionCase:
    with ctx.uow(readonly=True) as uow:
        found = uow.exceptions.get(case_id)
    if found is None:
        raise NotFound("exception", case_id)
    check_channel(actor, found.channel)
    return found
