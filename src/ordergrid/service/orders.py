"""Order capture, cancellation and holds."""

from __future__ import annotations

from dataclasses import dataclass

from ordergrid.domain.cancellation import cancel, cancellable
from ordergrid.domain.errors import Forbidden, InvalidInput, NotFound
from ordergrid.domain.lifecycle import set_hold
from ordergrid.domain.network import Capability
from ordergrid.domain.orders import (
    Delivery,
    DeliveryMethod,
    Order,
    OrderLine,
    OrderStatus,
    ServiceLevel,
)
from ordergrid.domain.sourcing import OrderFacts
from ordergrid.service.batching import wait_for_batch
from ordergrid.service.commands import (
    SYSTEM,
    Actor,
    CancelChannelOrder,
    CancelOrder,
    PlaceOrder,
    SetHold,
)
from ordergrid.service.context import Context
from ordergrid.service.conversion import announce_untaken, convert_hold
from ordergrid.service.network import locate
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.sourcing import policy_for, source_order
from ordergrid.service.stock import apply_movements
from ordergrid.service.tracking import add, save


def check_channel(actor: Actor, channel: str) -> None:
    if actor.channels is not None and channel not in actor.channels:
        raise Forbidden(f"this token may not act on channel {channel!r}", channel=channel)


def load_order(uow: UnitOfWork, order_id: str, actor: Actor) -> Order:
    order = uow.orders.get(order_id)
    if order is None:
        raise NotFound("order", order_id)
    check_channel(actor, order.channel)
    if actor.locations is not None and not any(
        f.location_id in actor.locations for f in order.fulfilments
    ):
        # A location's staff see the orders they have work for, not every customer's.
        raise Forbidden("this token may not see orders of other locations", order_id=order_id)
    return order


def _replay(uow: UnitOfWork, cmd: PlaceOrder) -> Order | None:
    """The order an earlier identical request created, if any."""
    if cmd.idempotency_key is not None:
        seen = uow.idempotency.get(cmd.idempotency_key)
        if seen is not None:
            if seen[0] != cmd.fingerprint:
                raise InvalidInput(
                    "this Idempotency-Key was used with a different request body",
                    code="idempotency_key_reused",
                    field="Idempotency-Key",
                )
            return uow.orders.get(seen[1])
    return uow.orders.by_external_id(cmd.channel, cmd.external_id)


def _delivery(uow: UnitOfWork, cmd: PlaceOrder, ctx: Context) -> Delivery:
    method = DeliveryMethod(cmd.method)
    if method.collects_at_store:
        loc = uow.locations.get(cmd.pickup_location_id or "")
        field = "delivery.pickup_location_id"
        if loc is None:
            raise InvalidInput("unknown pick-up location", code="unknown_location", field=field)
        if Capability(method.value) not in loc.capabilities:
            raise InvalidInput(
                f"location {loc.id!r} does not offer {method.value}",
                code="capability_missing",
                field=field,
            )
        return Delivery(method, ServiceLevel(cmd.service_level), None, loc.id)
    assert cmd.address is not None  # required at the edge for ship and same-day
    address = locate(ctx, cmd.address, "delivery.address.postal_code")
    return Delivery(method, ServiceLevel(cmd.service_level), address)


def _check_lines(cmd: PlaceOrder) -> None:
    if not cmd.lines:
        raise InvalidInput("an order needs at least one line", code="lines_required", field="lines")
    seen: set[str] = set()
    for index, line in enumerate(cmd.lines):
        if line.line_id in seen:
            raise InvalidInput(
                f"line_id {line.line_id!r} appears twice",
                code="duplicate_line_id",
                field=f"lines.{index}.line_id",
            )
        seen.add(line.line_id)
        if line.quantity < 1:
            raise InvalidInput(
                "quantity must be at least 1",
                code="invalid_quantity",
                field=f"lines.{index}.quantity",
            )


def _new_order(uow: UnitOfWork, cmd: PlaceOrder, ctx: Context) -> Order:
    _check_lines(cmd)
    known = uow.products.known({line.sku for line in cmd.lines})
    for index, line in enumerate(cmd.lines):
        if line.sku not in known:
            raise InvalidInput(
                f"unknown SKU {line.sku!r}", code="unknown_sku", field=f"lines.{index}.sku"
            )
    now = ctx.clock.now()
    order = Order(
        id=ctx.ids.new_id(),
        external_id=cmd.external_id,
        channel=cmd.channel,
        delivery=_delivery(uow, cmd, ctx),
        lines=[OrderLine(x.line_id, x.sku, x.quantity, x.unit_price) for x in cmd.lines],
        created_at=now,
        updated_at=now,
        customer=dict(cmd.customer),
        tags=cmd.tags,
        promise=cmd.promise,
    )
    order.record(
        "order.received",
        cmd.actor.name,
        external_id=order.external_id,
        channel=order.channel,
        lines=len(order.lines),
    )
    return order


