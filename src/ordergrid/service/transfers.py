"""Transfers as stock movements: the origin's reservation when a transfer is created or
replaced, its release when one is cancelled before it leaves, and the dispatch that
takes the units off the origin's shelf (`ordergrid.domain.transfers` says why)."""

from __future__ import annotations

from datetime import datetime

from ordergrid.domain.errors import NotFound
from ordergrid.domain.events import Event
from ordergrid.domain.supply import Supply
from ordergrid.domain.transfers import (
    dispatch,
    held_at_origin,
    hold_movements,
    refuse_short,
    release_movements,
    shortfalls,
)
from ordergrid.service.availability import with_safety_stock
from ordergrid.service.context import Context
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.stock import apply_movements
from ordergrid.service.supply_commands import DispatchSupply


def hold_at_origin(uow: UnitOfWork, supply: Supply, now: datetime, actor: str | None) -> None:
    """Reserve an open transfer's units at its origin, leaving safety stock unsold; 409
    `insufficient_stock` naming the first line the origin cannot give. The reservation
    is conditional on the locked row, so a concurrent order cannot take the same units
    (a lost race re-runs the command)."""
    wanted = held_at_origin(supply)
    if not wanted:
        return
    assert supply.origin is not None
    found = [uow.inventory.position(supply.origin, sku) for sku in sorted(wanted)]
    positions = with_safety_stock(uow, [p for p in found if p is not None])
    available = {p.sku: p.available for p in positions}
    refuse_short(supply, shortfalls(supply, available))
    keep = {p.sku: p.safety_stock for p in positions}
    apply_movements(uow, hold_movements(supply, keep), now, actor)


def release_at_origin(
    uow: UnitOfWork, supply: Supply, now: datetime, actor: str | None, *, announce: bool = True
) -> None:
    """Give back what the origin holds for a transfer that has not left; `announce`
    False when the caller holds units there again in the same transaction."""
    movements = release_movements(supply)
    if movements:
        apply_movements(uow, movements, now, actor, announce=announce)


def dispatch_supply(cmd: DispatchSupply, ctx: Context) -> Supply:
    """The transfer leaves its origin: on-hand and reservation fall there (ledger
    `transfer_out`, ref `supply:<id>`) and the units are in transit until received.
    409 `not_a_transfer`, or `invalid_transition` once dispatched, received or
    cancelled."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        supply = uow.supply.get(cmd.supply_id, lock=True)
        if supply is None:
            raise NotFound("supply", cmd.supply_id)
        movements = dispatch(supply, now, cmd.carrier, cmd.tracking_number)
        apply_movements(uow, movements, now, cmd.actor.name)
        uow.supply.put(supply)
        data = {
            "supply_id": supply.id,
            "origin": supply.origin,
            "location_id": supply.location_id,
            "carrier": supply.carrier,
            "tracking_number": supply.tracking_number,
            "lines": [{"sku": x.sku, "quantity": x.quantity} for x in supply.lines],
        }
        uow.outbox.append([Event("supply.dispatched", data, actor=cmd.actor.name)], now)
        uow.commit()
    return supply
