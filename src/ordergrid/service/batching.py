"""Batch windows: orders a policy lets wait are sourced together when the window of the
first of them closes (`ordergrid.domain.sourcing.batch`), so one order does not take the
stock that would have let another ship in one parcel.

Placing such an order records `order.waiting` and a durable timer for the end of its
window. The worker that runs the first due timer claims every waiting order's timer,
sources those orders together in one transaction and deletes their timers with it; a
timer whose order was already sourced does nothing. Held orders are left to their hold.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from time import perf_counter

from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing import SourcingRequest
from ordergrid.domain.sourcing.batch import source_batch
from ordergrid.service.commands import SYSTEM
from ordergrid.service.context import Context
from ordergrid.service.pegging import peg_waiting_units
from ordergrid.service.ports import Timer, UnitOfWork
from ordergrid.service.sourcing import (
    build_batch_view,
    policy_for,
    record_decision,
    transfer_missing,
)
from ordergrid.service.timer_kinds import BATCH_SOURCING
from ordergrid.service.tracking import save

#: Orders sourced together at most; more waiting ones go to the next batch.
MAX_BATCH = 200


def wait_for_batch(uow: UnitOfWork, order: Order, ctx: Context, now: datetime) -> bool:
    """Let a new order wait for its policy's batch window; False when it has none."""
    window = policy_for(uow, order).batch_window_seconds
    if window <= 0 or order.on_hold:
        return False
    until = now + timedelta(seconds=window)
    uow.timers.add(Timer(ctx.ids.new_id(), BATCH_SOURCING, until, order.id))
    order.record("order.waiting", None, until=until.isoformat(), window_seconds=window)
    return True


def source_waiting(uow: UnitOfWork, timer: Timer, ctx: Context, now: datetime) -> None:
    """Source the claimed timer's order and every other waiting one, together."""
    others = [t for t in uow.timers.claim_kind(BATCH_SOURCING, MAX_BATCH) if t.id != timer.id]
    orders = _waiting(uow, [timer, *others])
    if orders:
        policies = [policy_for(uow, o) for o in orders]
        requests = [SourcingRequest.for_order(o) for o in orders]
        view = replace(
            build_batch_view(uow, requests, now, policies),
            shadow_prices=ctx.scarcity.current(),
        )
        started = perf_counter()
        decisions = source_batch(requests, view, policies, now)
        each_ms = (perf_counter() - started) * 1000 / len(orders)
        for order, policy, decided in zip(orders, policies, decisions, strict=True):
            timed = replace(decided, elapsed_ms=each_ms)
            record_decision(uow, order, timed, ctx, now, SYSTEM.name, "batch_window", view)
            transfer_missing(uow, order, policy, ctx, now, SYSTEM.name)
            peg_waiting_units(uow, order, policy, now, SYSTEM.name)
            save(uow, order, ctx, now)
    for other in others:
        uow.timers.done(other.id)


def _waiting(uow: UnitOfWork, timers: list[Timer]) -> list[Order]:
    """The timers' orders that still have units to source and are not held."""
    out: list[Order] = []
    seen: set[str] = set()
    for t in timers:
        order = None if t.order_id in seen else uow.orders.get(t.order_id or "")
        seen.add(t.order_id or "")
        if order is not None and not order.on_hold and order.to_source():
            out.append(order)
    return out
