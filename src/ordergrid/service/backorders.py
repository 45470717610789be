"""Back-ordered units are sourced again, oldest order first, when stock appears."""

from __future__ import annotations

from ordergrid.service.commands import SYSTEM, SourceBackorders
from ordergrid.service.context import Context
from ordergrid.service.sourcing import source_order


def source_backorders(cmd: SourceBackorders, ctx: Context) -> int:
    """Re-source waiting orders for these SKUs; returns how many got new allocations."""
    placed = 0
    with ctx.uow() as uow:
        now = ctx.clock.now()
        for order_id in uow.orders.backordered(cmd.skus, cmd.limit):
            order = uow.orders.get(order_id)
            if order is None or order.on_hold:
                continue
            decision = source_order(
                uow, order, ctx, now, SYSTEM.name, "stock_arrived", quiet_if_unchanged=True
            )
            if decision is not None:
                placed += bool(decision.plan.shipments)
                uow.orders.save(order)
        uow.commit()
    return placed
