"""Cancelling a whole order or some units of its lines."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import Order, OrderLine, OrderStatus

S = FulfilmentStatus
#: Units are taken back from the least advanced work first.
_PROGRESS = {S.RELEASED: 0, S.ACCEPTED: 1, S.PICKED: 2, S.READY_FOR_PICKUP: 3}


def cancellable(order: Order, line: OrderLine) -> int:
    """Units of a line that have not left a location (shipped units are a return)."""
    c = order.counts(line)
    return c.unsourced + c.backordered + c.allocated


def _requested(order: Order, lines: Mapping[str, int] | None) -> dict[str, int]:
    if lines is None:
        wanted = {line.line_id: cancellable(order, line) for line in order.lines}
        if not any(wanted.values()):
            raise Conflict(
                "every unit of the order has already been shipped or collected; that is a return",
                code="order_already_shipped",
                status=order.status.value,
            )
        return wanted
    for index, (line_id, qty) in enumerate(lines.items()):
        line = order.line(line_id)
        if line is None:
            raise InvalidInput(
                f"line {line_id!r} is not part of the order",
                code="unknown_line",
                field=f"lines.{index}.line_id",
                line_id=line_id,
            )
        if qty < 1:
            raise InvalidInput(
                f"cancel at least one unit of line {line_id!r}",
                code="invalid_quantity",
                field=f"lines.{index}.quantity",
                line_id=line_id,
            )
        available = cancellable(order, line)
        if qty > available:
            raise Conflict(
                f"only {available} unit(s) of line {line_id!r} can still be cancelled",
                code="not_cancellable",
                line_id=line_id,
                requested=qty,
                cancellable=available,
                shipped=order.counts(line).shipped,
            )
    return dict(lines)


def _take_from_fulfilments(
    order: Order, line: OrderLine, qty: int, now: datetime, actor: str | None
) -> list[Movement]:
    movements: list[Movement] = []
    open_ = sorted((f for f in order.fulfilments if f.is_open), key=lambda f: _PROGRESS[f.status])
    for f in open_:
        fl = f.line(line.line_id)
        if qty == 0 or fl is None or fl.quantity == 0:
            continue
        take = min(qty, fl.quantity)
        fl.quantity -= take
        fl.cancelled += take
        line.cancelled += take
        qty -= take
        movements.append(Movement(f.location_id, fl.sku, 0, -take, MovementReason.RELEASE, f.id))
        if f.units() == 0:
            f.move_to(S.CANCELLED, now, actor)
            f.reason = "order_cancelled"
            order.record(
                "fulfilment.cancelled",
                actor,
                fulfilment_id=f.id,
                location_id=f.location_id,
                reason="order_cancelled",
            )
    return movements


def cancel(
    order: Order,
    lines: Mapping[str, int] | None,
    reason: str | None,
    now: datetime,
    actor: str | None = None,
) -> list[Movement]:
    """Cancel units (all cancellable ones when `lines` is None); returns reservations freed."""
    if order.status is OrderStatus.CANCELLED:
        raise InvalidTransition("order", order.status.value, OrderStatus.CANCELLED.value)
    wanted = _requested(order, lines)
    movements: list[Movement] = []
    for line_id, qty in wanted.items():
        line = order.line(line_id)
        assert line is not None  # checked by _requested
        counts = order.counts(line)
        from_unsourced = min(qty, counts.unsourced)
        from_backorder = min(qty - from_unsourced, line.backordered)
        line.backordered -= from_backorder
        line.cancelled += from_unsourced + from_backorder
        rest = qty - from_unsourced - from_backorder
        movements += _take_from_fulfilments(order, line, rest, now, actor)
    order.record(
        "order.lines_cancelled",
        actor,
        reason=reason,
        lines=[{"line_id": k, "quantity": v} for k, v in wanted.items() if v > 0],
    )
    order.refresh_status(now, actor)
    return movements
