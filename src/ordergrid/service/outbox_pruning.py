"""Pruning the outbox: events every consumer has read, written before a time, are
deleted oldest first, and the outbox remembers how far it was pruned (a webhook replay
from before that is refused rather than silently missing events)."""

from __future__ import annotations

from datetime import datetime

from ordergrid.service.context import Context

#: Events deleted per transaction: short transactions, so writers are never held up.
PRUNE_BATCH = 5_000


def prune_events(ctx: Context, before: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete the events written before `before` that every consumer (internal
    reactions, webhook queueing, the NATS relay — each once it has read) has passed,
    keeping the newest event whatever its age; returns how many were deleted."""
    total = 0
    while True:
        with ctx.uow() as uow:
            slowest = uow.outbox.slowest_consumer()
            if slowest is None:  # nothing has read the outbox: nothing may go
                return total
            through = min(slowest, uow.outbox.start_of(before))
            deleted = uow.outbox.prune(through, batch, ctx.clock.now())
            uow.commit()
        total += deleted
        if deleted < batch:
            return total
