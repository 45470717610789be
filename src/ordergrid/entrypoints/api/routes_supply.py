"""Future supply: purchase orders, transfers and ASNs, their receipts and cancellation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import AwareDatetime

from ordergrid.domain.supply import Supply
from ordergrid.domain.transfers import held_at_origin, in_transit
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api import schemas_supply as ss
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.checks import require_unique
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service import supply as supply_service
from ordergrid.service.commands import Actor
from ordergrid.service.ports import SupplyFilter
from ordergrid.service.supply_commands import (
    CancelSupply,
    DispatchSupply,
    PutSupply,
    ReceiveSupply,
    RejectTransfer,
)
from ordergrid.service.supply_receipts import ReceiptResult

router = APIRouter(prefix="/v1/supply", tags=["supply"])
SupplyId = Annotated[str, Path(min_length=1, max_length=128, pattern=s.ID_PATTERN)]
Writer = Annotated[Actor, Depends(require(Right.INVENTORY))]
Reader = Annotated[Actor, Depends(require(Right.READ))]


def supply_json(x: Supply) -> dict[str, Any]:
    held, moving = held_at_origin(x), in_transit(x)
    return {
        "id": x.id,
        "kind": x.kind.value,
        "location_id": x.location_id,
        "origin": x.origin,
        "reference": x.reference,
        "expected_at": x.expected_at,
        "status": x.status.value,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "received": line.received,
                "pegged": line.pegged,
                "open": line.open,
                "held_at_origin": held.get(line.sku, 0),
                "in_transit": moving.get(line.sku, 0),
            }
            for line in x.lines
        ],
        "pegs": [
            {
                "supply_id": p.supply_id,
                "order_id": p.order_id,
                "line_id": p.line_id,
                "sku": p.sku,
                "quantity": p.quantity,
                "location_id": x.location_id,
                "expected_at": x.expected_at,
            }
            for p in x.pegs
        ],
        "created_at": x.created_at,
        "updated_at": x.updated_at,
        "dispatched_at": x.dispatched_at,
        "carrier": x.carrier,
        "tracking_number": x.tracking_number,
        "order_id": x.order_id,
    }


def _receipt_json(result: ReceiptResult) -> dict[str, Any]:
    return {
        "supply": supply_json(result.supply),
        "replayed": result.replayed,
        "served": [
            {
                "order_id": x.peg.order_id,
                "line_id": x.peg.line_id,
                "sku": x.peg.sku,
                "quantity": x.units,
            }
            for x in result.served
        ],
    }


@router.put("/{supply_id}", response_model=ss.SupplyOut)
def put_supply(
    supply_id: SupplyId, body: ss.SupplyIn, response: Response, app: App, actor: Writer
) -> dict[str, Any]:
    """Create (201) or replace (200) a document while nothing of it was received (409
    `supply_not_replaceable` after); 422 `unknown_location`, `unknown_sku`,
    `duplicate_sku` naming the field. Waiting back-orders are pegged to it, oldest first,
    where their policy allows future supply."""
    require_unique((x.sku for x in body.lines), "lines.{}.sku", "SKU", "duplicate_sku")
    result = app.bus.handle(
        PutSupply(
            supply_id=supply_id,
            kind=body.kind,
            location_id=body.location_id,
            expected_at=body.expected_at,
            lines=tuple((x.sku, x.quantity) for x in body.lines),
            origin=body.origin,
            reference=body.reference,
            actor=actor,
        )
    )
    response.status_code = 201 if result.created else 200
    return supply_json(result.supply)


@router.get("", response_model=ss.SupplyList)
def list_supply(
    app: App,
    _: Reader,
    location_id: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
    sku: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
    status: Annotated[ss.SupplyStatusName | None, Query()] = None,
    origin: Annotated[
        str | None, Query(max_length=256, pattern=s.QUERY_TEXT, description="transfer source")
    ] = None,
    expected_after: Annotated[AwareDatetime | None, Query(description="at or after")] = None,
    expected_before: Annotated[AwareDatetime | None, Query(description="before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
) -> dict[str, Any]:
    """Documents by id, filtered (`origin`: transfers leaving that location);
    `next_cursor` pages on."""
    flt = SupplyFilter(location_id, sku, status, expected_after, expected_before, origin)
    page = supply_service.list_supply(app.ctx, flt, limit, cursor)
    return {"items": [supply_json(x) for x in page.items], "next_cursor": page.next_cursor}


@router.get("/projection", response_model=ss.ProjectionOut)
def projection(
    app: App,
    _: Reader,
    location_id: Annotated[str, Query(min_length=1, max_length=128, pattern=s.QUERY_TEXT)],
    sku: Annotated[str, Query(min_length=1, max_length=128, pattern=s.QUERY_TEXT)],
) -> dict[str, Any]:
    """Units of a SKU that can be promised at a location from each date on: available
    on-hand now, plus incoming supply not pegged to back-orders, cumulatively."""
    steps = supply_service.projection(app.ctx, location_id, sku)
    return {
        "location_id": location_id,
        "sku": sku,
        "steps": [{"at": x.at, "available": x.available} for x in steps],
    }


@router.get("/{supply_id}", response_model=ss.SupplyOut)
def get_supply(supply_id: SupplyId, app: App, _: Reader) -> dict[str, Any]:
    return supply_json(supply_service.get_supply(app.ctx, supply_id))


@router.post("/{supply_id}/receipts", response_model=ss.ReceiptOut)
def receive(supply_id: SupplyId, body: ss.ReceiptIn, app: App, actor: Writer) -> dict[str, Any]:
    """Units arrived: they become on-hand (ledger ref `supply:<id>`) and are allocated
    first to the orders pegged to this document, oldest first. The same receipt id again
    changes nothing (`replayed`); 422 `over_receipt` when more arrives than is still
    expected, `sku_not_on_supply`; 409 once the document is received or cancelled."""
    require_unique((x.sku for x in body.lines), "lines.{}.sku", "SKU", "duplicate_sku")
    result = app.bus.handle(
        ReceiveSupply(supply_id, body.id, tuple((x.sku, x.quantity) for x in body.lines), actor)
    )
    return _receipt_json(result)


@router.post("/{supply_id}/dispatch", response_model=ss.SupplyOut)
def dispatch(
    supply_id: SupplyId,
    app: App,
    actor: Writer,
    body: Annotated[ss.DispatchIn | None, Body()] = None,
) -> dict[str, Any]:
    """A transfer left its origin: the units leave the origin's on-hand and reservation
    (ledger `transfer_out`, ref `supply:<id>`) and are in transit until received.
    `lines` names lines that left short: the units not sent are released at the origin
    (`transfer_short`), the line expects only what left and orders waiting for the rest
    are sourced again. 422 `sku_not_on_supply`, `duplicate_sku`, `over_dispatch`,
    `nothing_dispatched` naming the field; 409 `not_a_transfer` for other documents,
    `invalid_transition` once dispatched, received or cancelled."""
    lines = None
    if body is not None and body.lines is not None:
        require_unique((x.sku for x in body.lines), "lines.{}.sku", "SKU", "duplicate_sku")
        lines = tuple((x.sku, x.quantity) for x in body.lines)
    cmd = DispatchSupply(
        supply_id,
        carrier=body.carrier if body else None,
        tracking_number=body.tracking_number if body else None,
        lines=lines,
        reason=body.reason if body else None,
        actor=actor,
    )
    return supply_json(app.bus.handle(cmd))


@router.post("/{supply_id}/reject", response_model=ss.SupplyOut)
def reject(
    supply_id: SupplyId,
    app: App,
    actor: Writer,
    body: Annotated[ss.SupplyCancelIn | None, Body()] = None,
) -> dict[str, Any]:
    """The origin will not send a transfer it has not dispatched: its units are released
    there and the document is cancelled (`supply.rejected`). The order it was created for
    excludes that origin and has its units sourced again: another transfer, or back-order.
    409 `invalid_transition` once dispatched, received or cancelled, or for a document
    that is not a transfer."""
    reason = body.reason if body else None
    return supply_json(app.bus.handle(RejectTransfer(supply_id, reason, actor)))


@router.post("/{supply_id}/cancel", response_model=ss.SupplyOut)
def cancel(
    supply_id: SupplyId,
    app: App,
    actor: Writer,
    body: Annotated[ss.SupplyCancelIn | None, Body()] = None,
) -> dict[str, Any]:
    """What is still expected will not come: pegged back-orders go back to waiting (and
    to other supply where their policy allows). A transfer not yet dispatched releases
    its origin's reservation; one in transit declares the rest lost. 409 once received
    or cancelled."""
    reason = body.reason if body else None
    return supply_json(app.bus.handle(CancelSupply(supply_id, reason, actor)))
