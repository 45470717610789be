"""What the engine sees: the order's units to place and the network's stock for its SKUs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ordergrid.domain.fulfilments import HANDED_OVER
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Location
from ordergrid.domain.orders import DeliveryMethod, Order
from ordergrid.domain.sourcing.selection import OrderFacts


@dataclass(frozen=True, slots=True)
class UnitsToPlace:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class SourcingRequest:
    order_id: str
    channel: str
    method: DeliveryMethod
    lines: tuple[UnitsToPlace, ...]
    destination: tuple[float, float] | None  # lat, lon; None for store pick-up
    pickup_location_id: str | None = None
    excluded_locations: frozenset[str] = frozenset()
    #: Locations already shipping part of the order: they count against `max_shipments`.
    used_locations: frozenset[str] = frozenset()
    #: What strategy conditions look at; None: every strategy's conditions hold.
    facts: OrderFacts | None = None

    @classmethod
    def for_order(cls, order: Order) -> SourcingRequest:
        """The order's units that still need a location (undecided or back-ordered)."""
        wanted = order.to_source()
        address = order.delivery.address
        destination = None
        if address is not None and address.lat is not None and address.lon is not None:
            destination = (address.lat, address.lon)
        return cls(
            order_id=order.id,
            channel=order.channel,
            method=order.delivery.method,
            lines=tuple(
                UnitsToPlace(line.line_id, line.sku, wanted[line.line_id])
                for line in order.lines
                if line.line_id in wanted
            ),
            destination=destination,
            pickup_location_id=order.delivery.pickup_location_id,
            excluded_locations=frozenset(order.excluded_locations),
            facts=OrderFacts.of(order),
            used_locations=frozenset(
                f.location_id for f in order.fulfilments if f.is_open or f.status in HANDED_OVER
            ),
        )

    @property
    def skus(self) -> frozenset[str]:
        return frozenset(u.sku for u in self.lines)


@dataclass(frozen=True, slots=True)
class SourcingView:
    """Locations (all those that matter) and positions of the request's SKUs."""

    locations: Mapping[str, Location]
    positions: Mapping[tuple[str, str], Position] = field(default_factory=dict)
    product_tags: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Work released today per location: (orders, units).
    load: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def available(self, location_id: str, sku: str) -> int:
        p = self.positions.get((location_id, sku))
        return 0 if p is None else p.available

    def holders(self, skus: frozenset[str]) -> list[str]:
        """Locations with any on-hand of these SKUs, in a stable order."""
        return sorted(
            {loc for (loc, sku), p in self.positions.items() if sku in skus and p.on_hand > 0}
        )
