"""The worker's timer loop: due work, each timer in its own transaction.

A timer is claimed, its work done and the timer deleted in one transaction, so a crash
at any point leaves it in place for the next worker (work happens at least once) and
its effects committed only with its deletion (exactly once). Several workers take
different timers: PostgreSQL skips rows another transaction holds; SQLite has a single
writer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from ordergrid.domain.errors import StockConflict, Unavailable
from ordergrid.domain.lifecycle_rules import DeadlineKind
from ordergrid.service import batching, deadlines, disruptions, reservations
from ordergrid.service.commands import RunDueTimers
from ordergrid.service.context import Context
from ordergrid.service.ports import ConcurrentUpdate, Timer, UnitOfWork
from ordergrid.service.reallocation import reallocate
from ordergrid.service.retry import retrying
from ordergrid.service.timer_kinds import (
    BATCH_SOURCING,
    LOCATION_UNAVAILABLE,
    REALLOCATE,
    RESERVATION_EXPIRY,
    STOCK_DISCREPANCY,
)
from ordergrid.service.tracking import save

log = logging.getLogger("ordergrid.timers")

Work = Callable[[UnitOfWork, Timer, Context, datetime], None]

#: Longest wait before a timer that failed unexpectedly is tried again.
MAX_BACKOFF = timedelta(hours=1)


def _reallocate(uow: UnitOfWork, timer: Timer, ctx: Context, now: datetime) -> None:
    order = uow.orders.get(timer.order_id or "")
    if order is None:
        return
    reallocate(uow, order, timer, ctx, now)
    save(uow, order, ctx, now)


WORK: dict[str, Work] = {
    REALLOCATE: _reallocate,
    DeadlineKind.ACCEPT.value: deadlines.deadline_passed,
    DeadlineKind.PICK.value: deadlines.deadline_passed,
    DeadlineKind.PICKUP_WINDOW.value: deadlines.deadline_passed,
    LOCATION_UNAVAILABLE: disruptions.location_unavailable,
    STOCK_DISCREPANCY: disruptions.stock_discrepancy,
    BATCH_SOURCING: batching.source_waiting,
    RESERVATION_EXPIRY: reservations.expire_reservation,
}


def run_due_timers(cmd: RunDueTimers, ctx: Context) -> int:
    """Run up to `cmd.limit` due timers; returns how many ran."""
    ran = 0
    while ran < cmd.limit and retrying(partial(run_next, ctx)) is not None:
        ran += 1
    return ran


def run_next(ctx: Context) -> Timer | None:
    """Claim and run the earliest due timer; None when nothing is due."""
    claimed: Timer | None = None
    now = ctx.clock.now()
    try:
        with ctx.uow() as uow:
            claimed = uow.timers.claim_due(now)
            if claimed is None:
                return None
            ctx.pending.discard()
            WORK[claimed.kind](uow, claimed, ctx, now)
            uow.timers.done(claimed.id)
            uow.commit()
    except (StockConflict, ConcurrentUpdate, Unavailable):
        raise  # a lost race is run again on fresh data; an outage stops the round
    except Exception as exc:
        # One timer that cannot run (a bug, unexpected data) must not block the others:
        # it waits, longer each time, and keeps its error for an operator.
        if claimed is None:
            raise
        log.exception("timer %s (%s) failed; trying again later", claimed.id, claimed.kind)
        _postpone(ctx, claimed, exc, now)
        return claimed
    ctx.pending.report(ctx.observer)
    return claimed


def _postpone(ctx: Context, timer: Timer, exc: Exception, now: datetime) -> None:
    wait = min(MAX_BACKOFF, timedelta(seconds=2 ** min(timer.attempts + 1, 12)))
    with ctx.uow() as uow:
        uow.timers.postpone(timer.id, now + wait, f"{type(exc).__name__}: {exc}")
        uow.commit()
