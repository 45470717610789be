"""Commands about cart reservations, parsed at the edge."""

from __future__ import annotations

from dataclasses import dataclass

from ordergrid.domain.network import Address
from ordergrid.service.commands import SYSTEM, Actor


@dataclass(frozen=True, slots=True)
class PlaceReservation:
    """Hold the cart's units (all or nothing) for `ttl_seconds` (the default when None)."""

    channel: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    ttl_seconds: int | None = None
    external_id: str | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""
    destination: Address | None = None
    pickup_location_id: str | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class ExtendReservation:
    reservation_id: str
    ttl_seconds: int | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class ReleaseReservation:
    reservation_id: str
    actor: Actor = SYSTEM
