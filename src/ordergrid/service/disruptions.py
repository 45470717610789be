"""Failures the engine notices itself: a location paused or closed with work still to
start, and a stock feed that leaves a location holding fewer units than it reserved
(cart holds give way first, then transfers not yet dispatched, then orders' work)."""

from __future__ import annotations

from datetime import datetime

from ordergrid.domain import lifecycle
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.inventory import Position
from ordergrid.service.commands import SYSTEM
from ordergrid.service.context import Context
from ordergrid.service.ports import Timer, UnitOfWork
from ordergrid.service.reallocation import Failure, after_failure
from ordergrid.service.reservations import give_way
from ordergrid.service.stock import apply_movements
from ordergrid.service.timer_kinds import LOCATION_UNAVAILABLE, STOCK_DISCREPANCY
from ordergrid.service.tracking import save
from ordergrid.service.transfer_cuts import cut_transfers

#: Work not yet picked moves; picked units are on their way and stay.
_NOT_STARTED = frozenset({FulfilmentStatus.RELEASED, FulfilmentStatus.ACCEPTED})
#: Orders moved per transaction; a continuation timer takes the rest.
BATCH = 25


def location_unavailable(uow: UnitOfWork, timer: Timer, ctx: Context, now: datetime) -> None:
    """Move the released-but-unpicked work of a paused or closed location elsewhere."""
    location = uow.locations.get(str(timer.data["location_id"]))
    if location is None or location.usable:
        return  # reopened before the worker came to it
    reason = f"location_{location.status.value}"
    work = uow.orders.work_at(location.id, {s.value for s in _NOT_STARTED})
    for fid, order_id in work[:BATCH]:
        order = uow.orders.get(order_id)
        f = None if order is None else order.fulfilment(fid)
        if order is None or f is None or f.status not in _NOT_STARTED:
            continue
        movements = lifecycle.give_back(
            order, fid, FulfilmentStatus.CANCELLED, reason, now, SYSTEM.name
        )
        apply_movements(uow, movements, now, SYSTEM.name)
        skus = tuple(fl.sku for fl in f.lines)
        after_failure(uow, order, Failure(reason, location.id, fid, skus, SYSTEM.name), ctx, now)
        order.refresh_status(now, SYSTEM.name)
        save(uow, order, ctx, now)
    if len(work) > BATCH:
        uow.timers.add(Timer(ctx.ids.new_id(), LOCATION_UNAVAILABLE, now, data=dict(timer.data)))


def watch_positions(
    uow: UnitOfWork, positions: list[Position], ctx: Context, now: datetime
) -> None:
    """A feed left some positions holding fewer units than are reserved there: schedule
    the re-allocation of enough reservations to cover the gap."""
    seen: set[tuple[str, str]] = set()
    for p in positions:
        key = (p.location_id, p.sku)
        if p.on_hand < p.reserved and key not in seen:
            seen.add(key)
            data = {"location_id": p.location_id, "sku": p.sku}
            uow.timers.add(Timer(ctx.ids.new_id(), STOCK_DISCREPANCY, now, data=data))


def stock_discrepancy(uow: UnitOfWork, timer: Timer, ctx: Context, now: datetime) -> None:
    """Take units back at the position until its reservations fit its on-hand: the
    newest cart holds, then transfers not yet dispatched (`transfer_cuts`), then the
    newest unpicked work, which is re-sourced elsewhere."""
    location_id, sku = str(timer.data["location_id"]), str(timer.data["sku"])
    uow.inventory.lock(location_id, [sku])
    p = uow.inventory.position(location_id, sku)
    gap = 0 if p is None else p.reserved - p.on_hand
    # What gives way first: cart holds, then transfers not yet dispatched, then orders.
    gap = give_way(uow, location_id, sku, gap, now) if gap > 0 else gap
    gap = cut_transfers(uow, location_id, sku, gap, ctx, now) if gap > 0 else gap
    for fid, order_id in uow.orders.work_at(location_id, {s.value for s in _NOT_STARTED}):
        if gap <= 0:
            return
        order = uow.orders.get(order_id)
        if order is None or order.fulfilment(fid) is None:
            continue
        movements = lifecycle.withdraw_units(
            order, fid, sku, gap, STOCK_DISCREPANCY, now, SYSTEM.name
        )
        if not movements:
            continue
        gap += sum(m.reserved_delta for m in movements)
        apply_movements(uow, movements, now, SYSTEM.name)
        failure = Failure(STOCK_DISCREPANCY, location_id, fid, (sku,), SYSTEM.name)
        after_failure(uow, order, failure, ctx, now)
        order.refresh_status(now, SYSTEM.name)
        save(uow, order, ctx, now)
