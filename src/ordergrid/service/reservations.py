"""Cart reservations: hold stock for a checkout, extend it, release it, let it expire.

Where to hold is decided by the same engine and policy selection as an order: the cart
is sourced as the order it would become (shipped to its destination, or collected at its
pick-up store). Without either, the channel's ship policy decides without distance terms.
Holds are reservations at positions made through `apply_movements`, so availability
drops and concurrent orders and carts can never take the held units.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from decimal import Decimal

from ordergrid.domain.errors import InvalidInput, NotFound
from ordergrid.domain.inventory import Movement
from ordergrid.domain.network import Address, Capability
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.reservations import (
    InsufficientStock,
    Reservation,
    ReservationAlreadyConverted,
    ReservationLine,
    ReservationStatus,
    hold_movements,
    lines_from_decision,
    shortages,
)
from ordergrid.domain.sourcing import Fallback, OrderFacts, SourcingRequest, select_policy, source
from ordergrid.domain.sourcing.view import UnitsToPlace
from ordergrid.service.commands import SYSTEM, Actor
from ordergrid.service.context import Context
from ordergrid.service.network import locate
from ordergrid.service.orders import check_channel
from ordergrid.service.ports import Timer, UnitOfWork
from ordergrid.service.reservation_commands import (
    ExtendReservation,
    PlaceReservation,
    ReleaseReservation,
)
from ordergrid.service.sourcing import build_view
from ordergrid.service.stock import apply_movements
from ordergrid.service.timer_kinds import RESERVATION_EXPIRY, STOCK_DISCREPANCY


def load_reservation(uow: UnitOfWork, reservation_id: str, actor: Actor) -> Reservation:
    found = uow.reservations.get(reservation_id)
    if found is None:
        raise NotFound("reservation", reservation_id)
    check_channel(actor, found.channel)
    return found


def _replay(uow: UnitOfWork, cmd: PlaceReservation) -> Reservation | None:
    """The reservation an earlier identical request created, if any."""
    if cmd.idempotency_key is not None:
        seen = uow.reservations.by_idempotency_key(cmd.idempotency_key)
        if seen is not None:
            if seen.fingerprint != cmd.fingerprint:
                raise InvalidInput(
                    "this Idempotency-Key was used with a different request body",
                    code="idempotency_key_reused",
                    field="Idempotency-Key",
                )
            return seen
    if cmd.external_id is not None:
        return uow.reservations.by_external_id(cmd.channel, cmd.external_id)
    return None


def _check_lines(uow: UnitOfWork, cmd: PlaceReservation) -> None:
    if not cmd.lines:
        raise InvalidInput("a cart needs at least one line", code="lines_required", field="lines")
    known = uow.products.known({sku for sku, _ in cmd.lines})
    seen: set[str] = set()
    for i, (sku, quantity) in enumerate(cmd.lines):
        if sku not in known:
            raise InvalidInput(f"unknown SKU {sku!r}", code="unknown_sku", field=f"lines.{i}.sku")
        if sku in seen:
            raise InvalidInput(
                f"SKU {sku!r} appears twice", code="duplicate_sku", field=f"lines.{i}.sku"
            )
        if quantity < 1:
            raise InvalidInput(
                "quantity must be at least 1", code="invalid_quantity", field=f"lines.{i}.quantity"
            )
        seen.add(sku)


def _check_pickup(uow: UnitOfWork, location_id: str) -> None:
    loc = uow.locations.get(location_id)
    if loc is None:
        raise InvalidInput(
            "unknown pick-up location", code="unknown_location", field="pickup_location_id"
        )
    if Capability.PICKUP not in loc.capabilities:
        raise InvalidInput(
            f"location {loc.id!r} does not offer pickup",
            code="capability_missing",
            field="pickup_location_id",
        )


def _request(
    reservation_id: str, cmd: PlaceReservation, address: Address | None
) -> SourcingRequest:
    """The cart as the order it would become: one request line per cart line."""
    method = DeliveryMethod.PICKUP if cmd.pickup_location_id else DeliveryMethod.SHIP
    destination = None
    if address is not None and address.lat is not None and address.lon is not None:
        destination = (address.lat, address.lon)
    facts = OrderFacts(
        channel=cmd.channel,
        method=method.value,
        service_level="standard",
        country=None if address is None or address.country is None else address.country.upper(),
        postal_code=None if address is None else address.postal_code,
        value=Decimal(0),
        destination=destination,
    )
    return SourcingRequest(
        order_id=reservation_id,
        channel=cmd.channel,
        method=method,
        lines=tuple(UnitsToPlace(str(i), sku, q) for i, (sku, q) in enumerate(cmd.lines)),
        destination=destination,
        pickup_location_id=cmd.pickup_location_id,
        facts=facts,
    )


def _decide(
    uow: UnitOfWork, ctx: Context, req: SourcingRequest, now: datetime
) -> tuple[str, int, list[ReservationLine]]:
    """Where the engine would take the cart's units from: (policy, version, lines).

    The policy's fallback is set to `partial` so that a short cart learns how much of
    each SKU could be held; holding itself is all or nothing."""
    assert req.facts is not None
    policy = replace(select_policy(uow.policies.active(), req.facts), fallback=Fallback.PARTIAL)
    view = replace(build_view(uow, req, now, policy), shadow_prices=ctx.scarcity.current())
    decision = source(req, view, policy, now)
    wanted = [(u.sku, u.quantity) for u in req.lines]
    return policy.id, policy.version, lines_from_decision(wanted, decision)


def place_reservation(cmd: PlaceReservation, ctx: Context) -> tuple[Reservation, bool]:
    """Hold every unit of the cart or none (409 `insufficient_stock`); (reservation, created)."""
    check_channel(cmd.actor, cmd.channel)
    with ctx.uow() as uow:
        existing = _replay(uow, cmd)
        if existing is not None:
            return existing, False
        _check_lines(uow, cmd)
        if cmd.pickup_location_id is not None:
            _check_pickup(uow, cmd.pickup_location_id)
        address = None
        if cmd.destination is not None and cmd.pickup_location_id is None:
            address = locate(ctx, cmd.destination, "destination.postal_code")
        ttl = ctx.reservations.ttl(cmd.ttl_seconds)
        now = ctx.clock.now()
        reservation_id = ctx.ids.new_id()
        policy_id, version, lines = _decide(uow, ctx, _request(reservation_id, cmd, address), now)
        short = shortages(lines)
        if short:
            raise InsufficientStock(short)
        reservation = Reservation(
            id=reservation_id,
            channel=cmd.channel,
            lines=lines,
            created_at=now,
            updated_at=now,
            expires_at=now + ttl,
            expires_at_limit=now + ctx.reservations.max_lifetime,
            external_id=cmd.external_id,
            idempotency_key=cmd.idempotency_key,
            fingerprint=cmd.fingerprint,
            destination={} if address is None else _address_data(address),
            pickup_location_id=cmd.pickup_location_id,
        )
        apply_movements(uow, hold_movements(reservation), now, cmd.actor.name)
        _arm(uow, reservation, ctx)
        reservation.record(
            "reservation.created",
            cmd.actor.name,
            channel=reservation.channel,
            external_id=reservation.external_id,
            expires_at=reservation.expires_at.isoformat(),
            policy_id=policy_id,
            policy_version=version,
            lines=lines_data(reservation),
        )
        uow.reservations.add(reservation)
        uow.commit()
    return reservation, True


def _address_data(address: Address) -> dict[str, object]:
    return {k: v for k, v in asdict(address).items() if v is not None}


def lines_data(reservation: Reservation) -> list[dict[str, object]]:
    return [
        {
            "sku": line.sku,
            "quantity": line.quantity,
            "held": [{"location_id": h.location_id, "quantity": h.quantity} for h in line.held],
        }
        for line in reservation.lines
    ]


def _arm(uow: UnitOfWork, reservation: Reservation, ctx: Context) -> None:
    """(Re)start the timer that expires the reservation at `expires_at`."""
    if reservation.timer_id is not None:
        uow.timers.done(reservation.timer_id)
    reservation.timer_id = ctx.ids.new_id()
    uow.timers.add(
        Timer(
            reservation.timer_id,
            RESERVATION_EXPIRY,
            reservation.expires_at,
            data={"reservation_id": reservation.id},
        )
    )


def extend_reservation(cmd: ExtendReservation, ctx: Context) -> Reservation:
    """Hold for `ttl_seconds` more from now (never past the maximum lifetime)."""
    with ctx.uow() as uow:
        reservation = load_reservation(uow, cmd.reservation_id, cmd.actor)
        now = ctx.clock.now()
        reservation.extend(ctx.reservations.ttl(cmd.ttl_seconds), now, cmd.actor.name)
        _arm(uow, reservation, ctx)
        uow.reservations.save(reservation)
        uow.commit()
    return reservation


def release_reservation(cmd: ReleaseReservation, ctx: Context) -> Reservation:
    """Give the held units back. Idempotent: a reservation that no longer holds anything
    (released, expired) is returned as it is; a converted one is 409."""
    with ctx.uow() as uow:
        reservation = load_reservation(uow, cmd.reservation_id, cmd.actor)
        if reservation.status is ReservationStatus.CONVERTED:
            raise ReservationAlreadyConverted(reservation.id, reservation.order_id)
        if reservation.status is not ReservationStatus.ACTIVE:
            return reservation
        now = ctx.clock.now()
        if reservation.lapsed(now):
            freed = reservation.expire(now)
        else:
            freed = reservation.release(now, cmd.actor.name)
        end_hold(uow, reservation, freed, now, cmd.actor.name)
        uow.commit()
    return reservation


def end_hold(
    uow: UnitOfWork,
    reservation: Reservation,
    freed: list[Movement],
    now: datetime,
    actor: str | None,
) -> None:
    """Release what was held (waking back-orders), drop the timer, save."""
    if reservation.timer_id is not None:
        uow.timers.done(reservation.timer_id)
        reservation.timer_id = None
    apply_movements(uow, freed, now, actor)
    uow.reservations.save(reservation)


def expire_reservation(uow: UnitOfWork, timer: Timer, ctx: Context, now: datetime) -> None:
    """The timer's work: release the hold at `expires_at` (nothing once it has ended)."""
    reservation = uow.reservations.get(str(timer.data.get("reservation_id", "")))
    if reservation is None or reservation.status is not ReservationStatus.ACTIVE:
        return
    if reservation.timer_id != timer.id:
        return  # a timer an extension replaced
    if not reservation.lapsed(now):
        _arm(uow, reservation, ctx)  # due early (a clock step back): wait for expires_at
        uow.reservations.save(reservation)
        return
    reservation.timer_id = None  # this timer is deleted by the worker with this work
    end_hold(uow, reservation, reservation.expire(now), now, None)


def give_way(uow: UnitOfWork, location_id: str, sku: str, gap: int, now: datetime) -> int:
    """A count left a position holding `gap` more units than it has: the newest carts
    holding there are released whole first (an order outranks a cart, and half a cart
    is no hold). Returns the gap left for orders' work."""
    for reservation_id in uow.reservations.holding(location_id, sku):
        if gap <= 0:
            break
        reservation = uow.reservations.get(reservation_id)
        if reservation is None or reservation.status is not ReservationStatus.ACTIVE:
            continue
        gap -= reservation.holds().get((location_id, sku), 0)
        freed = reservation.release(now, SYSTEM.name, reason=STOCK_DISCREPANCY)
        end_hold(uow, reservation, freed, now, SYSTEM.name)
    return gap
