"""Orders: capture, read, cancel, hold, timeline and sourcing decisions."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response

from ordergrid.bootstrap import Application
from ordergrid.domain.errors import Forbidden, InvalidInput
from ordergrid.domain.network import Address
from ordergrid.domain.orders import DeliveryMethod, DeliveryPromise
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.checks import require_unique
from ordergrid.entrypoints.api.presenters import order_json
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service import queries
from ordergrid.service.commands import Actor, CancelOrder, LineInput, PlaceOrder, SetHold
from ordergrid.service.ports import OrderFilter
from ordergrid.service.supply import order_pegs

router = APIRouter(prefix="/v1/orders", tags=["orders"])
OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=s.ID_PATTERN)]
Writer = Annotated[Actor, Depends(require(Right.ORDERS))]
Reader = Annotated[Actor, Depends(require(Right.READ))]


def _check_shape(body: s.OrderIn) -> None:
    """Which delivery fields the method needs (line rules are the service's)."""
    d = body.delivery
    at_store = DeliveryMethod(d.method).collects_at_store
    if at_store and not d.pickup_location_id:
        raise InvalidInput(
            f"{d.method} needs pickup_location_id",
            code="pickup_location_required",
            field="delivery.pickup_location_id",
        )
    if not at_store and d.address is None:
        raise InvalidInput(
            f"{d.method} needs an address", code="address_required", field="delivery.address"
        )


def fingerprint(body: s.OrderIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@router.post(
    "",
    response_model=s.OrderOut,
    status_code=201,
    responses={200: {"model": s.OrderOut, "description": "already placed"}},
)
def place_order(
    body: s.OrderIn,
    app: App,
    response: Response,
    actor: Writer,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=256)
    ] = None,
) -> dict[str, Any]:
    """Capture an order and source it in the same transaction."""
    _check_shape(body)
    d = body.delivery
    order, created = app.bus.handle(
        PlaceOrder(
            external_id=body.external_id,
            channel=body.channel,
            method=d.method,
            service_level=d.service_level,
            address=None if d.address is None else Address(**d.address.model_dump()),
            pickup_location_id=d.pickup_location_id,
            promise=None
            if d.promise is None
            else DeliveryPromise(d.promise.latest, d.promise.earliest),
            lines=tuple(LineInput(x.line_id, x.sku, x.quantity, x.unit_price) for x in body.lines),
            customer=body.customer,
            tags=frozenset(body.tags),
            idempotency_key=idempotency_key,
            fingerprint=fingerprint(body),
            actor=actor,
            reservation_id=body.reservation_id,
        )
    )
    response.status_code = 201 if created else 200
    # A pre-order learns at once which supply it waits for and when that is expected.
    if any(line.backordered for line in order.lines):
        return _with_pegs(app, order_json(order))
    return order_json(order)


@router.get("", response_model=s.OrderList)
def list_orders(
    app: App,
    actor: Reader,
    status: Annotated[s.OrderStatusName | None, Query()] = None,
    channel: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
    external_id: Annotated[str | None, Query(max_length=256, pattern=s.QUERY_TEXT)] = None,
    location_id: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64, pattern=s.QUERY_TEXT)] = None,
) -> dict[str, Any]:
    if actor.channels is not None and channel is None and len(actor.channels) == 1:
        channel = next(iter(actor.channels))
    if actor.locations is not None and location_id not in actor.locations:
        if location_id is not None or len(actor.locations) != 1:
            raise Forbidden("name one of this token's locations", field="location_id")
        location_id = next(iter(actor.locations))
    page = queries.orders(
        app.ctx, OrderFilter(status, channel, external_id, location_id), limit, cursor
    )
    items = [o for o in page.items if actor.channels is None or o.channel in actor.channels]
    return {"items": [order_json(o) for o in items], "next_cursor": page.next_cursor}


@router.get("/{order_id}", response_model=s.OrderOut)
def get_order(order_id: OrderId, app: App, actor: Reader) -> dict[str, Any]:
    """The order; `pegs` shows back-ordered units promised from supply on its way (with
    where and when it is expected), so a shop can promise a date."""
    return _with_pegs(app, order_json(queries.order(app.ctx, order_id, actor)))


def _with_pegs(app: Application, body: dict[str, Any]) -> dict[str, Any]:
    pegs = [
        {
            "supply_id": p.supply_id,
            "line_id": p.line_id,
            "sku": p.sku,
            "quantity": p.quantity,
            "location_id": None if x is None else x.location_id,
            "expected_at": None if x is None else x.expected_at,
        }
        for p, x in order_pegs(app.ctx, body["id"])
    ]
    return {**body, "pegs": pegs}


@router.post("/{order_id}/cancel", response_model=s.OrderOut)
def cancel_order(
    order_id: OrderId, app: App, actor: Writer, body: Annotated[s.CancelIn | None, Body()] = None
) -> dict[str, Any]:
    """Cancel the whole order (no `lines`) or some units; reservations are released."""
    body = body or s.CancelIn()
    lines = None
    if body.lines is not None:
        require_unique(
            (x.line_id for x in body.lines), "lines.{}.line_id", "line_id", "duplicate_line_id"
        )
        lines = tuple((x.line_id, x.quantity) for x in body.lines)
    order = app.bus.handle(CancelOrder(order_id, lines, body.reason, actor))
    return order_json(order)


@router.post("/{order_id}/hold", response_model=s.OrderOut)
def hold(
    order_id: OrderId, app: App, actor: Writer, body: Annotated[s.HoldIn | None, Body()] = None
) -> dict[str, Any]:
    """Keep the order out of sourcing until released."""
    reason = body.reason if body else None
    return order_json(app.bus.handle(SetHold(order_id, True, reason, actor)))


@router.post("/{order_id}/release", response_model=s.OrderOut)
def release(
    order_id: OrderId, app: App, actor: Writer, body: Annotated[s.HoldIn | None, Body()] = None
) -> dict[str, Any]:
    """Lift a hold; units still waiting are sourced at once."""
    reason = body.reason if body else None
    return order_json(app.bus.handle(SetHold(order_id, False, reason, actor)))


@router.get("/{order_id}/events", response_model=list[s.EventOut])
def timeline(order_id: OrderId, app: App, actor: Reader) -> list[dict[str, Any]]:
    """The order's timeline, oldest first, read from the outbox."""
    return [
        {"id": e.id, "type": e.type, "at": e.at, "actor": e.actor, "data": e.data}
        for e in queries.timeline(app.ctx, order_id, actor)
    ]


@router.get("/{order_id}/decisions", response_model=list[s.DecisionOut])
def decisions(order_id: OrderId, app: App, actor: Reader) -> list[dict[str, Any]]:
    """Every sourcing decision for the order with its explanation."""
    return [
        {"id": d.id, "at": d.at, "explanation": d.explanation}
        for d in queries.decisions(app.ctx, order_id, actor)
    ]
