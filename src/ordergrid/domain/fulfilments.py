"""Fulfilments: the part of an order one location handles, with its transition table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ordergrid.domain.errors import InvalidTransition


class FulfilmentStatus(StrEnum):
    RELEASED = "released"
    ACCEPTED = "accepted"
    PICKED = "picked"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    COLLECTED = "collected"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


S = FulfilmentStatus

#: Every legal move. Shipping or readying straight from `accepted` means "picked in full":
#: a WMS that reports only the shipment must not be refused.
TRANSITIONS: dict[FulfilmentStatus, frozenset[FulfilmentStatus]] = {
    S.RELEASED: frozenset({S.ACCEPTED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.ACCEPTED: frozenset(
        {S.PICKED, S.SHIPPED, S.READY_FOR_PICKUP, S.REJECTED, S.EXPIRED, S.CANCELLED}
    ),
    S.PICKED: frozenset({S.SHIPPED, S.READY_FOR_PICKUP, S.CANCELLED}),
    S.READY_FOR_PICKUP: frozenset({S.COLLECTED, S.EXPIRED, S.CANCELLED}),
    S.SHIPPED: frozenset(),
    S.COLLECTED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
}

#: Fulfilments whose units are still held at the location.
OPEN = frozenset({S.RELEASED, S.ACCEPTED, S.PICKED, S.READY_FOR_PICKUP})
#: Fulfilments whose units have left the location for the customer.
HANDED_OVER = frozenset({S.SHIPPED, S.COLLECTED})
#: Fulfilments on which the location has started work.
STARTED = frozenset({S.ACCEPTED, S.PICKED, S.READY_FOR_PICKUP})


@dataclass(slots=True)
class FulfilmentLine:
    line_id: str
    sku: str
    quantity: int
    cancelled: int = 0
    short: int = 0


@dataclass(slots=True)
class Parcel:
    carrier: str
    tracking_number: str | None = None


@dataclass(slots=True)
class Fulfilment:
    id: str
    order_id: str
    location_id: str
    status: FulfilmentStatus
    lines: list[FulfilmentLine]
    created_at: datetime
    updated_at: datetime
    parcels: list[Parcel] = field(default_factory=list)
    reason: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    def line(self, line_id: str) -> FulfilmentLine | None:
        return next((fl for fl in self.lines if fl.line_id == line_id), None)

    def move_to(self, target: FulfilmentStatus, now: datetime, actor: str | None = None) -> None:
        """Apply one transition of the table, or raise `InvalidTransition`."""
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransition("fulfilment", self.status.value, target.value)
        self.history.append(
            {"from": self.status.value, "to": target.value, "at": now.isoformat(), "by": actor}
        )
        self.status = target
        self.updated_at = now
