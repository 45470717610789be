"""Applying stock movements to positions, with the ledger and change events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ordergrid.domain.errors import StockConflict
from ordergrid.domain.events import Event
from ordergrid.domain.inventory import Movement, MovementReason, Position
from ordergrid.service.availability import watch_availability, with_safety_stock
from ordergrid.service.ports import LedgerEntry, UnitOfWork

#: Goods that physically left: the count must follow even if it was wrong (never below 0).
_CLAMPED = frozenset(
    {
        MovementReason.SHIPMENT,
        MovementReason.TRANSFER_OUT,
        MovementReason.COLLECTION,
        MovementReason.SHORT_PICK,
    }
)


def position_data(p: Position) -> dict[str, object]:
    return {
        "location_id": p.location_id,
        "sku": p.sku,
        "on_hand": p.on_hand,
        "reserved": p.reserved,
        "safety_stock": p.safety_stock,
        "available": p.available,
    }


def _apply_one(uow: UnitOfWork, m: Movement) -> tuple[Position, int]:
    """The position after the movement, and the on-hand change actually made."""
    if m.reason is MovementReason.RESERVATION:
        reserved = uow.inventory.reserve(m.location_id, m.sku, m.reserved_delta, m.keep)
        if reserved is None:
            raise StockConflict(
                "stock changed while sourcing", location_id=m.location_id, sku=m.sku
            )
        return reserved, 0
    if m.reason in _CLAMPED:
        before = uow.inventory.position(m.location_id, m.sku)
        moved = uow.inventory.move(m, clamp=True)
        assert moved is not None  # clamped moves are never refused
        assert before is not None  # work is only released at held positions
        return moved, moved.on_hand - before.on_hand
    moved = uow.inventory.move(m)
    assert moved is not None  # releases never lower on-hand
    return moved, m.on_hand_delta


def apply_movements(
    uow: UnitOfWork,
    movements: Sequence[Movement],
    now: datetime,
    actor: str | None,
    *,
    announce: bool = True,
) -> list[Position]:
    """Apply movements in (location, SKU) order so concurrent writers lock rows alike.

    Emits `inventory.changed` where availability rose, which is what wakes back-orders;
    `announce=False` leaves that to a caller that takes the units again in the same
    transaction.
    """
    entries: list[LedgerEntry] = []
    rose: list[tuple[Position, MovementReason]] = []
    positions: list[Position] = []
    for m in sorted(movements, key=lambda m: (m.location_id, m.sku)):
        after, on_hand_delta = _apply_one(uow, m)
        positions.append(after)
        entries.append(
            LedgerEntry(
                m.location_id,
                m.sku,
                now,
                on_hand_delta,
                m.reserved_delta,
                after.on_hand,
                after.reserved,
                m.reason.value,
                m.ref,
                actor,
            )
        )
        if announce and on_hand_delta - m.reserved_delta > 0 and after.available > 0:
            rose.append((after, m.reason))
    uow.inventory.record(entries)
    uow.outbox.append(_changed(uow, rose, actor), now)
    if announce:
        uow.outbox.append(watch_availability(uow, {m.sku for m in movements}, actor), now)
    return positions


def _changed(
    uow: UnitOfWork, rose: list[tuple[Position, MovementReason]], actor: str | None
) -> list[Event]:
    """`inventory.changed` for positions whose availability rose (safety stock applied)."""
    shown = with_safety_stock(uow, [p for p, _ in rose])
    return [
        Event("inventory.changed", {**position_data(p), "reason": why.value}, actor=actor)
        for p, (_, why) in zip(shown, rose, strict=True)
        if p.available > 0
    ]
