"""The exception queue: orders the engine could not place on its own, and what a person
does with them (retry, re-route to a chosen location, cancel)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from ordergrid.domain.errors import Forbidden
from ordergrid.domain.exception_queue import ExceptionCase
from ordergrid.domain.orders import Order
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api import schemas_exceptions as sx
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.presenters import order_json
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service import exceptions
from ordergrid.service.commands import (
    Actor,
    CancelException,
    RerouteException,
    RetryException,
)
from ordergrid.service.ports import ExceptionFilter

router = APIRouter(prefix="/v1/exceptions", tags=["exception queue"])
CaseId = Annotated[str, Path(min_length=1, max_length=64, pattern=s.ID_PATTERN)]
Operator = Annotated[Actor, Depends(require(Right.ORDERS))]
Reader = Annotated[Actor, Depends(require(Right.READ))]
Text = Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)]


def case_json(case: ExceptionCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "order_id": case.order_id,
        "channel": case.channel,
        "status": case.status.value,
        "reason": case.reason,
        "resolution": case.resolution,
        "locations": case.locations,
        "history": case.history,
        "opened_at": case.opened_at,
        "updated_at": case.updated_at,
        "resolved_at": case.resolved_at,
    }


def _acted(result: tuple[ExceptionCase, Order]) -> dict[str, Any]:
    case, order = result
    return {"exception": case_json(case), "order": order_json(order)}


def _not_for_a_location(actor: Actor) -> None:
    if actor.locations is not None:
        # The queue is operations' work across the network, not one location's.
        raise Forbidden("a location's token may not read the exception queue")


@router.get("", response_model=sx.ExceptionList)
def list_exceptions(
    app: App,
    actor: Reader,
    status: Annotated[sx.CaseStatusName | None, Query()] = None,
    reason: Text = None,
    channel: Text = None,
    order_id: Annotated[str | None, Query(max_length=64, pattern=s.QUERY_TEXT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64, pattern=s.QUERY_TEXT)] = None,
) -> dict[str, Any]:
    """Orders waiting for a person, oldest case first, with reason and history."""
    _not_for_a_location(actor)
    if actor.channels is not None and channel is None and len(actor.channels) == 1:
        channel = next(iter(actor.channels))
    flt = ExceptionFilter(status, reason, channel, order_id)
    page = exceptions.cases(app.ctx, flt, limit, cursor, actor)
    return {"items": [case_json(c) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/{case_id}", response_model=sx.ExceptionOut)
def get_exception(case_id: CaseId, app: App, actor: Reader) -> dict[str, Any]:
    _not_for_a_location(actor)
    return case_json(exceptions.case(app.ctx, case_id, actor))


@router.post("/{case_id}/retry", response_model=sx.ExceptionActionOut)
def retry(case_id: CaseId, app: App, actor: Operator) -> dict[str, Any]:
    """Source the waiting units again with the policy's full budget of attempts; the case
    closes when every unit is placed, else stays open with the attempt in its history."""
    return _acted(app.bus.handle(RetryException(case_id, actor)))


@router.post("/{case_id}/reroute", response_model=sx.ExceptionActionOut)
def reroute(case_id: CaseId, body: sx.RerouteIn, app: App, actor: Operator) -> dict[str, Any]:
    """Place every waiting unit at the chosen location (click & collect: the customer
    collects there). 409 `reroute_not_possible` with the engine's reason when it cannot
    take them all, 409 `location_excluded` when it already failed the order."""
    return _acted(app.bus.handle(RerouteException(case_id, body.location_id, actor)))


@router.post("/{case_id}/cancel", response_model=sx.ExceptionActionOut)
def cancel(
    case_id: CaseId,
    app: App,
    actor: Operator,
    body: Annotated[sx.CaseCancelIn | None, Body()] = None,
) -> dict[str, Any]:
    """Cancel every unit of the order not yet shipped, and close the case."""
    reason = body.reason if body else None
    return _acted(app.bus.handle(CancelException(case_id, reason, actor)))
