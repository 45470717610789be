"""Supply documents: create or replace, cancel, read; waiting back-orders are pegged to
new supply oldest first, and pegs a document can no longer honour go back to waiting."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ordergrid.domain.errors import InvalidInput, NotFound
from ordergrid.domain.events import Event
from ordergrid.domain.supply import (
    Peg,
    ProjectedStep,
    Supply,
    SupplyKind,
    SupplyLine,
    SupplyStatus,
    check_lines,
    check_replaceable,
    projected_availability,
    release_all,
)
from ordergrid.domain.transfers import check_route, lost_in_transit
from ordergrid.service.context import Context
from ordergrid.service.pegging import peg_json, peg_waiting_units
from ordergrid.service.ports import BackorderCursor, Page, SupplyFilter, UnitOfWork
from ordergrid.service.sourcing import policy_for
from ordergrid.service.supply_commands import CancelSupply, PutSupply
from ordergrid.service.tracking import save
from ordergrid.service.transfers import hold_at_origin, release_at_origin

#: Back-orders read per page when new supply is offered to them.
PAGE = 100


def supply_data(s: Supply) -> dict[str, object]:
    """A document as events carry it."""
    return {
        "supply_id": s.id,
        "kind": s.kind.value,
        "location_id": s.location_id,
        "expected_at": s.expected_at.isoformat(),
        "status": s.status.value,
        "origin": s.origin,
        "lines": [
            {"sku": x.sku, "quantity": x.quantity, "received": x.received, "pegged": x.pegged}
            for x in s.lines
        ],
    }


def _check_references(uow: UnitOfWork, cmd: PutSupply) -> None:
    if uow.locations.get(cmd.location_id) is None:
        raise InvalidInput(
            f"unknown location {cmd.location_id!r}", code="unknown_location", field="location_id"
        )
    origin_known = cmd.origin is not None and uow.locations.get(cmd.origin) is not None
    check_route(cmd.kind, cmd.origin, cmd.location_id, origin_known)
    known = uow.products.known(sku for sku, _ in cmd.lines)
    for index, (sku, _) in enumerate(cmd.lines):
        if sku not in known:
            raise InvalidInput(
                f"unknown SKU {sku!r}", code="unknown_sku", field=f"lines.{index}.sku"
            )
    check_lines(cmd.lines)


def _document(cmd: PutSupply, created_at: datetime, now: datetime) -> Supply:
    return Supply(
        id=cmd.supply_id,
        kind=SupplyKind(cmd.kind),
        location_id=cmd.location_id,
        expected_at=cmd.expected_at,
        lines=[SupplyLine(sku, quantity) for sku, quantity in cmd.lines],
        created_at=created_at,
        updated_at=now,
        origin=cmd.origin,
        reference=cmd.reference,
    )


def _same(a: Supply, b: Supply) -> bool:
    def shape(s: Supply) -> tuple[object, ...]:
        lines = tuple((x.sku, x.quantity) for x in s.lines)
        return (s.kind, s.location_id, s.expected_at, s.origin, s.reference, lines)

    return shape(a) == shape(b)


@dataclass(frozen=True, slots=True)
class PutResult:
    supply: Supply
    created: bool


def put_supply(cmd: PutSupply, ctx: Context) -> PutResult:
    """Create or replace a document (the same body again changes nothing). Replacing
    releases its pegs; they and other waiting back-orders are pegged again oldest first."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        _check_references(uow, cmd)
        existing = uow.supply.get(cmd.supply_id, lock=True)
        supply = _document(cmd, existing.created_at if existing else now, now)
        if existing is not None and _same(existing, supply):
            return PutResult(existing, False)
        released: list[Peg] = []
        if existing is not None:
            check_replaceable(existing)
            released = release_all(existing)
            supply.order_id = existing.order_id
            release_at_origin(uow, existing, now, cmd.actor.name, announce=False)
        hold_at_origin(uow, supply, now, cmd.actor.name)
        uow.supply.put(supply)
        kind = "supply.created" if existing is None else "supply.updated"
        uow.outbox.append([Event(kind, supply_data(supply), actor=cmd.actor.name)], now)
        requeue(uow, released, "supply_replaced", ctx, now, cmd.actor.name)
        offer_to_backorders(uow, [line.sku for line in supply.lines], ctx, now)
        uow.commit()
        final = uow.supply.get(cmd.supply_id)
    assert final is not None
    return PutResult(final, existing is None)


