"""Stock positions per (location, SKU) and the movements that change them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MovementReason(StrEnum):
    """Why on-hand or reserved changed; `PHYSICAL` ones count after a snapshot's as_of."""

    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    WRITE_OFF = "write_off"
    DAMAGED = "damaged"
    RETURN = "return"
    CYCLE_COUNT = "cycle_count"
    SNAPSHOT = "snapshot"
    SHIPMENT = "shipment"
    COLLECTION = "collection"
    SHORT_PICK = "short_pick"
    #: A location's count proved wrong (it had no stock, or picked short): what it still
    #: holds for other orders becomes its on-hand.
    STOCK_CORRECTION = "stock_correction"
    RESERVATION = "reservation"
    RELEASE = "release"
    #: Units of a transfer leaving their origin (they arrive as a `receipt`).
    TRANSFER_OUT = "transfer_out"
    #: Units a transfer no longer takes from its origin (shipped short, or a count found
    #: fewer): the origin's reservation for it falls; nothing moves.
    TRANSFER_SHORT = "transfer_short"


#: Movements that physically move goods; a snapshot counted at `as_of` adds those
#: recorded after `as_of`, so nothing that happened since the count is lost or doubled.
PHYSICAL = frozenset(
    {
        MovementReason.RECEIPT,
        MovementReason.ADJUSTMENT,
        MovementReason.WRITE_OFF,
        MovementReason.DAMAGED,
        MovementReason.RETURN,
        MovementReason.CYCLE_COUNT,
        MovementReason.SHIPMENT,
        MovementReason.TRANSFER_OUT,
        MovementReason.COLLECTION,
        MovementReason.SHORT_PICK,
        MovementReason.STOCK_CORRECTION,
    }
)

#: Reasons a client may give on an adjustment.
ADJUSTMENT_REASONS = frozenset(
    {
        MovementReason.RECEIPT,
        MovementReason.ADJUSTMENT,
        MovementReason.WRITE_OFF,
        MovementReason.DAMAGED,
        MovementReason.RETURN,
        MovementReason.CYCLE_COUNT,
    }
)


@dataclass(frozen=True, slots=True)
class Position:
    location_id: str
    sku: str
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0
    snapshot_as_of: datetime | None = None

    @property
    def available(self) -> int:
        """What may still be promised: never below zero."""
        return max(0, self.on_hand - self.reserved - self.safety_stock)


@dataclass(frozen=True, slots=True)
class Movement:
    """One change of a position, as recorded in the inventory ledger."""

    location_id: str
    sku: str
    on_hand_delta: int
    reserved_delta: int
    reason: MovementReason
    ref: str | None = None
    #: For a reservation: units of the position it must leave unsold (safety stock and
    #: other channels' fences), checked on the locked row.
    keep: int = 0


def snapshot_on_hand(counted: int, moved_since_count: int) -> int:
    """On-hand implied by a count plus the physical movements recorded after it."""
    return max(0, counted + moved_since_count)
