"""What a location does: its work queue and the actions on a fulfilment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from ordergrid.domain.errors import Forbidden, InvalidInput
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.checks import require_unique
from ordergrid.entrypoints.api.presenters import fulfilment_json
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service import queries
from ordergrid.service.commands import ActOnFulfilment, Actor

router = APIRouter(prefix="/v1/fulfilments", tags=["fulfilments"])
FulfilmentId = Annotated[str, Path(min_length=1, max_length=64, pattern=s.ID_PATTERN)]
Worker = Annotated[Actor, Depends(require(Right.FULFIL))]
Reader = Annotated[Actor, Depends(require(Right.READ))]


def _act(app: App, cmd: ActOnFulfilment) -> dict[str, Any]:
    order, f = app.bus.handle(cmd)
    return fulfilment_json(f, order.delivery.method.value)


@router.get("", response_model=s.FulfilmentList)
def work_queue(
    app: App,
    actor: Reader,
    location_id: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
    status: Annotated[s.FulfilmentStatusName | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64, pattern=s.QUERY_TEXT)] = None,
) -> dict[str, Any]:
    """Fulfilments of a location (its work queue), optionally by status."""
    if (
        actor.locations is not None
        and location_id is not None
        and location_id not in actor.locations
    ):
        raise Forbidden(
            f"this token may not see the work of {location_id!r}", location_id=location_id
        )
    if actor.locations is not None and location_id is None:
        if len(actor.locations) != 1:
            raise InvalidInput(
                "this token must name one of its locations",
                code="location_required",
                field="location_id",
            )
        location_id = next(iter(actor.locations))
    page = queries.fulfilments(app.ctx, location_id, status, limit, cursor)
    items = [
        fulfilment_json(f, o.delivery.method.value)
        for o, f in page.items
        if actor.channels is None or o.channel in actor.channels
    ]
    return {"items": items, "next_cursor": page.next_cursor}


@router.get("/{fulfilment_id}", response_model=s.FulfilmentOut)
def get_fulfilment(fulfilment_id: FulfilmentId, app: App, actor: Reader) -> dict[str, Any]:
    order, f = queries.fulfilment(app.ctx, fulfilment_id, actor)
    return fulfilment_json(f, order.delivery.method.value)


@router.post("/{fulfilment_id}/accept", response_model=s.FulfilmentOut)
def accept(fulfilment_id: FulfilmentId, app: App, actor: Worker) -> dict[str, Any]:
    return _act(app, ActOnFulfilment(fulfilment_id, "accept", actor=actor))


@router.post("/{fulfilment_id}/reject", response_model=s.FulfilmentOut)
def reject(
    fulfilment_id: FulfilmentId,
    app: App,
    actor: Worker,
    body: Annotated[s.RejectIn | None, Body()] = None,
) -> dict[str, Any]:
    """The location cannot do it; the units are re-sourced elsewhere at once."""
    reason = (body or s.RejectIn()).reason
    return _act(app, ActOnFulfilment(fulfilment_id, "reject", reason=reason, actor=actor))


@router.post("/{fulfilment_id}/pick", response_model=s.FulfilmentOut)
def pick(
    fulfilment_id: FulfilmentId,
    app: App,
    actor: Worker,
    body: Annotated[s.PickIn | None, Body()] = None,
) -> dict[str, Any]:
    """Record picked quantities (lines not listed are picked in full). Units not picked
    are written off the location's on-hand and re-sourced elsewhere."""
    lines = (body or s.PickIn()).lines
    require_unique((x.line_id for x in lines), "lines.{}.line_id", "line_id", "duplicate_line_id")
    picked = tuple((x.line_id, x.picked) for x in lines)
    return _act(app, ActOnFulfilment(fulfilment_id, "pick", picked=picked, actor=actor))


@router.post("/{fulfilment_id}/ship", response_model=s.FulfilmentOut)
def ship(fulfilment_id: FulfilmentId, body: s.ShipIn, app: App, actor: Worker) -> dict[str, Any]:
    """Hand over to a carrier: one parcel (`carrier`, `tracking_number`) or `parcels`."""
    parcels = [(p.carrier, p.tracking_number) for p in body.parcels]
    if body.carrier is not None:
        parcels.insert(0, (body.carrier, body.tracking_number))
    if not parcels:
        raise InvalidInput(
            "give carrier (and tracking_number) or parcels",
            code="carrier_required",
            field="carrier",
        )
    return _act(app, ActOnFulfilment(fulfilment_id, "ship", parcels=tuple(parcels), actor=actor))


@router.post("/{fulfilment_id}/ready-for-pickup", response_model=s.FulfilmentOut)
def ready_for_pickup(fulfilment_id: FulfilmentId, app: App, actor: Worker) -> dict[str, Any]:
    return _act(app, ActOnFulfilment(fulfilment_id, "ready_for_pickup", actor=actor))


@router.post("/{fulfilment_id}/collect", response_model=s.FulfilmentOut)
def collect(fulfilment_id: FulfilmentId, app: App, actor: Worker) -> dict[str, Any]:
    return _act(app, ActOnFulfilment(fulfilment_id, "collect", actor=actor))


@router.post("/{fulfilment_id}/cancel", response_model=s.FulfilmentOut)
def cancel(
    fulfilment_id: FulfilmentId,
    app: App,
    actor: Worker,
    body: Annotated[s.CancelFulfilmentIn | None, Body()] = None,
) -> dict[str, Any]:
    """The location gives the work back; the units are re-sourced elsewhere."""
    reason = body.reason if body else None
    return _act(app, ActOnFulfilment(fulfilment_id, "cancel", reason=reason, actor=actor))
