"""Handing an order to a person: the hold that keeps it out of sourcing, and the
exception queue where its case waits with its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ordergrid.domain.allocation import park
from ordergrid.domain.exception_queue import open_case, reopen_note
from ordergrid.domain.lifecycle import set_hold
from ordergrid.domain.orders import Order
from ordergrid.service.commands import SYSTEM
from ordergrid.service.context import Context
from ordergrid.service.ports import UnitOfWork


def hold_for_person(
    uow: UnitOfWork, order: Order, reason: str, ctx: Context, now: datetime, **detail: Any
) -> None:
    """Keep the order out of sourcing (its waiting units back-ordered) and queue it."""
    if not order.on_hold:
        set_hold(order, True, reason, now, SYSTEM.name)
    park(order)
    queue(uow, order, reason, ctx, now, **detail)


def queue(
    uow: UnitOfWork, order: Order, reason: str, ctx: Context, now: datetime, **detail: Any
) -> None:
    """Put the order in the exception queue, or add to the history of its open case."""
    case = None if order.exception_id is None else uow.exceptions.get(order.exception_id)
    if case is not None and case.is_open:
        reopen_note(case, order, reason, now, SYSTEM.name, **detail)
        uow.exceptions.save(case)
        return
    uow.exceptions.add(open_case(order, ctx.ids.new_id(), reason, now, SYSTEM.name, **detail))
