"""Cart reservations: hold stock during checkout; the order converts the hold.

An order posted with `"reservation_id"` takes over the held units in its own
transaction. A hold that lapsed (expired, released or unknown) never costs the order:
it is placed and sourced as usual and its timeline says `order.reservation_lapsed`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response

from ordergrid.domain.network import Address
from ordergrid.domain.reservations import Reservation
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api import schemas_reservations as sr
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service import queries
from ordergrid.service.commands import Actor
from ordergrid.service.ports import ReservationFilter
from ordergrid.service.reservation_commands import (
    ExtendReservation,
    PlaceReservation,
    ReleaseReservation,
)
from ordergrid.service.reservations import lines_data

router = APIRouter(prefix="/v1/reservations", tags=["reservations"])
ReservationId = Annotated[str, Path(min_length=1, max_length=64, pattern=s.ID_PATTERN)]
Writer = Annotated[Actor, Depends(require(Right.ORDERS))]
Reader = Annotated[Actor, Depends(require(Right.READ))]
_CONFLICTS: dict[int | str, dict[str, Any]] = {
    409: {"description": "converted already, expired, or not enough stock"}
}


def reservation_json(r: Reservation) -> dict[str, Any]:
    return {
        "id": r.id,
        "status": r.status.value,
        "channel": r.channel,
        "external_id": r.external_id,
        "expires_at": r.expires_at,
        "expires_at_limit": r.expires_at_limit,
        "lines": lines_data(r),
        "destination": r.destination,
        "pickup_location_id": r.pickup_location_id,
        "order_id": r.order_id,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def _fingerprint(body: sr.ReservationIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@router.post(
    "",
    response_model=sr.ReservationOut,
    status_code=201,
    responses={200: {"model": sr.ReservationOut, "description": "already held"}, **_CONFLICTS},
)
def place_reservation(
    body: sr.ReservationIn,
    app: App,
    response: Response,
    actor: Writer,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=256)
    ] = None,
) -> dict[str, Any]:
    """Hold every unit of the cart, or none: 409 `insufficient_stock` lists per SKU what
    was requested and what the network could hold. The same `external_id` on the channel,
    or a repeated `Idempotency-Key` with the same body, answers 200 with the first hold."""
    reservation, created = app.bus.handle(
        PlaceReservation(
            channel=body.channel,
            lines=tuple((x.sku, x.quantity) for x in body.lines),
            ttl_seconds=body.ttl_seconds,
            external_id=body.external_id,
            idempotency_key=idempotency_key,
            fingerprint=_fingerprint(body),
            destination=None
            if body.destination is None
            else Address(**body.destination.model_dump()),
            pickup_location_id=body.pickup_location_id,
            actor=actor,
        )
    )
    response.status_code = 201 if created else 200
    return reservation_json(reservation)


@router.get("", response_model=sr.ReservationList)
def list_reservations(
    app: App,
    actor: Reader,
    status: Annotated[sr.ReservationStatusName | None, Query()] = None,
    channel: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64, pattern=s.QUERY_TEXT)] = None,
) -> dict[str, Any]:
    page = queries.reservations(app.ctx, ReservationFilter(status, channel), limit, cursor)
    items = [r for r in page.items if actor.channels is None or r.channel in actor.channels]
    return {"items": [reservation_json(r) for r in items], "next_cursor": page.next_cursor}


@router.get("/{reservation_id}", response_model=sr.ReservationOut)
def get_reservation(reservation_id: ReservationId, app: App, actor: Reader) -> dict[str, Any]:
    return reservation_json(queries.reservation(app.ctx, reservation_id, actor))


@router.post("/{reservation_id}/extend", response_model=sr.ReservationOut, responses=_CONFLICTS)
def extend(
    reservation_id: ReservationId,
    app: App,
    actor: Writer,
    body: Annotated[sr.ExtendIn | None, Body()] = None,
) -> dict[str, Any]:
    """Hold for `ttl_seconds` from now, never past `expires_at_limit`; 409
    `reservation_expired`, `reservation_released` or `reservation_converted` once it
    holds nothing."""
    ttl = None if body is None else body.ttl_seconds
    return reservation_json(app.bus.handle(ExtendReservation(reservation_id, ttl, actor)))


@router.post("/{reservation_id}/release", response_model=sr.ReservationOut, responses=_CONFLICTS)
def release(reservation_id: ReservationId, app: App, actor: Writer) -> dict[str, Any]:
    """Give the units back. Idempotent: a released or expired reservation is returned
    as it is; a converted one is 409 `reservation_already_converted`."""
    return reservation_json(app.bus.handle(ReleaseReservation(reservation_id, actor)))


@router.delete("/{reservation_id}", response_model=sr.ReservationOut, responses=_CONFLICTS)
def delete(reservation_id: ReservationId, app: App, actor: Writer) -> dict[str, Any]:
    """The same as `POST …/release`."""
    return reservation_json(app.bus.handle(ReleaseReservation(reservation_id, actor)))
