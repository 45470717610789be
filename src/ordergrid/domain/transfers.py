"""Transfers between the network's own locations: a supply document of kind `transfer`
whose `origin` is the location the units come from.

A transfer moves real stock, so a unit is never sold at both ends:

- created (`open`): every line is reserved at the origin (ledger `reservation`, ref
  `supply:<id>`); it is not available there and is incoming supply at the destination;
- dispatched (`in_transit`): the units leave the origin's on-hand and reservation
  (`transfer_out`); they are on no location's shelf until received. A short dispatch
  sends fewer units on some lines: the rest is released at the origin (`transfer_short`)
  and the line expects only what left;
- cut (still `open`): a count at the origin found fewer units than it holds; the line
  holds, and expects, only what exists (`transfer_short`);
- received: they become on-hand at the destination (`receipt`), as for any supply;
- cancelled before dispatch: the origin's reservation is released; cancelled on its way:
  what has not arrived is declared lost in transit (no stock moves).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    return {line.sku: line.quantity for line in supply.lines if line.quantity > 0}


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


@dataclass(frozen=True, slots=True)
class Cut:
    """A line that takes fewer units from the origin than it held: `planned` before,
    `kept` after (what left the origin, or what a count says exists)."""

    sku: str
    planned: int
    kept: int

    @property
    def short(self) -> int:
        return self.planned - self.kept


def cut_json(cuts: Sequence[Cut]) -> list[dict[str, object]]:
    """Short lines as events carry them."""
    return [
        {"sku": c.sku, "planned": c.planned, "quantity": c.kept, "short": c.short} for c in cuts
    ]


@dataclass(frozen=True, slots=True)
class Dispatch:
    """What a dispatch did: the origin's movements and the lines that left short."""

    movements: list[Movement]
    cuts: list[Cut]


def check_dispatchable(supply: Supply) -> None:
    """Only an open transfer may leave: 409 `not_a_transfer`, or `invalid_transition`
    (with `current`) once it left or was cancelled; a retried dispatch gets the same."""
    if not supply.is_transfer:
        raise Conflict(
            f"supply {supply.id!r} is a {supply.kind.value}, not a transfer",
            code="not_a_transfer",
            kind=supply.kind.value,
        )
    if supply.status is not SupplyStatus.OPEN:
        raise InvalidTransition("supply", supply.status.value, SupplyStatus.IN_TRANSIT.value)


def sent_per_line(supply: Supply, lines: Sequence[tuple[str, int]] | None) -> dict[str, int]:
    """Units of each SKU that leave: every line whole without `lines`; a listed line its
    quantity (0 … planned), a line not listed whole. 422 `sku_not_on_supply`,
    `duplicate_sku` (field `lines.N.sku`), `invalid_quantity`, `over_dispatch` (field
    `lines.N.quantity`), `nothing_dispatched` (field `lines`) when no unit would leave."""
    planned = held_at_origin(supply)
    sent = dict(planned)
    seen: set[str] = set()
    for index, (sku, quantity) in enumerate(lines or ()):
        if supply.line(sku) is None:
            raise InvalidInput(
                f"SKU {sku!r} is not on transfer {supply.id!r}",
                code="sku_not_on_supply",
                field=f"lines.{index}.sku",
            )
        if sku in seen:
            raise InvalidInput(
                f"SKU {sku!r} appears twice", code="duplicate_sku", field=f"lines.{index}.sku"
            )
        seen.add(sku)
        if quantity < 0:
            raise InvalidInput(
                "quantity must be 0 or more",
                code="invalid_quantity",
                field=f"lines.{index}.quantity",
            )
        if quantity > planned.get(sku, 0):
            raise InvalidInput(
                f"{quantity} units of {sku!r} dispatched but the transfer holds "
                f"{planned.get(sku, 0)}",
                code="over_dispatch",
                field=f"lines.{index}.quantity",
                planned=planned.get(sku, 0),
            )
        if sku in sent:
            sent[sku] = quantity
    if not any(sent.values()):
        raise InvalidInput(
            "a dispatch sends at least one unit; reject the transfer instead",
            code="nothing_dispatched",
            field="lines",
        )
    return sent


def dispatch(
    supply: Supply,
    now: datetime,
    carrier: str | None,
    tracking_number: str | None,
    lines: Sequence[tuple[str, int]] | None = None,
) -> Dispatch:
    """The transfer leaves its origin with `lines` (all of it when None): status
    `in_transit`. Units that left come off the origin's on-hand and reservation
    (`transfer_out`); units held but not sent are released there (`transfer_short`) and
    the line expects only what left, so pegs beyond it must be trimmed."""
    check_dispatchable(supply)
    sent = sent_per_line(supply, lines)
    ref, origin = ref_of(supply), _origin(supply)
    out: list[Movement] = []
    cuts: list[Cut] = []
    for sku, planned in sorted(held_at_origin(supply).items()):
        if sent[sku]:
            q = sent[sku]
            out.append(Movement(origin, sku, -q, -q, MovementReason.TRANSFER_OUT, ref))
        if sent[sku] < planned:
            cuts.append(Cut(sku, planned, sent[sku]))
            out.append(
                Movement(origin, sku, 0, sent[sku] - planned, MovementReason.TRANSFER_SHORT, ref)
            )
    _keep_only(supply, cuts)
    supply.move_to(SupplyStatus.IN_TRANSIT, now)
    supply.dispatched_at = now
    supply.carrier = carrier
    supply.tracking_number = tracking_number
    return Dispatch(out, cuts)


def cut_to_count(supply: Supply, sku: str, gap: int, now: datetime) -> tuple[Cut, Movement] | None:
    """Hand back up to `gap` units of the SKU an open transfer holds at its origin (a
    count found fewer than are reserved there): the line holds and expects the rest.
    None when the transfer holds none. A transfer left with nothing to send is
    cancelled; the caller releases its pegs."""
    held = held_at_origin(supply).get(sku, 0)
    if held <= 0 or gap <= 0:
        return None
    cut = Cut(sku, held, held - min(gap, held))
    _keep_only(supply, [cut])
    if not held_at_origin(supply):
        supply.move_to(SupplyStatus.CANCELLED, now)
    else:
        supply.updated_at = now
    movement = Movement(
        _origin(supply), sku, 0, -cut.short, MovementReason.TRANSFER_SHORT, ref_of(supply)
    )
    return cut, movement


def _keep_only(supply: Supply, cuts: Sequence[Cut]) -> None:
    for c in cuts:
        line = supply.line(c.sku)
        assert line is not None  # cuts are made from the document's own lines
        line.quantity = c.kept


def _origin(supply: Supply) -> str:
    assert supply.origin is not None  # transfers are checked to name their origin
    return supply.origin
