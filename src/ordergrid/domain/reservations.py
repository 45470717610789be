"""Cart reservations: stock held at locations for a checkout, for a limited time.

A reservation holds units the way an order's allocation does (reserved at positions,
recorded in the ledger under `reservation:<id>`), until it is released, expires, or is
converted into an order. Its status changes only through `TRANSITIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition
from ordergrid.domain.events import Event
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.sourcing.decision import Decision


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    CONVERTED = "converted"


S = ReservationStatus
#: Every end state frees the held units; none leads anywhere else.
TRANSITIONS: dict[ReservationStatus, frozenset[ReservationStatus]] = {
    S.ACTIVE: frozenset({S.RELEASED, S.EXPIRED, S.CONVERTED}),
    S.RELEASED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CONVERTED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class ReservationLimits:
    """How long a cart may hold stock: `default_ttl` when the client names none, at
    most `max_ttl` per request, and never past `max_lifetime` after creation."""

    default_ttl: timedelta = timedelta(minutes=15)
    max_ttl: timedelta = timedelta(hours=2)
    max_lifetime: timedelta = timedelta(hours=24)

    def ttl(self, seconds: int | None) -> timedelta:
        if seconds is None:
            return self.default_ttl
        if seconds < 1 or seconds > self.max_ttl.total_seconds():
            raise InvalidInput(
                f"ttl_seconds must be between 1 and {int(self.max_ttl.total_seconds())}",
                code="invalid_ttl",
                field="ttl_seconds",
                max_ttl_seconds=int(self.max_ttl.total_seconds()),
            )
        return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Hold:
    location_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ReservationLine:
    sku: str
    quantity: int
    held: tuple[Hold, ...] = ()


class InsufficientStock(Conflict):
    """The network cannot hold every unit of the cart; nothing was held (all-or-nothing)."""

    code = "insufficient_stock"

    def __init__(self, shortages: list[dict[str, Any]]) -> None:
        skus = ", ".join(s["sku"] for s in shortages)
        super().__init__(f"not enough stock to hold {skus}", field="lines", lines=shortages)


class ReservationAlreadyConverted(Conflict):
    code = "reservation_already_converted"

    def __init__(self, reservation_id: str, order_id: str | None) -> None:
        super().__init__(
            f"reservation {reservation_id!r} was converted by order {order_id!r}",
            field="reservation_id",
            reservation_id=reservation_id,
            order_id=order_id,
        )


class ReservationNotActive(Conflict):
    """Extending a reservation that no longer holds anything."""

    def __init__(self, reservation_id: str, status: ReservationStatus) -> None:
        super().__init__(
            f"reservation {reservation_id!r} is {status.value}",
            code=f"reservation_{status.value}",
            reservation_id=reservation_id,
            status=status.value,
        )


@dataclass(slots=True)
class Reservation:
    id: str
    channel: str
    lines: list[ReservationLine]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    #: The latest `expires_at` extensions may reach.
    expires_at_limit: datetime
    status: ReservationStatus = ReservationStatus.ACTIVE
    external_id: str | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""
    #: Where the cart would be delivered: what chose the holding locations.
    destination: dict[str, Any] = field(default_factory=dict)
    pickup_location_id: str | None = None
    order_id: str | None = None
    #: The durable timer that expires it while active.
    timer_id: str | None = None
    version: int = 0
    events: list[Event] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """What the ledger records against the held units."""
        return ledger_ref(self.id)

    def holds(self) -> dict[tuple[str, str], int]:
        """Units held per (location, SKU) while active."""
        out: dict[tuple[str, str], int] = {}
        if self.status is not ReservationStatus.ACTIVE:
            return out
        for line in self.lines:
            for h in line.held:
                key = (h.location_id, line.sku)
                out[key] = out.get(key, 0) + h.quantity
        return out

    def record(self, event_type: str, actor: str | None, **data: Any) -> None:
        self.events.append(Event(event_type, {"reservation_id": self.id, **data}, actor=actor))

    def _move_to(self, new: ReservationStatus, now: datetime) -> list[Movement]:
        """Change status; returns the releases of what was held."""
        if new not in TRANSITIONS[self.status]:
            raise InvalidTransition("reservation", self.status.value, new.value)
        freed = release_movements(self)
        self.status = new
        self.updated_at = now
        return freed

    def release(
        self, now: datetime, actor: str | None, reason: str = "requested"
    ) -> list[Movement]:
        """`reason` is `requested` (the shop let go) or what took the units away."""
        freed = self._move_to(ReservationStatus.RELEASED, now)
        self.record("reservation.released", actor, channel=self.channel, reason=reason)
        return freed

    def expire(self, now: datetime) -> list[Movement]:
        freed = self._move_to(ReservationStatus.EXPIRED, now)
        self.record(
            "reservation.expired",
            None,
            channel=self.channel,
            expires_at=self.expires_at.isoformat(),
        )
        return freed

    def convert(self, order_id: str, now: datetime, actor: str | None) -> list[Movement]:
        if self.status is ReservationStatus.CONVERTED:
            raise ReservationAlreadyConverted(self.id, self.order_id)
        freed = self._move_to(ReservationStatus.CONVERTED, now)
        self.order_id = order_id
        self.record("reservation.converted", actor, channel=self.channel, order_id=order_id)
        return freed

    def extend(self, ttl: timedelta, now: datetime, actor: str | None) -> None:
        """Hold until `now + ttl`, capped at `expires_at_limit`; never shortens."""
        if self.status is not ReservationStatus.ACTIVE:
            raise ReservationNotActive(self.id, self.status)
        if now >= self.expires_at:
            raise ReservationNotActive(self.id, ReservationStatus.EXPIRED)
        self.expires_at = max(self.expires_at, min(now + ttl, self.expires_at_limit))
        self.updated_at = now
        self.record("reservation.extended", actor, expires_at=self.expires_at.isoformat())

    def lapsed(self, now: datetime) -> bool:
        """Active on paper but past its expiry (the timer has not run yet)."""
        return self.status is ReservationStatus.ACTIVE and now >= self.expires_at


def ledger_ref(reservation_id: str) -> str:
    return f"reservation:{reservation_id}"


def lines_from_decision(wanted: list[tuple[str, int]], decision: Decision) -> list[ReservationLine]:
    """The cart's lines (sku, quantity) with where the decision holds each one; the
    request's line ids are the cart's line positions."""
    held: dict[str, list[Hold]] = {}
    for shipment in decision.plan.shipments:
        for a in shipment.allocations:
            held.setdefault(a.line_id, []).append(Hold(shipment.location_id, a.quantity))
    return [
        ReservationLine(sku, qty, tuple(sorted(held.get(str(i), []), key=lambda h: h.location_id)))
        for i, (sku, qty) in enumerate(wanted)
    ]


def shortages(lines: list[ReservationLine]) -> list[dict[str, Any]]:
    """Per SKU, what was asked and what the network could hold, where it falls short."""
    asked: dict[str, int] = {}
    got: dict[str, int] = {}
    for line in lines:
        asked[line.sku] = asked.get(line.sku, 0) + line.quantity
        got[line.sku] = got.get(line.sku, 0) + sum(h.quantity for h in line.held)
    return [
        {"sku": sku, "requested": asked[sku], "available": got[sku]}
        for sku in sorted(asked)
        if got[sku] < asked[sku]
    ]


def hold_movements(reservation: Reservation) -> list[Movement]:
    return [
        Movement(loc, sku, 0, qty, MovementReason.RESERVATION, reservation.ref)
        for (loc, sku), qty in sorted(reservation.holds().items())
    ]


def release_movements(reservation: Reservation) -> list[Movement]:
    return [
        Movement(loc, sku, 0, -qty, MovementReason.RELEASE, reservation.ref)
        for (loc, sku), qty in sorted(reservation.holds().items())
    ]
