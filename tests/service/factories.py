"""Factories for service tests: a fresh in-memory world and helpers to read it."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from ordergrid.adapters.memory import (
    FixedClock,
    InMemoryStore,
    SequentialIds,
    StaticGeocoder,
    unit_of_work_factory,
)
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Address
from ordergrid.domain.orders import Order
from ordergrid.service.bus import MessageBus
from ordergrid.service.commands import (
    ActOnFulfilment,
    AdjustInventory,
    AdjustmentInput,
    CancelOrder,
    LineInput,
    PlaceOrder,
    ProductInput,
    PutLocation,
    PutProducts,
    RunDueTimers,
)
from ordergrid.service.context import Context, UnitOfWorkFactory
from ordergrid.service.inventory import FeedResult
from ordergrid.service.ports import StoredDecision, StoredEvent, UnitOfWork

SKUS = ("A", "B", "C")

#: (id, type, lat, lon, capabilities, status, handling_cost)
LOCATIONS: tuple[tuple[str, str, float, float, frozenset[str], str, float], ...] = (
    ("DC-ATL", "dc", 33.749, -84.388, frozenset({"ship"}), "active", 0.0),
    ("DC-RNO", "dc", 39.5296, -119.8138, frozenset({"ship"}), "active", 0.0),
    ("ST-NY1", "store", 40.7128, -74.006, frozenset({"ship", "pickup"}), "active", 3.0),
    ("ST-NY2", "store", 40.7306, -73.9866, frozenset({"ship", "pickup"}), "paused", 3.0),
    ("ST-CHI", "store", 41.8781, -87.6298, frozenset({"ship", "pickup"}), "active", 3.5),
)
LOCATION_IDS = tuple(loc[0] for loc in LOCATIONS)

DESTINATIONS = {
    "NYC": Address(
        line1="1 Penn Plaza",
        city="New York",
        postal_code="10001",
        country="US",
        lat=40.75,
        lon=-73.99,
    ),
    "SAC": Address(
        line1="1 Capitol Mall",
        city="Sacramento",
        postal_code="95814",
        country="US",
        lat=38.58,
        lon=-121.49,
    ),
}

GEOCODER = StaticGeocoder({("US", "10001"): (40.75, -73.99), ("US", "95814"): (38.58, -121.49)})


def build_network(bus: MessageBus) -> None:
    for loc_id, type_, lat, lon, caps, status, handling in LOCATIONS:
        bus.handle(
            PutLocation(
                location_id=loc_id,
                name=loc_id,
                type=type_,
                address=Address(city=loc_id, country="US", lat=lat, lon=lon),
                capabilities=caps,
                status=status,
                handling_cost=handling,
            )
        )
    bus.handle(PutProducts(tuple(ProductInput(sku, f"Product {sku}") for sku in SKUS)))


class World:
    """The bus on a fresh store, with factories that read like the test's sentence."""

    def __init__(
        self,
        store: InMemoryStore | None = None,
        uow: UnitOfWorkFactory | None = None,
        clock: FixedClock | None = None,
    ) -> None:
        """On the in-memory store by default; `uow` (with its `clock`) runs the same
        world on a real database."""
        self.store = store or InMemoryStore()
        self.clock = clock or FixedClock(datetime.fromisoformat("2026-03-02T09:00:00+00:00"))
        self.ctx = Context(
            uow=uow or unit_of_work_factory(self.store),
            clock=self.clock,
            ids=SequentialIds(),
            geocoder=GEOCODER,
        )
        self.bus = MessageBus(self.ctx)
        self._refs = itertools.count(1)
        build_network(self.bus)

    def uow(self) -> UnitOfWork:
        return self.ctx.uow()

    # --- factories -------------------------------------------------------------------

    def stock(
        self,
        location_id: str,
        sku: str,
        delta: int,
        reason: str = "receipt",
        adjustment_id: str | None = None,
    ) -> FeedResult:
        ref = adjustment_id or f"adj-{next(self._refs)}"
        result: FeedResult = self.bus.handle(
            AdjustInventory((AdjustmentInput(ref, location_id, sku, delta, reason),))
        )
        self.clock.advance(seconds=1)
        return result

    def place(self, *lines: tuple[str, int], **options: Any) -> Order:
        """Place an order with lines 1, 2, … of (sku, quantity); options as below."""
        order, _ = self.place_returning_created(*lines, **options)
        return order

    def place_returning_created(
        self,
        *lines: tuple[str, int],
        to: str | Address = "NYC",
        method: str = "ship",
        pickup: str | None = None,
        external_id: str | None = None,
        channel: str = "web",
        key: str | None = None,
        fingerprint: str = "",
        reservation_id: str | None = None,
    ) -> tuple[Order, bool]:
        address = to if isinstance(to, Address) else DESTINATIONS[to]
        cmd = PlaceOrder(
            external_id=external_id or f"EXT-{next(self._refs)}",
            channel=channel,
            method=method,
            lines=tuple(LineInput(str(i), sku, qty) for i, (sku, qty) in enumerate(lines, 1)),
            address=None if pickup else address,
            pickup_location_id=pickup,
            idempotency_key=key,
            fingerprint=fingerprint,
            reservation_id=reservation_id,
        )
        result: tuple[Order, bool] = self.bus.handle(cmd)
        self.clock.advance(seconds=1)
        return result

    def act(
        self,
        fulfilment_id: str,
        action: str,
        *,
        reason: str | None = None,
        picked: dict[str, int] | None = None,
        worker: bool = True,
    ) -> Order:
        """Act as the location; then, unless `worker` is False, the worker runs what the
        action made due (the re-sourcing of freed units) and the order is read again."""
        cmd = ActOnFulfilment(
            fulfilment_id,
            action,
            reason=reason,
            picked=tuple((picked or {}).items()),
            parcels=(("ups", "1Z999"),) if action == "ship" else (),
        )
        order: Order = self.bus.handle(cmd)[0]
        if worker and self.work():
            order = self.order(order.id)
        self.clock.advance(seconds=1)
        return order

    def work(self) -> int:
        """Run every timer due now, as the worker does; returns how many ran."""
        ran: int = self.bus.handle(RunDueTimers(10_000))
        return ran

    def cancel(self, order_id: str, lines: dict[str, int] | None = None) -> Order:
        cmd = CancelOrder(order_id, None if lines is None else tuple(lines.items()), "customer")
        order: Order = self.bus.handle(cmd)
        self.clock.advance(seconds=1)
        return order

    # --- reads -----------------------------------------------------------------------

    def order(self, order_id: str) -> Order:
        with self.uow() as uow:
            order = uow.orders.get(order_id)
        assert order is not None
        return order

    def position(self, location_id: str, sku: str) -> Position:
        with self.uow() as uow:
            p = uow.inventory.position(location_id, sku)
        return p or Position(location_id, sku)

    def decisions(self, order_id: str) -> list[StoredDecision]:
        with self.uow() as uow:
            return uow.decisions.for_order(order_id)

    def events(self, order_id: str) -> list[StoredEvent]:
        with self.uow() as uow:
            return uow.outbox.for_order(order_id)

    def event_types(self, order_id: str) -> list[str]:
        return [e.type for e in self.events(order_id)]


def placed_at(order: Order) -> dict[str, int]:
    """Units of open or handed-over fulfilments per location."""
    out: dict[str, int] = {}
    for f in order.fulfilments:
        if f.is_open or f.status.value in ("shipped", "collected"):
            out[f.location_id] = out.get(f.location_id, 0) + f.units()
    return out


def open_fulfilment(order: Order, location_id: str | None = None) -> str:
    """The id of the order's only open fulfilment (at `location_id` when given)."""
    found = [
        f.id
        for f in order.fulfilments
        if f.is_open and (location_id is None or f.location_id == location_id)
    ]
    assert len(found) == 1, f"expected one open fulfilment, found {found}"
    return found[0]


def line_counts(order: Order, line_id: str = "1") -> dict[str, int]:
    line = order.line(line_id)
    assert line is not None
    c = order.counts(line)
    return {
        "allocated": c.allocated,
        "backordered": c.backordered,
        "shipped": c.shipped,
        "cancelled": c.cancelled,
        "unsourced": c.unsourced,
    }
