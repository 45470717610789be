"""Transfers that take fewer units from their origin than they held: a dispatch that
leaves short, and a count at the origin that finds fewer units than are reserved there.

Either way the line expects only what is still coming, the origin's reservation for the
rest falls (ledger `transfer_short`, ref `supply:<id>`), and pegs beyond what is coming
are released newest order first: the pick-up order the transfer was made for is sent
the units by another transfer (or pegged to other supply), other back-orders go back to
waiting and are pegged again where their policy allows (`order.unpegged`, reason
`transfer_short`)."""

from __future__ import annotations

from datetime import datetime

from ordergrid.domain.errors import NotFound
from ordergrid.domain.events import Event
from ordergrid.domain.supply import Peg, Supply, SupplyStatus, trim_pegs
from ordergrid.domain.transfers import Cut, cut_json, cut_to_count, dispatch
from ordergrid.service.commands import SYSTEM
from ordergrid.service.context import Context
from ordergrid.service.pickup_transfers import resource_pickup
from ordergrid.service.ports import SupplyFilter, UnitOfWork
from ordergrid.service.stock import apply_movements
from ordergrid.service.supply import requeue, supply_data
from ordergrid.service.supply_commands import DispatchSupply

#: `order.unpegged` reason of units a shortened transfer no longer brings.
UNPEGGED = "transfer_short"
#: Why a transfer was shortened, on `supply.updated` / `supply.cancelled`.
SHORT_DISPATCH = "short_dispatch"
STOCK_COUNT = "stock_count"
#: Transfers read per page when a count looks for those holding a SKU.
PAGE = 100


def dispatch_supply(cmd: DispatchSupply, ctx: Context) -> Supply:
    """The transfer leaves its origin with the listed units (all of it without lines):
    on-hand and reservation fall there (`transfer_out`) and the units are in transit
    until received; units held but not sent are released (`transfer_short`) and the
    orders waiting for them sourced again. 404, 409 `not_a_transfer` or
    `invalid_transition`; 422 as `sent_per_line` says."""
    now = ctx.clock.now()
    actor = cmd.actor.name
    with ctx.uow() as uow:
        supply = uow.supply.get(cmd.supply_id, lock=True)
        if supply is None:
            raise NotFound("supply", cmd.supply_id)
        done = dispatch(supply, now, cmd.carrier, cmd.tracking_number, cmd.lines)
        apply_movements(uow, done.movements, now, actor)
        planned = {c.sku: c.planned for c in done.cuts}
        data = {
            "supply_id": supply.id,
            "origin": supply.origin,
            "location_id": supply.location_id,
            "carrier": supply.carrier,
            "tracking_number": supply.tracking_number,
            "lines": [
                {
                    "sku": x.sku,
                    "quantity": x.quantity,
                    "planned": planned.get(x.sku, x.quantity),
                    "short": planned.get(x.sku, x.quantity) - x.quantity,
                }
                for x in supply.lines
            ],
            "short_reason": cmd.reason if done.cuts else None,
        }
        uow.outbox.append([Event("supply.dispatched", data, actor=actor)], now)
        # The origin failed the pick-up order on these units: it is not asked again.
        settle(uow, supply, done.cuts, SHORT_DISPATCH, ctx, now, actor, exclude_origin=True)
        uow.commit()
    return supply


def cut_transfers(
    uow: UnitOfWork, location_id: str, sku: str, gap: int, ctx: Context, now: datetime
) -> int:
    """A count left the position holding `gap` more units than it has (cart holds gave
    way already): transfers not yet dispatched from it hand back units, those no order
    waits for first, then the newest. Returns the gap left for orders' work."""
    for found in _holding(uow, location_id, sku):
        if gap <= 0:
            break
        supply = uow.supply.get(found.id, lock=True)
        done = None if supply is None else cut_to_count(supply, sku, gap, now)
        if supply is None or done is None:
            continue
        cut, movement = done
        apply_movements(uow, [movement], now, SYSTEM.name)
        gap -= cut.short
        settle(uow, supply, [cut], STOCK_COUNT, ctx, now, SYSTEM.name, exclude_origin=False)
    return gap


def _holding(uow: UnitOfWork, location_id: str, sku: str) -> list[Supply]:
    """Open transfers from the location with the SKU, in the order they give way."""
    found: list[Supply] = []
    cursor: str | None = None
    flt = SupplyFilter(sku=sku, status=SupplyStatus.OPEN.value, origin=location_id)
    while True:
        page = uow.supply.page(flt, PAGE, cursor)
        found += [s for s in page.items if s.is_transfer]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    newest = sorted(found, key=lambda s: (s.created_at, s.id), reverse=True)
    # A transfer no order waits for costs no customer a promise.
    return sorted(newest, key=lambda s: bool(s.pegs))


def settle(
    uow: UnitOfWork,
    supply: Supply,
    cuts: list[Cut],
    cause: str,
    ctx: Context,
    now: datetime,
    actor: str,
    *,
    exclude_origin: bool,
) -> None:
    """Save a transfer whose lines were cut, tell of it (`supply.updated`, or
    `supply.cancelled` when nothing is left to send, with `reason` and `short`), and
    source again the orders whose pegs it can no longer honour."""
    released = trim_pegs(supply)
    uow.supply.put(supply)
    if not cuts:
        return
    kind = "supply.cancelled" if supply.status is SupplyStatus.CANCELLED else "supply.updated"
    data = {**supply_data(supply), "reason": cause, "short": cut_json(cuts)}
    uow.outbox.append([Event(kind, data, actor=actor)], now)
    for_order = [p for p in released if p.order_id == supply.order_id]
    others = [p for p in released if p.order_id != supply.order_id]
    requeue(uow, others, UNPEGGED, ctx, now, actor)
    if for_order:
        _resource(uow, supply, for_order, ctx, now, actor, exclude_origin)


def _resource(
    uow: UnitOfWork,
    supply: Supply,
    released: list[Peg],
    ctx: Context,
    now: datetime,
    actor: str,
    exclude_origin: bool,
) -> None:
    assert supply.order_id is not None  # only pegs of the transfer's own order come here
    order = uow.orders.get(supply.order_id)
    if order is None:
        return
    if exclude_origin and supply.origin is not None:
        order.excluded_locations.add(supply.origin)
    resource_pickup(uow, order, released, UNPEGGED, ctx, now, actor)
