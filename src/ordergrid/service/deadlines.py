"""Missed deadlines: a location that did not accept or pick in time loses the work; a
click & collect order not collected within its window is cancelled."""

from __future__ import annotations

from datetime import datetime

from ordergrid.domain import lifecycle
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.lifecycle_rules import DeadlineKind, running_deadline
from ordergrid.service.commands import SYSTEM
from ordergrid.service.context import Context
from ordergrid.service.ports import Timer, UnitOfWork
from ordergrid.service.reallocation import Failure, after_failure
from ordergrid.service.stock import apply_movements
from ordergrid.service.tracking import save

#: The reason code a missed deadline carries into the failure table.
EXPIRY_REASON = {DeadlineKind.ACCEPT: "acceptance_expired", DeadlineKind.PICK: "pick_expired"}


def deadline_passed(uow: UnitOfWork, timer: Timer, ctx: Context, now: datetime) -> None:
    order = uow.orders.get(timer.order_id or "")
    f = None if order is None else order.fulfilment(timer.fulfilment_id or "")
    kind = DeadlineKind(timer.kind)
    if order is None or f is None or running_deadline(f) is not kind:
        return  # the fulfilment moved on in time
    if kind is DeadlineKind.PICKUP_WINDOW:
        movements = lifecycle.not_collected(order, f.id, now, SYSTEM.name)
        apply_movements(uow, movements, now, SYSTEM.name)
    else:
        reason = EXPIRY_REASON[kind]
        movements = lifecycle.give_back(
            order, f.id, FulfilmentStatus.EXPIRED, reason, now, SYSTEM.name
        )
        apply_movements(uow, movements, now, SYSTEM.name)
        skus = tuple(fl.sku for fl in f.lines)
        failure = Failure(reason, f.location_id, f.id, skus, SYSTEM.name)
        after_failure(uow, order, failure, ctx, now)
    order.refresh_status(now, SYSTEM.name)
    save(uow, order, ctx, now)
