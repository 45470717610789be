"""Transfers as stock movements: the origin's reservation when a transfer is created or
replaced and its release when one is cancelled before it leaves
(`ordergrid.domain.transfers` says why; `transfer_cuts` dispatches)."""

from __future__ import annotations

from datetime import datetime

from ordergrid.domain.supply import Supply
from ordergrid.domain.transfers import (
    held_at_origin,
    hold_movements,
    refuse_short,
    release_movements,
    shortfalls,
)
from ordergrid.service.availability import with_safety_stock
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.stock import apply_movements


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
