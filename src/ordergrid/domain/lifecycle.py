"""What locations and clients do to an order, as pure functions returning stock movements.

Each function changes the order aggregate (through the transition table), records the
events, and returns the `Movement`s the service layer must apply to inventory positions in
the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from ordergrid.domain.fulfilments import Fulfilment, FulfilmentStatus, Parcel
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import TERMINAL, Order, OrderStatus

S = FulfilmentStatus


def find_fulfilment(order: Order, fulfilment_id: str) -> Fulfilment:
    f = order.fulfilment(fulfilment_id)
    if f is None:
        raise NotFound("fulfilment", fulfilment_id)
    return f


def _release(f: Fulfilment, reason: MovementReason = MovementReason.RELEASE) -> list[Movement]:
    return [
        Movement(f.location_id, fl.sku, 0, -fl.quantity, reason, f.id)
        for fl in f.lines
        if fl.quantity > 0
    ]


def _consume(f: Fulfilment, reason: MovementReason) -> list[Movement]:
    return [
        Movement(f.location_id, fl.sku, -fl.quantity, -fl.quantity, reason, f.id)
        for fl in f.lines
        if fl.quantity > 0
    ]


def accept(order: Order, fid: str, now: datetime, actor: str | None = None) -> list[Movement]:
    f = find_fulfilment(order, fid)
    f.move_to(S.ACCEPTED, now, actor)
    order.record("fulfilment.accepted", actor, fulfilment_id=f.id, location_id=f.location_id)
    order.refresh_status(now, actor)
    return []


def give_back(
    order: Order,
    fid: str,
    target: FulfilmentStatus,
    reason: str,
    now: datetime,
    actor: str | None = None,
) -> list[Movement]:
    """Reject, expire or cancel-by-location: units are freed for re-sourcing elsewhere."""
    f = find_fulfilment(order, fid)
    f.move_to(target, now, actor)
    f.reason = reason
    order.excluded_locations.add(f.location_id)
    order.record(
        f"fulfilment.{target.value}",
        actor,
        fulfilment_id=f.id,
        location_id=f.location_id,
        reason=reason,
        lines=[{"line_id": fl.line_id, "quantity": fl.quantity} for fl in f.lines],
    )
    return _release(f)


def pick(
    order: Order, fid: str, picked: Mapping[str, int], now: datetime, actor: str | None = None
) -> list[Movement]:
    """Record picked quantities; lines not mentioned are picked in full.

    Units not picked are written off the location (its count was wrong), leave the
    fulfilment, and the location is excluded from re-sourcing this order.
    """
    f = find_fulfilment(order, fid)
    if f.status is not S.ACCEPTED:
        raise InvalidTransition("fulfilment", f.status.value, S.PICKED.value)
    for index, (line_id, qty) in enumerate(picked.items()):
        fl = f.line(line_id)
        if fl is None:
            raise InvalidInput(
                f"line {line_id!r} is not part of this fulfilment",
                code="unknown_line",
                field=f"lines.{index}.line_id",
                line_id=line_id,
            )
        if qty < 0:
            raise InvalidInput(
                f"picked quantity of line {line_id!r} cannot be negative",
                code="invalid_quantity",
                field=f"lines.{index}.picked",
                line_id=line_id,
            )
        if qty > fl.quantity:
            raise InvalidInput(
                f"picked {qty} of line {line_id!r} but only {fl.quantity} were asked",
                code="picked_exceeds_quantity",
                field=f"lines.{index}.picked",
                line_id=line_id,
            )
    movements: list[Movement] = []
    shorts: list[dict[str, int | str]] = []
    for fl in f.lines:
        missing = fl.quantity - picked.get(fl.line_id, fl.quantity)
        if missing > 0:
            fl.quantity -= missing
            fl.short += missing
            movements.append(
                Movement(f.location_id, fl.sku, -missing, -missing, MovementReason.SHORT_PICK, f.id)
            )
            shorts.append({"line_id": fl.line_id, "sku": fl.sku, "short": missing})
    f.move_to(S.PICKED, now, actor)
    order.record("fulfilment.picked", actor, fulfilment_id=f.id, location_id=f.location_id)
    if shorts:
        order.excluded_locations.add(f.location_id)
        order.record(
            "fulfilment.short_picked",
            actor,
            fulfilment_id=f.id,
            location_id=f.location_id,
            lines=shorts,
        )
        if f.units() == 0:
            f.move_to(S.CANCELLED, now, actor)
            f.reason = "short_pick"
            order.record(
                "fulfilment.cancelled",
                actor,
                fulfilment_id=f.id,
                location_id=f.location_id,
                reason="short_pick",
            )
    return movements


def ship(
    order: Order, fid: str, parcels: list[Parcel], now: datetime, actor: str | None = None
) -> list[Movement]:
    f = find_fulfilment(order, fid)
    if order.delivery.method.collects_at_store:
        raise Conflict(
            "this fulfilment is collected at the store, not shipped",
            code="delivery_method_mismatch",
            method=order.delivery.method.value,
        )
    f.move_to(S.SHIPPED, now, actor)
    f.parcels.extend(parcels)
    order.record(
        "fulfilment.shipped",
        actor,
        fulfilment_id=f.id,
        location_id=f.location_id,
        parcels=[{"carrier": p.carrier, "tracking_number": p.tracking_number} for p in parcels],
    )
    order.refresh_status(now, actor)
    return _consume(f, MovementReason.SHIPMENT)


def ready_for_pickup(
    order: Order, fid: str, now: datetime, actor: str | None = None
) -> list[Movement]:
    f = find_fulfilment(order, fid)
    if not order.delivery.method.collects_at_store:
        raise Conflict(
            "only pick-up and curbside fulfilments can be made ready for pick-up",
            code="delivery_method_mismatch",
            method=order.delivery.method.value,
        )
    f.move_to(S.READY_FOR_PICKUP, now, actor)
    order.record(
        "fulfilment.ready_for_pickup", actor, fulfilment_id=f.id, location_id=f.location_id
    )
    order.refresh_status(now, actor)
    return []


def collect(order: Order, fid: str, now: datetime, actor: str | None = None) -> list[Movement]:
    f = find_fulfilment(order, fid)
    f.move_to(S.COLLECTED, now, actor)
    order.record("fulfilment.collected", actor, fulfilment_id=f.id, location_id=f.location_id)
    order.refresh_status(now, actor)
    return _consume(f, MovementReason.COLLECTION)


def set_hold(
    order: Order, hold: bool, reason: str | None, now: datetime, actor: str | None = None
) -> None:
    """Hold keeps the order out of sourcing; release lets it be sourced again."""
    if order.status in TERMINAL or order.status is OrderStatus.SHIPPED:
        raise InvalidTransition("order", order.status.value, "on_hold" if hold else "released")
    if hold == order.on_hold:
        raise Conflict(
            "the order is already on hold" if hold else "the order is not on hold",
            code="already_on_hold" if hold else "not_on_hold",
            status=order.status.value,
        )
    order.on_hold = hold
    order.record("order.hold" if hold else "order.hold_released", actor, reason=reason)
    order.refresh_status(now, actor)


def not_collected(
    order: Order, fid: str, now: datetime, actor: str | None = None
) -> list[Movement]:
    """The pick-up window passed: the units are cancelled and go back to the shelf."""
    f = find_fulfilment(order, fid)
    movements = _release(f)
    f.move_to(S.CANCELLED, now, actor)
    f.reason = "not_collected"
    lines: list[dict[str, int | str]] = []
    for fl in f.lines:
        line = order.line(fl.line_id)
        if line is None or fl.quantity == 0:
            continue
        line.cancelled += fl.quantity
        fl.cancelled += fl.quantity
        lines.append({"line_id": fl.line_id, "quantity": fl.quantity})
        fl.quantity = 0
    order.record(
        "fulfilment.uncollected",
        actor,
        fulfilment_id=f.id,
        location_id=f.location_id,
        reason="not_collected",
        lines=lines,
    )
    order.refresh_status(now, actor)
    return movements


def withdraw_units(
    order: Order,
    fid: str,
    sku: str,
    wanted: int,
    reason: str,
    now: datetime,
    actor: str | None = None,
) -> list[Movement]:
    """Take up to `wanted` units of a SKU off a fulfilment whose location turned out not
    to have them (a stock feed says so); they wait for re-sourcing elsewhere."""
    f = find_fulfilment(order, fid)
    movements: list[Movement] = []
    lines: list[dict[str, int | str]] = []
    taken = 0
    for fl in f.lines:
        if fl.sku != sku or fl.quantity == 0 or taken == wanted:
            continue
        take = min(wanted - taken, fl.quantity)
        fl.quantity -= take
        taken += take
        movements.append(Movement(f.location_id, sku, 0, -take, MovementReason.RELEASE, f.id))
        lines.append({"line_id": fl.line_id, "sku": sku, "quantity": take})
    if not movements:
        return []
    order.excluded_locations.add(f.location_id)
    order.record(
        "fulfilment.reduced",
        actor,
        fulfilment_id=f.id,
        location_id=f.location_id,
        reason=reason,
        lines=lines,
    )
    if f.units() == 0:
        f.move_to(S.CANCELLED, now, actor)
        f.reason = reason
        order.record(
            "fulfilment.cancelled",
            actor,
            fulfilment_id=f.id,
            location_id=f.location_id,
            reason=reason,
        )
    return movements
