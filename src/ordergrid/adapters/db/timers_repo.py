"""Durable timers: deadlines and re-sourcing work, claimed by one worker at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.driver import write
from ordergrid.service.ports import Timer

T = t.timers
#: Built once: every released fulfilment starts a deadline.
_INSERT = T.insert()


def _timer(r: Any) -> Timer:
    return Timer(r.id, r.kind, r.due_at, r.order_id, r.fulfilment_id, r.data, r.attempts)


class SqlTimers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def add(self, timer: Timer) -> None:
        write(
            self.conn,
            _INSERT,
            {
                "id": timer.id,
                "kind": timer.kind,
                "due_at": timer.due_at,
                "order_id": timer.order_id,
                "fulfilment_id": timer.fulfilment_id,
                "data": timer.data,
                "attempts": timer.attempts,
            },
        )

    def claim_due(self, now: datetime) -> Timer | None:
        q = select(T).where(T.c.due_at <= now).order_by(T.c.due_at, T.c.id).limit(1)
        if self.postgres:
            # The row stays locked until this transaction ends; other workers skip it and
            # take the next due timer instead of waiting.
            q = q.with_for_update(skip_locked=True)
        # SQLite: this runs inside the single write transaction (BEGIN IMMEDIATE), so no
        # other worker can read the row until it is deleted or the transaction rolls back.
        r = self.conn.execute(q).first()
        return None if r is None else _timer(r)

    def claim_kind(self, kind: str, limit: int) -> list[Timer]:
        q = select(T).where(T.c.kind == kind).order_by(T.c.due_at, T.c.id).limit(limit)
        if self.postgres:
            q = q.with_for_update(skip_locked=True)
        return [_timer(r) for r in self.conn.execute(q)]

    def done(self, timer_id: str) -> None:
        self.conn.execute(delete(T).where(T.c.id == timer_id))

    def postpone(self, timer_id: str, due_at: datetime, error: str) -> None:
        self.conn.execute(
            update(T)
            .where(T.c.id == timer_id)
            .values(due_at=due_at, attempts=T.c.attempts + 1, last_error=error[:512])
        )

    def cancel(self, fulfilment_id: str) -> None:
        self.conn.execute(delete(T).where(T.c.fulfilment_id == fulfilment_id))

    def pending(self, order_id: str) -> list[Timer]:
        rows = self.conn.execute(
            select(T).where(T.c.order_id == order_id).order_by(T.c.due_at, T.c.id)
        )
        return [_timer(r) for r in rows]

    def next_due(self) -> datetime | None:
        value = self.conn.execute(select(func.min(T.c.due_at))).scalar()
        if value is None:
            return None
        return t.UtcDateTime().process_result_value(value, self.conn.dialect)
