"""Small builders for domain unit tests: no I/O, fixed time, deterministic ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import count

from ordergrid.domain.allocation import apply_decision
from ordergrid.domain.catalogue import Product
from ordergrid.domain.inventory import Movement, Position
from ordergrid.domain.network import (
    Address,
    Capability,
    Location,
    LocationStatus,
    LocationType,
)
from ordergrid.domain.orders import Delivery, DeliveryMethod, Order, OrderLine, OrderStatus
from ordergrid.domain.sourcing import (
    DEFAULT_POLICY,
    Decision,
    Policy,
    SourcingRequest,
    source,
)
from ordergrid.domain.sourcing.view import SourcingView

#: The one instant every test uses unless it needs time to move.
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def location(
    id: str,  # noqa: A002 - the brief's builder signature mirrors Location.id
    lat: float,
    lon: float,
    type: str = "dc",  # noqa: A002 - mirrors Location.type
    caps: Iterable[str] = ("ship",),
    status: str = "active",
    handling: float = 0.0,
    tags: Iterable[str] = (),
) -> Location:
    return Location(
        id=id,
        name=f"Location {id}",
        type=LocationType(type),
        address=Address(city="Somewhere", country="FR", lat=lat, lon=lon),
        capabilities=frozenset(Capability(c) for c in caps),
        status=LocationStatus(status),
        handling_cost=handling,
        tags=frozenset(tags),
    )


def product(
    sku: str,
    name: str | None = None,
    weight_kg: float | None = None,
    tags: Iterable[str] = (),
) -> Product:
    return Product(
        sku=sku,
        name=name or f"Product {sku}",
        weight_kg=weight_kg,
        tags=frozenset(tags),
    )


def position(
    location_id: str, sku: str, on_hand: int, reserved: int = 0, safety_stock: int = 0
) -> Position:
    return Position(location_id, sku, on_hand=on_hand, reserved=reserved, safety_stock=safety_stock)


def order(
    lines: Iterable[tuple[str, str, int]] = (("1", "A", 1),),
    method: str = "ship",
    dest: tuple[float, float] | None = (48.85, 2.35),
    pickup: str | None = None,
    id: str = "O1",  # noqa: A002 - mirrors Order.id
    channel: str = "web",
    now: datetime = NOW,
) -> Order:
    delivery_method = DeliveryMethod(method)
    address = None
    if not delivery_method.collects_at_store and dest is not None:
        address = Address(city="Dest", country="FR", lat=dest[0], lon=dest[1])
    return Order(
        id=id,
        external_id=f"EXT-{id}",
        channel=channel,
        delivery=Delivery(delivery_method, address=address, pickup_location_id=pickup),
        lines=[OrderLine(line_id, sku, qty) for line_id, sku, qty in lines],
        created_at=now,
        updated_at=now,
    )


def view(
    locations: Iterable[Location],
    stock: Mapping[tuple[str, str], int] | None = None,
    reserved: Mapping[tuple[str, str], int] | None = None,
) -> SourcingView:
    """A view of `locations` with on-hand `stock[(loc, sku)]` (and optional reservations)."""
    reserved = reserved or {}
    positions = {
        key: position(key[0], key[1], on_hand, reserved.get(key, 0))
        for key, on_hand in (stock or {}).items()
    }
    return SourcingView({loc.id: loc for loc in locations}, positions)


def ids(prefix: str = "F") -> Iterator[str]:
    """Deterministic id source: F1, F2, …"""
    return (f"{prefix}{n}" for n in count(1))


def sourced(
    o: Order,
    v: SourcingView,
    policy: Policy = DEFAULT_POLICY,
    id_source: Iterator[str] | None = None,
    now: datetime = NOW,
) -> tuple[Decision, list[Movement]]:
    """Source the order's open units and apply the decision, as the service layer does."""
    decision = source(SourcingRequest.for_order(o), v, policy, now)
    movements = apply_decision(o, decision, id_source if id_source is not None else ids(), now)
    return decision, movements


def status(o: Order) -> OrderStatus:
    """The order's current status (a call, so type checkers do not keep a stale narrowing)."""
    return o.status


def accounting_holds(o: Order) -> bool:
    """quantity = allocated + backordered + shipped + cancelled on every line."""
    for line in o.lines:
        c = o.counts(line)
        if (
            c.unsourced != 0
            or line.quantity != c.allocated + c.backordered + c.shipped + c.cancelled
        ):
            return False
    return True


class LookupSpy(dict[str, int]):
    """A network index's location lookup (`NetworkIndex.position`) that notes the ids it
    is asked for, to tell whether a layout looked locations up."""

    def __init__(self, found: dict[str, int], asked: list[str]) -> None:
        super().__init__(found)
        self.asked = asked

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        self.asked.append(key)
        return super().get(key, default)