def cancel_supply(cmd: CancelSupply, ctx: Context) -> Supply:
    """Cancel what is still expected (409 once received or cancelled); the orders pegged
    to it go back to waiting, and to other supply where the policy allows. A transfer
    not yet dispatched gives its origin the units back; one on its way declares what
    has not arrived lost in transit."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        supply = uow.supply.get(cmd.supply_id, lock=True)
        if supply is None:
            raise NotFound("supply", cmd.supply_id)
        if supply.incoming:
            release_at_origin(uow, supply, now, cmd.actor.name)
        supply.move_to(SupplyStatus.CANCELLED, now)
        released = release_all(supply)
        uow.supply.put(supply)
        data = {**supply_data(supply), "reason": cmd.reason}
        if lost := lost_in_transit(supply):
            data["lost_in_transit"] = [{"sku": k, "quantity": v} for k, v in sorted(lost.items())]
        uow.outbox.append([Event("supply.cancelled", data, actor=cmd.actor.name)], now)
        requeue(uow, released, "supply_cancelled", ctx, now, cmd.actor.name)
        uow.commit()
    return supply


def requeue(
    uow: UnitOfWork, released: list[Peg], reason: str, ctx: Context, now: datetime, actor: str
) -> None:
    """Tell each order whose pegs were released, oldest first, and peg it again where
    other allowed supply has room."""
    by_order: dict[str, list[Peg]] = {}
    for p in sorted(released, key=lambda p: p.queue_key):
        by_order.setdefault(p.order_id, []).append(p)
    for order_id, pegs in by_order.items():
        order = uow.orders.get(order_id)
        if order is None:
            continue
        for p in pegs:
            order.record("order.unpegged", actor, reason=reason, **peg_json(p))
        peg_waiting_units(uow, order, policy_for(uow, order), now, actor)
        save(uow, order, ctx, now)


def offer_to_backorders(uow: UnitOfWork, skus: Iterable[str], ctx: Context, now: datetime) -> int:
    """Peg back-orders of these SKUs to supply with room, oldest order first, until the
    supply is full or no order waits; returns the units pegged."""
    if not any(p.future_supply.allow for p in uow.policies.active()):
        return 0  # no policy lets an order wait for supply: nothing to look through
    wanted = frozenset(skus)
    pegged = 0
    after: BackorderCursor | None = None
    while wanted:
        page = uow.orders.backordered(wanted, PAGE, after)
        for _, order_id in page:
            pegged += _offer(uow, order_id, ctx, now)
        wanted = frozenset(s for s in wanted if uow.supply.incoming(s))
        if len(page) < PAGE:
            break
        after = page[-1]
    return pegged


def _offer(uow: UnitOfWork, order_id: str, ctx: Context, now: datetime) -> int:
    order = uow.orders.get(order_id)
    if order is None:
        return 0
    pegged = peg_waiting_units(uow, order, policy_for(uow, order), now, "system")
    if pegged:
        save(uow, order, ctx, now)
    return pegged


# --- reads -------------------------------------------------------------------------------


def get_supply(ctx: Context, supply_id: str) -> Supply:
    with ctx.uow(readonly=True) as uow:
        found = uow.supply.get(supply_id)
    if found is None:
        raise NotFound("supply", supply_id)
    return found


def list_supply(ctx: Context, flt: SupplyFilter, limit: int, cursor: str | None) -> Page[Supply]:
    with ctx.uow(readonly=True) as uow:
        return uow.supply.page(flt, limit, cursor)


def order_pegs(ctx: Context, order_id: str) -> list[tuple[Peg, Supply | None]]:
    """The order's pegs, each with the document it waits for."""
    with ctx.uow(readonly=True) as uow:
        pegs = uow.supply.pegs_of_order(order_id)
        documents = {sid: uow.supply.get(sid) for sid in {p.supply_id for p in pegs}}
    return [(p, documents[p.supply_id]) for p in pegs]


def projection(ctx: Context, location_id: str, sku: str) -> list[ProjectedStep]:
    """Projected availability of a SKU at a location by date (422 for an unknown
    location or SKU)."""
    with ctx.uow(readonly=True) as uow:
        if uow.locations.get(location_id) is None:
            raise InvalidInput(
                f"unknown location {location_id!r}", code="unknown_location", field="location_id"
            )
        if not uow.products.known([sku]):
            raise InvalidInput(f"unknown SKU {sku!r}", code="unknown_sku", field="sku")
        position = uow.inventory.position(location_id, sku)
        incoming = _all(uow, SupplyFilter(location_id, sku))
    now_available = 0 if position is None else position.available
    return projected_availability(now_available, incoming, location_id, sku)


def _all(uow: UnitOfWork, flt: SupplyFilter) -> list[Supply]:
    found: list[Supply] = []
    cursor: str | None = None
    while True:
        page = uow.supply.page(flt, PAGE, cursor)
        found += page.items
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
