"""Orders, their lines and the status derived from lines and fulfilments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ordergrid.domain.events import Event
from ordergrid.domain.fulfilments import HANDED_OVER, STARTED, Fulfilment, FulfilmentStatus
from ordergrid.domain.network import Address


class OrderStatus(StrEnum):
    RECEIVED = "received"
    ON_HOLD = "on_hold"
    ALLOCATED = "allocated"
    PARTIALLY_ALLOCATED = "partially_allocated"
    BACKORDERED = "backordered"
    IN_PROGRESS = "in_progress"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})
_ANNOUNCED_ELSEWHERE = frozenset(
    {OrderStatus.RECEIVED, OrderStatus.BACKORDERED, OrderStatus.ON_HOLD}
)


class DeliveryMethod(StrEnum):
    SHIP = "ship"
    SAME_DAY = "same_day"
    PICKUP = "pickup"
    CURBSIDE = "curbside"

    @property
    def collects_at_store(self) -> bool:
        return self in (DeliveryMethod.PICKUP, DeliveryMethod.CURBSIDE)


class ServiceLevel(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    NEXT_DAY = "next_day"


@dataclass(frozen=True, slots=True)
class Delivery:
    method: DeliveryMethod
    service_level: ServiceLevel = ServiceLevel.STANDARD
    address: Address | None = None
    pickup_location_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryPromise:
    """The delivery dates the shop showed the customer (from a promise quote)."""

    latest: datetime
    earliest: datetime | None = None


@dataclass(slots=True)
class OrderLine:
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal | None = None
    backordered: int = 0
    cancelled: int = 0


@dataclass(frozen=True, slots=True)
class LineCounts:
    """How the units of one line are accounted for; `unsourced` is 0 once decided."""

    allocated: int
    backordered: int
    shipped: int
    cancelled: int
    unsourced: int


@dataclass(slots=True)
class Order:
    id: str
    external_id: str
    channel: str
    delivery: Delivery
    lines: list[OrderLine]
    created_at: datetime
    updated_at: datetime
    customer: dict[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    fulfilments: list[Fulfilment] = field(default_factory=list)
    status: OrderStatus = OrderStatus.RECEIVED
    on_hold: bool = False
    excluded_locations: set[str] = field(default_factory=set)
    #: Automatic re-sourcings after failures; bounded by the policy's `max_attempts`.
    reallocations: int = 0
    #: The open exception a person has to look at, if any.
    exception_id: str | None = None
    #: What the customer was promised; sourcing weighs locations that would break it.
    promise: DeliveryPromise | None = None
    #: When a pick-up order waiting for a transfer to its store is ready at the latest.
    pickup_ready_by: datetime | None = None
    version: int = 0
    events: list[Event] = field(default_factory=list)

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)

    def fulfilment(self, fulfilment_id: str) -> Fulfilment | None:
        return next((f for f in self.fulfilments if f.id == fulfilment_id), None)

    def counts(self, line: OrderLine) -> LineCounts:
        allocated = shipped = 0
        for f in self.fulfilments:
            fl = f.line(line.line_id)
            if fl is None:
                continue
            if f.is_open:
                allocated += fl.quantity
            elif f.status in HANDED_OVER:
                shipped += fl.quantity
        unsourced = line.quantity - allocated - shipped - line.backordered - line.cancelled
        return LineCounts(allocated, line.backordered, shipped, line.cancelled, unsourced)

    def to_source(self) -> dict[str, int]:
        """Units per line still waiting for a location: undecided plus back-ordered."""
        out: dict[str, int] = {}
        for line in self.lines:
            c = self.counts(line)
            if c.unsourced + c.backordered > 0:
                out[line.line_id] = c.unsourced + c.backordered
        return out

    def record(self, event_type: str, actor: str | None = None, **data: Any) -> None:
        self.events.append(Event(event_type, data, order_id=self.id, actor=actor))

    def refresh_status(self, now: datetime, actor: str | None = None) -> None:
        """Derive the status from lines and fulfilments; emit `order.<status>` on change.

        `order.received`, `order.backordered` and the hold are announced by what caused
        them (capture, allocation with the units, the hold itself), so not again here.
        """
        new = derive_status(self)
        if new is not self.status:
            old, self.status = self.status, new
            if new not in _ANNOUNCED_ELSEWHERE:
                self.record(f"order.{new.value}", actor, previous=old.value)
        self.updated_at = now


def derive_status(order: Order) -> OrderStatus:  # noqa: PLR0911 - one return per status
    """The order status as a function of its state; never assigned by hand."""
    totals = [order.counts(line) for line in order.lines]
    live = sum(line.quantity - c.cancelled for line, c in zip(order.lines, totals, strict=True))
    shipped = sum(c.shipped for c in totals)
    allocated = sum(c.allocated for c in totals)
    waiting = sum(c.backordered + c.unsourced for c in totals)
    if live == 0:
        return OrderStatus.CANCELLED
    if order.on_hold and shipped < live:
        return OrderStatus.ON_HOLD
    if shipped == live:
        carrier = any(f.status is FulfilmentStatus.SHIPPED for f in order.fulfilments)
        return OrderStatus.SHIPPED if carrier else OrderStatus.COMPLETED
    if shipped > 0:
        return OrderStatus.PARTIALLY_SHIPPED
    if waiting > 0:
        if allocated > 0:
            return OrderStatus.PARTIALLY_ALLOCATED
        backordered = sum(c.backordered for c in totals)
        return OrderStatus.BACKORDERED if backordered > 0 else OrderStatus.RECEIVED
    open_ = [f for f in order.fulfilments if f.is_open]
    if open_ and all(f.status is FulfilmentStatus.READY_FOR_PICKUP for f in open_):
        return OrderStatus.READY_FOR_PICKUP
    if any(f.status in STARTED for f in open_):
        return OrderStatus.IN_PROGRESS
    return OrderStatus.ALLOCATED
