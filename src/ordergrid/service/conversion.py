"""Converting a cart reservation into the order that completes the checkout.

In the order's own transaction the held units are released without announcing them,
so the order is sourced with them counted as available to it (it gets at least what the
cart held; the engine may still choose a better plan), and what the order did not take
is announced afterwards (waking back-orders). A reservation that lapsed never costs the
shop the order: it is placed and sourced as usual, and its timeline says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.events import Event
from ordergrid.domain.inventory import Movement
from ordergrid.domain.orders import Order
from ordergrid.domain.reservations import Reservation, ReservationStatus
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.stock import apply_movements, position_data


@dataclass(frozen=True, slots=True)
class Conversion:
    """The units a converted reservation handed over, with availability before."""

    freed: tuple[Movement, ...]
    available_before: dict[tuple[str, str], int]


def _held_data(reservation: Reservation) -> list[dict[str, object]]:
    return [
        {"location_id": loc, "sku": sku, "quantity": qty}
        for (loc, sku), qty in sorted(reservation.holds().items())
    ]


def _lapsed(
    uow: UnitOfWork, order: Order, reservation: Reservation, now: datetime, actor: str | None
) -> None:
    """Expire a reservation the timer has not reached yet; note the lapse on the order."""
    if reservation.lapsed(now):
        if reservation.timer_id is not None:
            uow.timers.done(reservation.timer_id)
            reservation.timer_id = None
        apply_movements(uow, reservation.expire(now), now, None)
        uow.reservations.save(reservation)
    order.record(
        "order.reservation_lapsed",
        actor,
        reservation_id=reservation.id,
        status=reservation.status.value,
    )


def convert_hold(
    uow: UnitOfWork, order: Order, reservation_id: str, now: datetime, actor: str | None
) -> Conversion | None:
    """Hand the reservation's units to the new order; None when it held nothing."""
    reservation = uow.reservations.get(reservation_id)
    if reservation is None:
        order.record(
            "order.reservation_lapsed", actor, reservation_id=reservation_id, status="unknown"
        )
        return None
    if reservation.channel != order.channel:
        raise InvalidInput(
            f"reservation {reservation_id!r} belongs to channel {reservation.channel!r}",
            code="reservation_channel_mismatch",
            field="reservation_id",
            reservation_channel=reservation.channel,
        )
    if reservation.status is not ReservationStatus.CONVERTED and (
        reservation.status is not ReservationStatus.ACTIVE or reservation.lapsed(now)
    ):
        _lapsed(uow, order, reservation, now, actor)
        return None
    held = _held_data(reservation)
    freed = reservation.convert(order.id, now, actor)  # refuses one converted already
    before = {}
    for m in freed:
        p = uow.inventory.position(m.location_id, m.sku)
        before[(m.location_id, m.sku)] = 0 if p is None else p.available
    if reservation.timer_id is not None:
        uow.timers.done(reservation.timer_id)
        reservation.timer_id = None
    apply_movements(uow, freed, now, actor, announce=False)
    uow.reservations.save(reservation)
    order.record("order.reservation_converted", actor, reservation_id=reservation.id, held=held)
    return Conversion(tuple(freed), before)


def announce_untaken(
    uow: UnitOfWork, conversion: Conversion, now: datetime, actor: str | None
) -> None:
    """`inventory.changed` for positions the order left more available than before."""
    changed = []
    for key, before in sorted(conversion.available_before.items()):
        p = uow.inventory.position(*key)
        if p is not None and p.available > before:
            data = {**position_data(p), "reason": "release"}
            changed.append(Event("inventory.changed", data, actor=actor))
    uow.outbox.append(changed, now)
