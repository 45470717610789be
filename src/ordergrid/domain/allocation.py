"""Turning a sourcing decision into fulfilments, back-orders and reservations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ordergrid.domain.fulfilments import Fulfilment, FulfilmentLine, FulfilmentStatus
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing.decision import Decision


def apply_decision(
    order: Order,
    decision: Decision,
    fulfilment_ids: Iterator[str],
    now: datetime,
    actor: str | None = None,
) -> list[Movement]:
    """Release one fulfilment per chosen location; returns the reservations to make.

    The decision covers every unit the order still had to place (`Order.to_source`), so
    back-ordered counts are replaced, not added to.
    """
    wanted = order.to_source()
    for line_id in wanted:
        line = order.line(line_id)
        assert line is not None
        line.backordered = decision.backordered.get(line_id, 0)
        line.cancelled += decision.cancelled.get(line_id, 0)
    reservations: list[Movement] = []
    for shipment in decision.plan.shipments:
        f = Fulfilment(
            id=next(fulfilment_ids),
            order_id=order.id,
            location_id=shipment.location_id,
            status=FulfilmentStatus.RELEASED,
            lines=[FulfilmentLine(a.line_id, a.sku, a.quantity) for a in shipment.allocations],
            created_at=now,
            updated_at=now,
        )
        order.fulfilments.append(f)
        order.record(
            "fulfilment.released",
            actor,
            fulfilment_id=f.id,
            location_id=f.location_id,
            lines=[
                {"line_id": fl.line_id, "sku": fl.sku, "quantity": fl.quantity} for fl in f.lines
            ],
        )
        reservations += [
            Movement(f.location_id, fl.sku, 0, fl.quantity, MovementReason.RESERVATION, f.id)
            for fl in f.lines
        ]
    if decision.backordered:
        order.record(
            "order.backordered",
            actor,
            lines=[{"line_id": k, "quantity": v} for k, v in decision.backordered.items()],
        )
    if decision.cancelled:
        order.record(
            "order.units_cancelled",
            actor,
            reason="no_stock",
            lines=[{"line_id": k, "quantity": v} for k, v in decision.cancelled.items()],
        )
    order.refresh_status(now, actor)
    return reservations


def park(order: Order) -> None:
    """Units freed while the order is on hold wait as back-ordered until it is released,
    so every unit stays accounted for (allocated, back-ordered, shipped or cancelled)."""
    for line in order.lines:
        unsourced = order.counts(line).unsourced
        if unsourced > 0:
            line.backordered += unsourced
