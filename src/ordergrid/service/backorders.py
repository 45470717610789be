"""Back-ordered units are sourced again, oldest order first, when stock appears."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from ordergrid.service.commands import SYSTEM, SourceBackorders, SweepBackorders
from ordergrid.service.context import Context
from ordergrid.service.pickup_transfers import COLLECTED, missing_units
from ordergrid.service.ports import BackorderCursor, UnitOfWork
from ordergrid.service.retry import retrying
from ordergrid.service.sourcing import source_order
from ordergrid.service.tracking import save

PAGE = 100


def source_backorders(cmd: SourceBackorders, ctx: Context) -> int:
    """Offer the stock of these SKUs to waiting orders, oldest first, each order in its
    own transaction (a conflict on one order never holds up the others). Orders that
    still cannot be served are passed over, not retried in a loop. Returns how many
    orders got new allocations."""
    placed = 0
    after: BackorderCursor | None = None
    while True:
        with ctx.uow(readonly=True) as uow:
            page = uow.orders.backordered(cmd.skus, PAGE, after)
            # Passed over on a read: looking takes no write lock from placements.
            todo = [o for _, o in page if not _waits_for_its_store(uow, o, cmd.rose_at)]
        for order_id in todo:
            placed += retrying(partial(_source_one, order_id, ctx))
        if len(page) < PAGE:
            return placed
        after = page[-1]


def _source_one(order_id: str, ctx: Context) -> int:
    with ctx.uow() as uow:
        order = uow.orders.get(order_id)
        if order is None or order.on_hold:
            return 0
        now = ctx.clock.now()
        decision = source_order(
            uow, order, ctx, now, SYSTEM.name, "stock_arrived", quiet_if_unchanged=True
        )
        if decision is None:
            return 0
        save(uow, order, ctx, now)
        uow.commit()
    ctx.pending.report(ctx.observer)
    return int(bool(decision.plan.shipments))


def _waits_for_its_store(
    uow: UnitOfWork, order_id: str, rose_at: Mapping[str, frozenset[str]] | None
) -> bool:
    """True when stock that rose elsewhere cannot help: the order is collected at a store,
    sourcing it looks at that store alone, and every unit it lacks is already on its way
    there by transfer (a new transfer is planned only for units nothing brings)."""
    if rose_at is None:
        return False
    order = uow.orders.get(order_id)
    store = None if order is None else order.delivery.pickup_location_id
    if order is None or store is None or order.delivery.method not in COLLECTED:
        return False
    waiting = {line.sku for line in order.lines if line.backordered}
    if any(store in rose_at.get(sku, ()) for sku in waiting):
        return False
    return not missing_units(uow, order)


def sweep_backorders(cmd: SweepBackorders, ctx: Context) -> int:
    """Re-offer stock for every SKU that waiting orders need and some location has.

    Stock events wake back-orders at once; this periodic pass catches an order that was
    back-ordered while stock arrived in a transaction it could not yet see. Like a stock
    event, it names where the stock is, so pick-ups whose units are all on their way
    are passed over unless their own store has some."""
    del cmd
    with ctx.uow(readonly=True) as uow:
        skus = frozenset(uow.orders.backordered_skus_with_stock())
        free = _free_at(uow, skus) if skus else {}
    return source_backorders(SourceBackorders(skus, free), ctx) if skus else 0


def _free_at(uow: UnitOfWork, skus: frozenset[str]) -> dict[str, frozenset[str]]:
    """Where each SKU has units available (before the channels' own rules)."""
    at = {}
    for sku, stock in uow.stock_reads.by_sku(skus).items():
        free = stock.free_at()
        if free:
            at[sku] = free
    return at
