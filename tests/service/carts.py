"""Factories for cart reservations in service tests (on top of `World`)."""

from __future__ import annotations

from typing import Any

from tests.service.factories import DESTINATIONS, World

from ordergrid.domain.reservations import Reservation
from ordergrid.service.commands import Actor
from ordergrid.service.reservation_commands import (
    ExtendReservation,
    PlaceReservation,
    ReleaseReservation,
)


def reserve(
    world: World,
    *lines: tuple[str, int],
    to: str | None = "NYC",
    pickup: str | None = None,
    ttl: int | None = None,
    **options: Any,
) -> Reservation:
    """Hold a cart of (sku, quantity) lines on channel `web` (shipping to `to`)."""
    reservation, _ = reserve_returning_created(
        world, *lines, to=to, pickup=pickup, ttl=ttl, **options
    )
    return reservation


def reserve_returning_created(
    world: World,
    *lines: tuple[str, int],
    to: str | None = "NYC",
    pickup: str | None = None,
    ttl: int | None = None,
    channel: str = "web",
    external_id: str | None = None,
    key: str | None = None,
    fingerprint: str = "",
) -> tuple[Reservation, bool]:
    cmd = PlaceReservation(
        channel=channel,
        lines=tuple(lines),
        ttl_seconds=ttl,
        external_id=external_id,
        idempotency_key=key,
        fingerprint=fingerprint,
        destination=None if to is None or pickup else DESTINATIONS[to],
        pickup_location_id=pickup,
    )
    result: tuple[Reservation, bool] = world.bus.handle(cmd)
    return result


def extend(world: World, reservation_id: str, ttl: int | None = None) -> Reservation:
    found: Reservation = world.bus.handle(ExtendReservation(reservation_id, ttl))
    return found


def release(world: World, reservation_id: str, actor: Actor | None = None) -> Reservation:
    cmd = (
        ReleaseReservation(reservation_id)
        if actor is None
        else ReleaseReservation(reservation_id, actor)
    )
    found: Reservation = world.bus.handle(cmd)
    return found


def reservation(world: World, reservation_id: str) -> Reservation:
    with world.uow() as uow:
        found = uow.reservations.get(reservation_id)
    assert found is not None
    return found
