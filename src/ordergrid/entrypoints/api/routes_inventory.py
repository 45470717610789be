"""Inventory feeds and positions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.checks import require_unique
from ordergrid.entrypoints.api.presenters import position_json
from ordergrid.entrypoints.api.routes_network import App, Sku
from ordergrid.service import queries
from ordergrid.service.commands import Actor, AdjustInventory, AdjustmentInput, ApplySnapshot
from ordergrid.service.inventory import FeedResult
from ordergrid.service.ports import LedgerEntry, LedgerFilter

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])


def _feed(result: FeedResult) -> dict[str, Any]:
    return {"positions": [position_json(p) for p in result.positions], "skipped": result.skipped}


@router.post("/adjustments", response_model=s.FeedOut)
def adjust(
    body: s.AdjustmentsIn, app: App, actor: Annotated[Actor, Depends(require(Right.INVENTORY))]
) -> dict[str, Any]:
    """Apply stock deltas; each adjustment id applies once, the batch all or nothing."""
    result = app.bus.handle(
        AdjustInventory(
            tuple(
                AdjustmentInput(a.id, a.location_id, a.sku, a.delta, a.reason)
                for a in body.adjustments
            ),
            actor,
        )
    )
    return _feed(result)


@router.post("/snapshots", response_model=s.FeedOut)
def snapshot(
    body: s.SnapshotIn, app: App, actor: Annotated[Actor, Depends(require(Right.INVENTORY))]
) -> dict[str, Any]:
    """Counts at `as_of` become on-hand plus the movements recorded since; older
    snapshots than the last applied one change nothing for that position."""
    require_unique((i.sku for i in body.items), "items.{}.sku", "SKU", "duplicate_sku")
    result = app.bus.handle(
        ApplySnapshot(
            body.location_id,
            body.as_of,
            tuple((i.sku, i.on_hand) for i in body.items),
            actor,
            body.mode,
        )
    )
    return _feed(result)


@router.get("/{sku}", response_model=s.InventoryOut)
def positions(
    sku: Sku, app: App, _: Annotated[Actor, Depends(require(Right.READ))]
) -> dict[str, Any]:
    """Stock of one SKU at every location holding a position for it."""
    return {"sku": sku, "positions": [position_json(p) for p in queries.positions(app.ctx, sku)]}


@router.get("/{sku}/ledger", response_model=s.LedgerOut)
def ledger(
    sku: Sku,
    app: App,
    _: Annotated[Actor, Depends(require(Right.READ))],
    location_id: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
    since: Annotated[AwareDatetime | None, Query(description="at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")] = None,
) -> dict[str, Any]:
    """Every change of the SKU's on-hand or reserved, oldest first: who or what made it,
    why, the order, fulfilment or feed it belongs to, and the position before and after."""
    page = queries.ledger(app.ctx, LedgerFilter(sku, location_id, since, until), limit, cursor)
    return {"items": [_entry(e) for e in page.items], "next_cursor": page.next_cursor}


def _entry(e: LedgerEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "location_id": e.location_id,
        "sku": e.sku,
        "at": e.at,
        "on_hand_delta": e.on_hand_delta,
        "reserved_delta": e.reserved_delta,
        "on_hand_after": e.on_hand_after,
        "reserved_after": e.reserved_after,
        "on_hand_before": e.on_hand_after - e.on_hand_delta,
        "reserved_before": e.reserved_after - e.reserved_delta,
        "reason": e.reason,
        "ref": e.ref,
        "actor": e.actor,
        "details": e.details,
    }
