"""Stock and order invariants, checked through the unit-of-work port only.

Reusable against any backend: pass an entered unit of work, or a factory of them (such
as `Context.uow`), and every violation found is reported in one `AssertionError`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ordergrid.domain.fulfilments import HANDED_OVER, OPEN, Fulfilment, FulfilmentStatus
from ordergrid.domain.inventory import Position
from ordergrid.domain.orders import Order, derive_status
from ordergrid.domain.reservations import Reservation, ReservationStatus
from ordergrid.domain.supply import Supply
from ordergrid.domain.transfers import held_at_origin
from ordergrid.service.ports import (
    OrderFilter,
    ReservationFilter,
    StoredEvent,
    SupplyFilter,
    UnitOfWork,
)
from ordergrid.service.timer_kinds import RESERVATION_EXPIRY

PAGE = 200


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the invariants look at, read in one transaction."""

    orders: list[Order]
    positions: list[Position]
    fulfilment_owner: dict[str, str | None]
    timelines: dict[str, list[StoredEvent]]
    #: Orders whose freed units a durable re-sourcing will place (a timer is pending).
    reallocating: frozenset[str] = frozenset()
    #: Every cart reservation; the active ones hold units at positions.
    reservations: tuple[Reservation, ...] = ()
    #: Pending expiry timers: (timer id, reservation id, due at).
    expiry_timers: tuple[tuple[str, str, datetime], ...] = ()
    #: Every supply document; open transfers hold units at their origin.
    supply: tuple[Supply, ...] = ()


def _reservations(uow: UnitOfWork) -> list[Reservation]:
    out: list[Reservation] = []
    cursor: str | None = None
    while True:
        page = uow.reservations.page(ReservationFilter(), PAGE, cursor)
        out += page.items
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def _supply(uow: UnitOfWork) -> list[Supply]:
    out: list[Supply] = []
    cursor: str | None = None
    while True:
        page = uow.supply.page(SupplyFilter(), PAGE, cursor)
        out += page.items
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def read_all(uow: UnitOfWork) -> Snapshot:
    orders: list[Order] = []
    cursor: str | None = None
    while True:
        page = uow.orders.page(OrderFilter(), PAGE, cursor)
        orders += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    skus = {line.sku for o in orders for line in o.lines}
    product_cursor: str | None = None
    while True:
        products = uow.products.page(PAGE, product_cursor)
        skus |= {p.sku for p in products.items}
        if products.next_cursor is None:
            break
        product_cursor = products.next_cursor
    owner = {f.id: uow.orders.order_id_of_fulfilment(f.id) for o in orders for f in o.fulfilments}
    timelines = {o.id: uow.outbox.for_order(o.id) for o in orders}
    reallocating = frozenset(
        o.id for o in orders if any(t.kind == "reallocate" for t in uow.timers.pending(o.id))
    )
    carts = _reservations(uow)
    # Claiming only reads here: the caller's transaction is left without a commit.
    expiry = tuple(
        (t.id, str(t.data.get("reservation_id")), t.due_at)
        for t in uow.timers.claim_kind(RESERVATION_EXPIRY, 100_000)
    )
    return Snapshot(
        orders,
        uow.inventory.positions(skus),
        owner,
        timelines,
        reallocating,
        tuple(carts),
        expiry,
        tuple(_supply(uow)),
    )


#: Cancellations that are not the location's failure.
_NOT_A_FAILURE = frozenset({"order_cancelled", "not_collected"})


def _failed_at(f: Fulfilment) -> datetime | None:
    """When the location failed this fulfilment (rejected, expired, short-picked, gave it
    back, was paused or closed, or proved to lack the stock), if it did."""
    for step in f.history:
        failed = (
            step["to"] in (FulfilmentStatus.REJECTED, FulfilmentStatus.EXPIRED)
            or (step["to"] == FulfilmentStatus.PICKED and any(fl.short for fl in f.lines))
            or (step["to"] == FulfilmentStatus.CANCELLED and f.reason not in _NOT_A_FAILURE)
        )
        if failed:
            return datetime.fromisoformat(str(step["at"]))
    return None


def _timeline_problems(o: Order, timeline: list[StoredEvent]) -> list[str]:
    """Every fulfilment was announced; a location that failed the order got no new work."""
    out: list[str] = []
    positions = [e.position for e in timeline]
    if positions != sorted(positions):
        out.append(f"order {o.id}: timeline not in position order")
    released = {e.data.get("fulfilment_id") for e in timeline if e.type == "fulfilment.released"}
    out += [
        f"fulfilment {f.id}: no fulfilment.released event"
        for f in o.fulfilments
        if f.id not in released
    ]
    # Which came first is read from the timeline (its positions), not from clock times:
    # a worker round handles several due timers at one instant.
    released_at = {
        e.data.get("fulfilment_id"): e.position for e in timeline if e.type == "fulfilment.released"
    }
    failed_at: dict[object, int] = {}
    for e in timeline:
        if e.type in _FAILURE_EVENTS:
            failed_at.setdefault(e.data.get("fulfilment_id"), e.position)
    for g in o.fulfilments:
        if _failed_at(g) is None or g.id not in failed_at:
            continue
        out += [
            f"order {o.id}: {f.id} sent to {f.location_id} after it failed {g.id}"
            for f in o.fulfilments
            if f.location_id == g.location_id
            and f.id != g.id
            and released_at.get(f.id, -1) > failed_at[g.id]
        ]
    return out


