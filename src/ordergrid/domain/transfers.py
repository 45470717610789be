"""Transfers between the network's own locations: a supply document of kind `transfer`
whose `origin` is the location the units come from.

A transfer moves real stock, so a unit is never sold at both ends:

- created (`open`): every line is reserved at the origin (ledger `reservation`, ref
  `supply:<id>`); it is not available there and is incoming supply at the destination;
- dispatched (`in_transit`): the units leave the origin's on-hand and reservation
  (`transfer_out`); they are on no location's shelf until received;
- received: they become on-hand at the destination (`receipt`), as for any supply;
- cancelled before dispatch: the origin's reservation is released; cancelled on its way:
  what has not arrived is declared lost in transit (no stock moves).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.supply import Supply, SupplyStatus


def ref_of(supply: Supply) -> str:
    """The ledger reference of every movement a document causes."""
    return f"supply:{supply.id}"


def check_route(kind: str, origin: str | None, destination: str, known: bool) -> None:
    """A transfer names a known origin location other than its destination; `known`
    says whether `origin` is a location of the network."""
    if kind != "transfer":
        return
    if origin is None:
        raise InvalidInput(
            "a transfer names the location it comes from", code="origin_required", field="origin"
        )
    if not known:
        raise InvalidInput(
            f"unknown origin location {origin!r}", code="unknown_origin", field="origin"
        )
    if origin == destination:
        raise InvalidInput(
            "a transfer's origin and destination must differ",
            code="origin_is_destination",
            field="origin",
        )


def held_at_origin(supply: Supply) -> dict[str, int]:
    """Units of each SKU the origin holds for the transfer (before it leaves)."""
    if not supply.is_transfer or supply.status is not SupplyStatus.OPEN:
        return {}
    return {line.sku: line.quantity for line in supply.lines}


def in_transit(supply: Supply) -> dict[str, int]:
    """Units of each SKU on their way: dispatched, not yet received, not cancelled."""
    if not supply.is_transfer or supply.dispatched_at is None or not supply.incoming:
        return {}
    return {line.sku: line.open for line in supply.lines if line.open > 0}


def lost_in_transit(supply: Supply) -> dict[str, int]:
    """Units a cancelled transfer had dispatched and never delivered."""
    if (
        not supply.is_transfer
        or supply.dispatched_at is None
        or supply.status is not SupplyStatus.CANCELLED
    ):
        return {}
    return {line.sku: line.open for line in supply.lines if line.open > 0}


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A line the origin cannot hold: `available` of `requested` units."""

    index: int
    sku: str
    requested: int
    available: int


def shortfalls(supply: Supply, available: Mapping[str, int]) -> list[Shortfall]:
    """Lines asking more than the origin has available (after safety stock)."""
    return [
        Shortfall(i, line.sku, line.quantity, available.get(line.sku, 0))
        for i, line in enumerate(supply.lines)
        if line.quantity > available.get(line.sku, 0)
    ]


def refuse_short(supply: Supply, short: list[Shortfall]) -> None:
    """409 `insufficient_stock` naming the first short line; details list them all."""
    if not short:
        return
    first = short[0]
    raise Conflict(
        f"{supply.origin} has {first.available} of {first.sku!r} available, "
        f"the transfer asks {first.requested}",
        code="insufficient_stock",
        field=f"lines.{first.index}.quantity",
        location_id=supply.origin,
        lines=[{"sku": s.sku, "requested": s.requested, "available": s.available} for s in short],
    )


def hold_movements(supply: Supply, keep: Mapping[str, int]) -> list[Movement]:
    """Reserve every line at the origin, leaving `keep` (safety stock) unsold."""
    ref = ref_of(supply)
    return [
        Movement(_origin(supply), sku, 0, q, MovementReason.RESERVATION, ref, keep.get(sku, 0))
        for sku, q in sorted(held_at_origin(supply).items())
    ]


def release_movements(supply: Supply) -> list[Movement]:
    """Give the origin back what it holds for the transfer."""
    ref = ref_of(supply)
    return [
        Movement(_origin(supply), sku, 0, -q, MovementReason.RELEASE, ref)
        for sku, q in sorted(held_at_origin(supply).items())
    ]


def dispatch(
    supply: Supply, now: datetime, carrier: str | None, tracking_number: str | None
) -> list[Movement]:
    """The transfer leaves its origin: status `in_transit`; returns the movements that
    take its units off the origin's on-hand and reservation."""
    if not supply.is_transfer:
        raise Conflict(
            f"supply {supply.id!r} is a {supply.kind.value}, not a transfer",
            code="not_a_transfer",
            kind=supply.kind.value,
        )
    if supply.status is not SupplyStatus.OPEN:
        raise InvalidTransition("supply", supply.status.value, SupplyStatus.IN_TRANSIT.value)
    ref = ref_of(supply)
    out = [
        Movement(_origin(supply), sku, -q, -q, MovementReason.TRANSFER_OUT, ref)
        for sku, q in sorted(held_at_origin(supply).items())
    ]
    supply.move_to(SupplyStatus.IN_TRANSIT, now)
    supply.dispatched_at = now
    supply.carrier = carrier
    supply.tracking_number = tracking_number
    return out


def _origin(supply: Supply) -> str:
    assert supply.origin is not None  # transfers are checked to name their origin
    return supply.origin
