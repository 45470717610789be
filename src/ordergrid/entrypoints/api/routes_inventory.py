"""Inventory feeds and positions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.checks import require_unique
from ordergrid.entrypoints.api.presenters import position_json
from ordergrid.entrypoints.api.routes_network import App, Sku
from ordergrid.service import queries
from ordergrid.service.commands import Actor, AdjustInventory, AdjustmentInput, ApplySnapshot
from ordergrid.service.inventory import FeedResult

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
            body.location_id, body.as_of, tuple((i.sku, i.on_hand) for i in body.items), actor
        )
    )
    return _feed(result)


@router.get("/{sku}", response_model=s.InventoryOut)
def positions(
    sku: Sku, app: App, _: Annotated[Actor, Depends(require(Right.READ))]
) -> dict[str, Any]:
    """Stock of one SKU at every location holding a position for it."""
    return {"sku": sku, "positions": [position_json(p) for p in queries.positions(app.ctx, sku)]}
