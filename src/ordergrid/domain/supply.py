"""Future supply: purchase orders, transfers and ASNs expected at a location, the
back-ordered units pegged to them, receipts, and projected availability by date.

Receiving more than a line still expects is refused (`over_receipt`): extra units that
arrive anyway are booked as an inventory adjustment, so a document's `received` never
says more than what was ordered from the supplier and pegs stay within what is coming.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition


class SupplyKind(StrEnum):
    PURCHASE_ORDER = "purchase_order"
    TRANSFER = "transfer"
    ASN = "asn"


class SupplyStatus(StrEnum):
    OPEN = "open"
    #: A transfer that left its origin: on no location's on-hand until received.
    IN_TRANSIT = "in_transit"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


TRANSITIONS: Mapping[SupplyStatus, frozenset[SupplyStatus]] = {
    SupplyStatus.OPEN: frozenset(
        {
            SupplyStatus.IN_TRANSIT,
            SupplyStatus.PARTIALLY_RECEIVED,
            SupplyStatus.RECEIVED,
            SupplyStatus.CANCELLED,
        }
    ),
    # Cancelling a transfer on its way declares what has not arrived lost in transit.
    SupplyStatus.IN_TRANSIT: frozenset(
        {SupplyStatus.PARTIALLY_RECEIVED, SupplyStatus.RECEIVED, SupplyStatus.CANCELLED}
    ),
    # Cancelling a partly received document cancels what is still to come.
    SupplyStatus.PARTIALLY_RECEIVED: frozenset(
        {SupplyStatus.PARTIALLY_RECEIVED, SupplyStatus.RECEIVED, SupplyStatus.CANCELLED}
    ),
    SupplyStatus.RECEIVED: frozenset(),
    SupplyStatus.CANCELLED: frozenset(),
}

#: Statuses whose still-expected units count as future supply.
INCOMING = frozenset({SupplyStatus.OPEN, SupplyStatus.IN_TRANSIT, SupplyStatus.PARTIALLY_RECEIVED})


@dataclass(frozen=True, slots=True)
class Peg:
    """Back-ordered units of one order line promised from one supply document."""

    supply_id: str
    sku: str
    order_id: str
    line_id: str
    quantity: int
    #: Orders are served oldest first: when the order was placed, then its id.
    order_created_at: datetime
    pegged_at: datetime

    @property
    def queue_key(self) -> tuple[datetime, str, str]:
        return (self.order_created_at, self.order_id, self.line_id)


@dataclass(frozen=True, slots=True)
class Incoming:
    """Units of a SKU on their way to a location that no back-order holds yet."""

    supply_id: str
    location_id: str
    expected_at: datetime
    free: int


@dataclass(slots=True)
class SupplyLine:
    sku: str
    quantity: int
    received: int = 0
    pegged: int = 0  # units promised to back-orders, never beyond quantity - received

    @property
    def open(self) -> int:
        """Units still expected."""
        return self.quantity - self.received

    @property
    def free(self) -> int:
        """Units still expected that no back-order holds."""
        return self.open - self.pegged


@dataclass(slots=True)
class Supply:
    id: str
    kind: SupplyKind
    location_id: str
    expected_at: datetime
    lines: list[SupplyLine]
    created_at: datetime
    updated_at: datetime
    origin: str | None = None  # supplier, or the source location of a transfer
    reference: str | None = None  # the sender's document number
    status: SupplyStatus = SupplyStatus.OPEN
    pegs: list[Peg] = field(default_factory=list)
    #: When a transfer left its origin (None: not dispatched), and how it travels.
    dispatched_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    #: The order a transfer was created for (a pick-up order's missing units).
    order_id: str | None = None

    def line(self, sku: str) -> SupplyLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

    @property
    def incoming(self) -> bool:
        return self.status in INCOMING

    @property
    def is_transfer(self) -> bool:
        return self.kind is SupplyKind.TRANSFER

    def move_to(self, status: SupplyStatus, now: datetime) -> None:
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransition("supply", self.status.value, status.value)
        self.status = status
        self.updated_at = now


def check_lines(lines: Sequence[tuple[str, int]]) -> None:
    """One line per SKU, each expecting at least one unit."""
    seen: set[str] = set()
    for index, (sku, quantity) in enumerate(lines):
        if sku in seen:
            raise InvalidInput(
                f"SKU {sku!r} appears twice", code="duplicate_sku", field=f"lines.{index}.sku"
            )
        if quantity < 1:
            raise InvalidInput(
                "quantity must be at least 1",
                code="invalid_quantity",
                field=f"lines.{index}.quantity",
            )
        seen.add(sku)


def check_replaceable(supply: Supply) -> None:
    """A document may be replaced while nothing of it arrived and it is not cancelled."""
    if supply.status is not SupplyStatus.OPEN or any(line.received for line in supply.lines):
        raise Conflict(
            f"supply {supply.id!r} is {supply.status.value}; it can no longer be replaced",
            code="supply_not_replaceable",
            status=supply.status.value,
        )


# --- pegging ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Waiting:
    """Back-ordered units of an order line looking for supply."""

    order_id: str
    line_id: str
    sku: str
    quantity: int
    order_created_at: datetime


def peg(supply: Supply, waiting: Waiting, now: datetime) -> Peg | None:
    """Peg up to `waiting.quantity` free units; None when none are free. Units pegged to
    the same order line merge into one peg; the returned peg holds what was taken now."""
    line = supply.line(waiting.sku)
    if not supply.incoming or line is None or waiting.quantity <= 0 or line.free <= 0:
        return None
    quantity = min(waiting.quantity, line.free)
    taken = Peg(
        supply.id,
        waiting.sku,
        waiting.order_id,
        waiting.line_id,
        quantity,
        waiting.order_created_at,
        now,
    )
    line.pegged += quantity
    for i, p in enumerate(supply.pegs):
        if (p.order_id, p.line_id) == (waiting.order_id, waiting.line_id):
            supply.pegs[i] = _resized(p, p.quantity + quantity)
            return taken
    supply.pegs.append(taken)
    return taken


def unpeg(supply: Supply, order_id: str, line_id: str, quantity: int) -> int:
    """Release up to `quantity` units the order line holds on this document; returns how
    many were released."""
    for i, p in enumerate(supply.pegs):
        if (p.order_id, p.line_id) != (order_id, line_id):
            continue
        released = min(quantity, p.quantity)
        line = supply.line(p.sku)
        assert line is not None
        line.pegged -= released
        if released == p.quantity:
            del supply.pegs[i]
        else:
            supply.pegs[i] = _resized(p, p.quantity - released)
        return released
    return 0


def release_all(supply: Supply) -> list[Peg]:
    """Drop every peg (the document will not arrive); returns them."""
    released, supply.pegs = supply.pegs, []
    for line in supply.lines:
        line.pegged = 0
    return released


def _resized(p: Peg, quantity: int) -> Peg:
    return Peg(p.supply_id, p.sku, p.order_id, p.line_id, quantity, p.order_created_at, p.pegged_at)


# --- receipt ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Served:
    """Received units handed to a pegged order line."""

    peg: Peg
    units: int


def receive(supply: Supply, lines: Sequence[tuple[str, int]], now: datetime) -> None:
    """Book received units on the document (all lines or none) and move its status.

    Pegs are left as they are: `serve_pegs` hands the units to them next."""
    if not supply.incoming:
        raise InvalidTransition("supply", supply.status.value, SupplyStatus.RECEIVED.value)
    if supply.is_transfer and supply.dispatched_at is None:
        raise Conflict(
            f"transfer {supply.id!r} has not left {supply.origin!r} yet: dispatch it first",
            code="transfer_not_dispatched",
            status=supply.status.value,
        )
    check_lines(lines)
    for index, (sku, quantity) in enumerate(lines):
        line = supply.line(sku)
        if line is None:
            raise InvalidInput(
                f"SKU {sku!r} is not on supply {supply.id!r}",
                code="sku_not_on_supply",
                field=f"lines.{index}.sku",
            )
        if quantity > line.open:
            raise InvalidInput(
                f"{quantity} units of {sku!r} received but only {line.open} still expected",
                code="over_receipt",
                field=f"lines.{index}.quantity",
                expected=line.open,
            )
    for sku, quantity in lines:
        line = supply.line(sku)
        assert line is not None
        line.received += quantity
    done = all(line.open == 0 for line in supply.lines)
    supply.move_to(SupplyStatus.RECEIVED if done else SupplyStatus.PARTIALLY_RECEIVED, now)


def serve_pegs(
    supply: Supply, sku: str, units: int, take: Callable[[Peg, int], int]
) -> list[Served]:
    """Offer `units` received units of the SKU to its pegs, oldest order first.

    `take(peg, offered)` says how many of the offered units the order line accepts
    (0 … offered); accepted units leave the peg, units refused are offered to the next.
    Each unit goes to at most one order line."""
    served: list[Served] = []
    for p in sorted((p for p in supply.pegs if p.sku == sku), key=lambda p: p.queue_key):
        if units <= 0:
            break
        offered = min(units, p.quantity)
        accepted = max(0, min(offered, take(p, offered)))
        if accepted:
            unpeg(supply, p.order_id, p.line_id, accepted)
            served.append(Served(p, accepted))
            units -= accepted
    return served


def trim_pegs(supply: Supply) -> list[Peg]:
    """Release pegs beyond what is still expected, newest order first (after a receipt
    whose units went elsewhere, or a cancelled remainder); returns what was released."""
    released: list[Peg] = []
    if not supply.incoming:
        return release_all(supply)
    for line in supply.lines:
        excess = line.pegged - line.open
        newest = sorted(
            (p for p in supply.pegs if p.sku == line.sku), key=lambda p: p.queue_key, reverse=True
        )
        for p in newest:
            if excess <= 0:
                break
            dropped = unpeg(supply, p.order_id, p.line_id, excess)
            released.append(_resized(p, dropped))
            excess -= dropped
    return released


# --- projected availability --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectedStep:
    """From `at` on, `available` units of the SKU can be promised at the location."""

    at: datetime | None  # None: now (on-hand)
    available: int


def projected_availability(
    available_now: int, supplies: Iterable[Supply], location_id: str, sku: str
) -> list[ProjectedStep]:
    """Available units by date: on-hand available now, then after each expected arrival
    the units still expected and not pegged to back-orders, cumulatively.

    Supply expected in the past but not yet received counts from now: it is late, not
    lost."""
    steps = [ProjectedStep(None, max(0, available_now))]
    arrivals: dict[datetime, int] = {}
    for s in supplies:
        line = s.line(sku)
        if s.location_id != location_id or not s.incoming or line is None or line.free <= 0:
            continue
        arrivals[s.expected_at] = arrivals.get(s.expected_at, 0) + line.free
    total = steps[0].available
    for at in sorted(arrivals):
        total += arrivals[at]
        steps.append(ProjectedStep(at, total))
    return steps


def available_by(steps: Sequence[ProjectedStep], when: datetime) -> int:
    """Units that can be promised for `when` (late supply counts as arriving now)."""
    return max(s.available for s in steps if s.at is None or s.at <= when)


def earliest_date_for(steps: Sequence[ProjectedStep], quantity: int) -> ProjectedStep | None:
    """The first step with at least `quantity` units; None when supply never covers it."""
    return next((s for s in steps if s.available >= quantity), None)