def place_order(cmd: PlaceOrder, ctx: Context) -> tuple[Order, bool]:
    """Capture and source an order in one transaction; (order, created)."""
    check_channel(cmd.actor, cmd.channel)
    with ctx.uow() as uow:
        existing = _replay(uow, cmd)
        if existing is not None:
            return existing, False
        order = _new_order(uow, cmd, ctx)
        conversion = None
        if cmd.reservation_id is not None:
            conversion = convert_hold(
                uow, order, cmd.reservation_id, order.created_at, cmd.actor.name
            )
        _hold_by_rule(uow, order)
        # A converted cart's units are sourced at once: waiting for a batch window would
        # hand them to whoever comes first.
        if conversion is not None or not wait_for_batch(uow, order, ctx, order.created_at):
            source_order(uow, order, ctx, order.created_at, cmd.actor.name, "order_placed")
        if conversion is not None:
            announce_untaken(uow, conversion, order.created_at, cmd.actor.name)
        add(uow, order, ctx)
        if cmd.idempotency_key is not None:
            uow.idempotency.put(cmd.idempotency_key, cmd.fingerprint, order.id, order.created_at)
        uow.commit()
    return order, True


def _hold_by_rule(uow: UnitOfWork, order: Order) -> None:
    """Orders the policy's hold rules catch (value, tags) wait for a person's release."""
    rules = policy_for(uow, order).lifecycle.holds
    reason = rules.reason(OrderFacts.of(order).value, order.tags)
    if reason is not None:
        set_hold(order, True, reason, order.created_at, SYSTEM.name)


def cancel_order(cmd: CancelOrder, ctx: Context) -> Order:
    with ctx.uow() as uow:
        order = load_order(uow, cmd.order_id, cmd.actor)
        now = ctx.clock.now()
        lines = None if cmd.lines is None else dict(cmd.lines)
        freed = cancel(order, lines, cmd.reason, now, cmd.actor.name)
        apply_movements(uow, freed, now, cmd.actor.name)
        save(uow, order, ctx, now)
        uow.commit()
    return order


@dataclass(frozen=True, slots=True)
class ChannelCancellation:
    """What a channel's cancellation did: `cancelled` (units cancelled now),
    `already_cancelled`, `recorded_cancelled` (unknown before: recorded cancelled),
    `already_shipped` (nothing left to cancel) or `unknown` (no order, none recorded)."""

    outcome: str
    order: Order | None


def cancel_channel_order(cmd: CancelChannelOrder, ctx: Context) -> ChannelCancellation:
    """Cancel what is left of a channel's order, or record it cancelled when the
    cancellation is the first ordergrid hears of it."""
    check_channel(cmd.actor, cmd.channel)
    with ctx.uow() as uow:
        order = uow.orders.by_external_id(cmd.channel, cmd.external_id)
        now = ctx.clock.now()
        if order is None:
            return _record_cancelled(uow, cmd, ctx)
        if order.status is OrderStatus.CANCELLED:
            return ChannelCancellation("already_cancelled", order)
        if not any(cancellable(order, line) for line in order.lines):
            return ChannelCancellation("already_shipped", order)
        freed = cancel(order, None, cmd.reason, now, cmd.actor.name)
        apply_movements(uow, freed, now, cmd.actor.name)
        save(uow, order, ctx, now)
        uow.commit()
    return ChannelCancellation("cancelled", order)


def _record_cancelled(
    uow: UnitOfWork, cmd: CancelChannelOrder, ctx: Context
) -> ChannelCancellation:
    """The order as the channel describes it, every unit cancelled before any was sourced
    (nothing reserved); `unknown` when there is no such description or it cannot be
    taken as an order (unknown SKU, unmapped store)."""
    if cmd.placement is None:
        return ChannelCancellation("unknown", None)
    try:
        order = _new_order(uow, cmd.placement, ctx)
    except InvalidInput:
        return ChannelCancellation("unknown", None)
    cancel(order, None, cmd.reason, order.created_at, cmd.actor.name)
    add(uow, order, ctx)
    uow.commit()
    return ChannelCancellation("recorded_cancelled", order)


def hold_order(cmd: SetHold, ctx: Context) -> Order:
    """Hold keeps an order out of sourcing; releasing it sources what is still waiting."""
    with ctx.uow() as uow:
        order = load_order(uow, cmd.order_id, cmd.actor)
        now = ctx.clock.now()
        set_hold(order, cmd.hold, cmd.reason, now, cmd.actor.name)
        if not cmd.hold:
            source_order(uow, order, ctx, now, cmd.actor.name, "hold_released")
        save(uow, order, ctx, now)
        uow.commit()
    return order
