"""Read side: what the API and the console show. Read-only units of work, no commands."""

from __future__ import annotations

from datetime import datetime

from ordergrid.domain.catalogue import Product
from ordergrid.domain.errors import NotFound
from ordergrid.domain.fulfilments import Fulfilment
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Location
from ordergrid.domain.orders import Order
from ordergrid.domain.reservations import Reservation
from ordergrid.service.availability import positions_of
from ordergrid.service.commands import Actor
from ordergrid.service.context import Context
from ordergrid.service.fulfilments import load_fulfilment
from ordergrid.service.orders import load_order
from ordergrid.service.ports import (
    LedgerEntry,
    LedgerFilter,
    OrderFilter,
    Page,
    ReservationFilter,
    StoredDecision,
    StoredEvent,
)
from ordergrid.service.reservations import load_reservation


def next_timer_due(ctx: Context) -> datetime | None:
    """When the earliest timer is due (None: there is none)."""
    with ctx.uow(readonly=True) as uow:
        return uow.timers.next_due()


def orders_by_status(ctx: Context) -> dict[str, int]:
    with ctx.uow(readonly=True) as uow:
        return uow.orders.count_by_status()


def order(ctx: Context, order_id: str, actor: Actor) -> Order:
    with ctx.uow(readonly=True) as uow:
        return load_order(uow, order_id, actor)


def orders(ctx: Context, flt: OrderFilter, limit: int, cursor: str | None) -> Page[Order]:
    with ctx.uow(readonly=True) as uow:
        return uow.orders.page(flt, limit, cursor)


def timeline(ctx: Context, order_id: str, actor: Actor) -> list[StoredEvent]:
    with ctx.uow(readonly=True) as uow:
        load_order(uow, order_id, actor)
        return uow.outbox.for_order(order_id)


def decisions(ctx: Context, order_id: str, actor: Actor) -> list[StoredDecision]:
    with ctx.uow(readonly=True) as uow:
        load_order(uow, order_id, actor)
        return uow.decisions.for_order(order_id)


def fulfilment(ctx: Context, fulfilment_id: str, actor: Actor) -> tuple[Order, Fulfilment]:
    with ctx.uow(readonly=True) as uow:
        return load_fulfilment(uow, fulfilment_id, actor)


def fulfilments(
    ctx: Context, location_id: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[tuple[Order, Fulfilment]]:
    with ctx.uow(readonly=True) as uow:
        return uow.orders.fulfilments(location_id, status, limit, cursor)


def positions(ctx: Context, sku: str) -> list[Position]:
    with ctx.uow(readonly=True) as uow:
        if not uow.products.known([sku]):
            raise NotFound("product", sku)
        return positions_of(uow, sku)


def ledger(ctx: Context, flt: LedgerFilter, limit: int, cursor: str | None) -> Page[LedgerEntry]:
    """Every change of one SKU's on-hand or reserved, oldest first, `limit` at a time."""
    after = None if cursor is None else int(cursor)
    with ctx.uow(readonly=True) as uow:
        if not uow.products.known([flt.sku]):
            raise NotFound("product", flt.sku)
        entries = uow.inventory.ledger(flt, limit + 1, after)
    items = entries[:limit]
    more = len(entries) > limit
    return Page(items, str(items[-1].id) if more and items else None)


def location(ctx: Context, location_id: str) -> Location:
    with ctx.uow(readonly=True) as uow:
        loc = uow.locations.get(location_id)
    if loc is None:
        raise NotFound("location", location_id)
    return loc


def locations(ctx: Context) -> list[Location]:
    with ctx.uow(readonly=True) as uow:
        return uow.locations.all()


def product(ctx: Context, sku: str) -> Product:
    with ctx.uow(readonly=True) as uow:
        p = uow.products.get(sku)
    if p is None:
        raise NotFound("product", sku)
    return p


def products(ctx: Context, limit: int, cursor: str | None) -> Page[Product]:
    with ctx.uow(readonly=True) as uow:
        return uow.products.page(limit, cursor)


def reservation(ctx: Context, reservation_id: str, actor: Actor) -> Reservation:
    with ctx.uow(readonly=True) as uow:
        return load_reservation(uow, reservation_id, actor)


def reservations(
    ctx: Context, flt: ReservationFilter, limit: int, cursor: str | None
) -> Page[Reservation]:
    with ctx.uow(readonly=True) as uow:
        return uow.reservations.page(flt, limit, cursor)
