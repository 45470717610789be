"""The exception engine: what a failed fulfilment leads to, and the re-sourcing that
follows it as durable work.

A failure (rejection, short pick, missed deadline, paused site, wrong stock count,
cancellation by the location) is handled in the transaction that records it: its
action from the policy's table corrects the location's count, holds the order for a
person, or schedules a re-sourcing. The re-sourcing runs as a timer due at once, so a
crash between the two loses nothing and repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ordergrid.domain.allocation import park
from ordergrid.domain.exception_queue import CaseReason
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.lifecycle_rules import FailureAction
from ordergrid.domain.orders import TERMINAL, Order
from ordergrid.service import pickup_failures
from ordergrid.service.commands import SYSTEM
from ordergrid.service.context import Context
from ordergrid.service.escalation import hold_for_person, queue
from ordergrid.service.ports import LedgerEntry, Timer, UnitOfWork
from ordergrid.service.sourcing import source_order
from ordergrid.service.timer_kinds import REALLOCATE
from ordergrid.service.tracking import rules_for


@dataclass(frozen=True, slots=True)
class Failure:
    """A location could not do (some of) its part of an order."""

    reason: str  # a reason code of the policy's failure table
    location_id: str
    fulfilment_id: str
    skus: tuple[str, ...]
    actor: str | None

    def origin(self) -> dict[str, Any]:
        """Where it happened and who reported it."""
        return {
            "location_id": self.location_id,
            "fulfilment_id": self.fulfilment_id,
            "by": self.actor,
        }

    def as_data(self) -> dict[str, Any]:
        return {"reason": self.reason, **self.origin()}


def waiting_for_location(order: Order) -> bool:
    return any(order.counts(line).unsourced for line in order.lines)


def after_failure(
    uow: UnitOfWork, order: Order, failure: Failure, ctx: Context, now: datetime
) -> None:
    """Apply the failure's action; freed units are parked, held or scheduled for re-sourcing."""
    rules = rules_for(uow, order)
    action = rules.action_for(failure.reason)
    if action is FailureAction.RESOURCE_ZERO_STOCK:
        correct_count(uow, order, failure, now)
    if not waiting_for_location(order):
        return
    if order.on_hold:
        park(order)
    elif action is FailureAction.HOLD:
        hold_for_person(uow, order, failure.reason, ctx, now, **failure.origin())
    else:
        schedule(uow, order, failure, ctx, now)


def correct_count(uow: UnitOfWork, order: Order, failure: Failure, now: datetime) -> None:
    """The location's count of these SKUs was wrong: what it still holds for other orders
    becomes its on-hand, so nothing more is promised from it; the ledger says why."""
    skus = sorted(set(failure.skus))
    uow.inventory.lock(failure.location_id, skus)
    entries: list[LedgerEntry] = []
    for sku in skus:
        before = uow.inventory.position(failure.location_id, sku)
        excess = 0 if before is None else before.on_hand - before.reserved
        if before is None or excess <= 0:
            continue
        m = Movement(
            failure.location_id,
            sku,
            -excess,
            0,
            MovementReason.STOCK_CORRECTION,
            failure.fulfilment_id,
        )
        after = uow.inventory.move(m)
        assert after is not None  # on-hand stays at the reserved count, never below 0
        entries.append(
            LedgerEntry(
                failure.location_id,
                sku,
                now,
                -excess,
                0,
                after.on_hand,
                after.reserved,
                m.reason.value,
                failure.fulfilment_id,
                failure.actor,
                {"why": failure.reason, "order_id": order.id},
            )
        )
    uow.inventory.record(entries)


def schedule(uow: UnitOfWork, order: Order, failure: Failure, ctx: Context, now: datetime) -> None:
    """Re-source the order's freed units as soon as a worker is free (once per order)."""
    if any(t.kind == REALLOCATE for t in uow.timers.pending(order.id)):
        return  # the pending run re-sources every unit that waits, these too
    uow.timers.add(Timer(ctx.ids.new_id(), REALLOCATE, now, order.id, None, failure.as_data()))


def reallocate(uow: UnitOfWork, order: Order, timer: Timer, ctx: Context, now: datetime) -> None:
    """Re-source what a failure freed, with the same engine and policy as the first
    decision and the failed locations excluded; bounded by the policy's attempts."""
    if order.on_hold or order.status in TERMINAL or not order.to_source():
        return
    reason = str(timer.data.get("reason", "other"))
    rules = rules_for(uow, order)
    if order.reallocations >= rules.max_attempts:
        hold_for_person(
            uow, order, CaseReason.ATTEMPTS_EXHAUSTED.value, ctx, now, attempts=order.reallocations
        )
        return
    order.reallocations += 1
    if order.delivery.method.collects_at_store:
        pickup_failures.handle(uow, order, rules, reason, ctx, now)
        return
    decision = source_order(uow, order, ctx, now, SYSTEM.name, reason)
    if decision is not None and decision.backordered:
        queue(uow, order, CaseReason.NO_LOCATION_CAN_SERVE.value, ctx, now, after=reason)