_FAILURE_EVENTS = frozenset(
    {"fulfilment.rejected", "fulfilment.expired", "fulfilment.short_picked", "fulfilment.cancelled"}
)


def _order_problems(o: Order, owner: dict[str, str | None], reallocating: bool) -> list[str]:
    out: list[str] = []
    if o.status is not derive_status(o):
        out.append(f"order {o.id}: status {o.status} but its state says {derive_status(o)}")
    for f in o.fulfilments:
        if owner.get(f.id) != o.id:
            out.append(f"fulfilment {f.id}: indexed under order {owner.get(f.id)}, not {o.id}")
        for fl in f.lines:
            line = o.line(fl.line_id)
            if line is None or line.sku != fl.sku:
                out.append(f"fulfilment {f.id}: line {fl.line_id}/{fl.sku} not in the order")
            if fl.quantity < 0:
                out.append(f"fulfilment {f.id}: line {fl.line_id} quantity {fl.quantity} < 0")
    for line in o.lines:
        c = o.counts(line)
        where = f"order {o.id} line {line.line_id}"
        if min(c.allocated, c.backordered, c.shipped, c.cancelled, c.unsourced) < 0:
            out.append(f"{where}: negative count {c}")
        if c.unsourced and not o.on_hold and not reallocating:
            out.append(f"{where}: {c.unsourced} unit(s) neither placed nor back-ordered: {c}")
        if line.quantity != c.allocated + c.backordered + c.shipped + c.cancelled + c.unsourced:
            out.append(f"{where}: quantity {line.quantity} != sum of {c}")
        placed = sum(
            fl.quantity
            for f in o.fulfilments
            if f.status in OPEN | HANDED_OVER
            for fl in f.lines
            if fl.line_id == line.line_id
        )
        if placed > line.quantity:
            out.append(f"{where}: {placed} unit(s) at locations for {line.quantity} ordered")
    return out


def _reservation_problems(snapshot: Snapshot) -> list[str]:
    """An active cart holds every unit it asked for and has exactly its one expiry timer,
    due when it expires; an ended cart holds nothing and has no timer; a converted one
    names its order."""
    out: list[str] = []
    timers: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for timer_id, reservation_id, due in snapshot.expiry_timers:
        timers[reservation_id].append((timer_id, due))
    for r in snapshot.reservations:
        mine = timers.pop(r.id, [])
        if r.status is ReservationStatus.ACTIVE:
            out += [
                f"reservation {r.id}: {line.sku} holds {line.held} for {line.quantity}"
                for line in r.lines
                if sum(h.quantity for h in line.held) != line.quantity
            ]
            if mine != [(r.timer_id, r.expires_at)]:
                out.append(
                    f"reservation {r.id}: expiry timers {mine}, expected one at {r.expires_at}"
                )
        elif mine or r.timer_id is not None:
            out.append(f"reservation {r.id}: {r.status.value} but still has timers {mine}")
        if (r.status is ReservationStatus.CONVERTED) != (r.order_id is not None):
            out.append(f"reservation {r.id}: {r.status.value} with order {r.order_id}")
    out += [f"expiry timer of unknown reservation {k}" for k in timers]
    return out


def problems(snapshot: Snapshot) -> list[str]:
    """Every invariant violation in `snapshot`, as sentences."""
    out: list[str] = []
    held: dict[tuple[str, str], int] = defaultdict(int)
    seen: set[str] = set()
    for o in snapshot.orders:
        out += _order_problems(o, snapshot.fulfilment_owner, o.id in snapshot.reallocating)
        out += _timeline_problems(o, snapshot.timelines.get(o.id, []))
        for f in o.fulfilments:
            if f.id in seen:
                out.append(f"fulfilment {f.id} appears twice")
            seen.add(f.id)
            if f.status in OPEN:
                for fl in f.lines:
                    held[(f.location_id, fl.sku)] += fl.quantity
    out += _reservation_problems(snapshot)
    for r in snapshot.reservations:
        for key, quantity in r.holds().items():
            held[key] += quantity
    for doc in snapshot.supply:
        for sku, quantity in held_at_origin(doc).items():
            held[(doc.origin or "", sku)] += quantity
    for p in snapshot.positions:
        key = (p.location_id, p.sku)
        if p.on_hand < 0 or p.reserved < 0 or p.available < 0:
            out.append(
                f"position {key}: on_hand {p.on_hand}, reserved {p.reserved}, "
                f"available {p.available}"
            )
        expected = held.pop(key, 0)
        if p.reserved != expected:
            out.append(
                f"position {key}: reserved {p.reserved} but open fulfilments, active "
                f"cart holds and open transfers hold {expected}"
            )
    out += [
        f"position {k}: open fulfilments, cart holds and transfers hold {v} but no position exists"
        for k, v in held.items()
        if v
    ]
    return out


def check_invariants(source: UnitOfWork | Callable[[], UnitOfWork]) -> Snapshot:
    """Raise `AssertionError` listing every violation; returns what was read.

    `source` is an entered unit of work, or a factory whose unit of work is entered (and
    left without committing) here.
    """
    if callable(source):
        with source() as uow:
            snapshot = read_all(uow)
    else:
        snapshot = read_all(source)
    found = problems(snapshot)
    assert not found, "invariants violated:\n  " + "\n  ".join(found)
    return snapshot
