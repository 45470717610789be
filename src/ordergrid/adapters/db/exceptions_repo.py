"""The exception queue: one row per case, its history kept as a document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from ordergrid.adapters.db import tables as t
from ordergrid.domain.exception_queue import CaseStatus, ExceptionCase
from ordergrid.service.ports import ConcurrentUpdate, ExceptionFilter, Page

X = t.exception_cases


def _doc(case: ExceptionCase) -> dict[str, Any]:
    return {"resolution": case.resolution, "locations": case.locations, "history": case.history}


def _case(r: Any) -> ExceptionCase:
    return ExceptionCase(
        id=r.id,
        order_id=r.order_id,
        channel=r.channel,
        reason=r.reason,
        opened_at=r.opened_at,
        updated_at=r.updated_at,
        status=CaseStatus(r.status),
        resolution=r.doc.get("resolution"),
        resolved_at=r.resolved_at,
        locations=list(r.doc.get("locations", [])),
        history=list(r.doc.get("history", [])),
    )


def _values(case: ExceptionCase) -> dict[str, str | datetime | dict[str, Any] | None]:
    return {
        "reason": case.reason,
        "status": case.status.value,
        "updated_at": case.updated_at,
        "resolved_at": case.resolved_at,
        "doc": _doc(case),
    }


class SqlExceptions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, case: ExceptionCase) -> None:
        self.conn.execute(
            X.insert().values(
                id=case.id,
                order_id=case.order_id,
                channel=case.channel,
                opened_at=case.opened_at,
                **_values(case),
            )
        )

    def get(self, case_id: str) -> ExceptionCase | None:
        r = self.conn.execute(select(X).where(X.c.id == case_id)).first()
        return None if r is None else _case(r)

    def save(self, case: ExceptionCase) -> None:
        done = self.conn.execute(update(X).where(X.c.id == case.id).values(**_values(case)))
        if done.rowcount != 1:
            raise ConcurrentUpdate(f"exception {case.id!r} is not stored")

    def page(self, flt: ExceptionFilter, limit: int, cursor: str | None) -> Page[ExceptionCase]:
        q = select(X).order_by(X.c.id).limit(limit + 1)
        for column, value in (
            (X.c.status, flt.status),
            (X.c.reason, flt.reason),
            (X.c.channel, flt.channel),
            (X.c.order_id, flt.order_id),
        ):
            if value:
                q = q.where(column == value)
        if cursor:
            q = q.where(X.c.id > cursor)
        rows = self.conn.execute(q).all()
        items = [_case(r) for r in rows[:limit]]
        return Page(items, items[-1].id if len(rows) > limit else None)
