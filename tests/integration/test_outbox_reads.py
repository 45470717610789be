"""Outbox consumers read the events after their position through the index, however long
the outbox grows (SQLite cannot bound a row-value comparison by an index)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from tests.integration.conftest import sqlite_plans

from ordergrid.bootstrap import Application
from ordergrid.domain.events import Event
from ordergrid.service.ports import StoredEvent

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def append(app: Application, count: int) -> None:
    with app.ctx.uow() as uow:
        uow.outbox.append([Event("test.happened", {"n": n}) for n in range(count)], AT)
        uow.commit()


def visible(app: Application) -> list[StoredEvent]:
    with app.ctx.uow(readonly=True) as uow:
        return uow.outbox.after((0, 0), 100)


def test_events_after_a_position_are_those_written_later_in_order(
    application: Application,
) -> None:
    append(application, 30)
    # PostgreSQL shows a transaction's events once every older transaction on the server
    # has ended (other sessions may be running): wait for them, within reason.
    deadline = time.monotonic() + 30
    while len(visible(application)) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    with application.ctx.uow(readonly=True) as uow:
        everything = uow.outbox.after((0, 0), 100)
        assert len(everything) == 30
        middle = everything[9].cursor
        later = uow.outbox.after(middle, 100)
        assert [e.data["n"] for e in later] == list(range(10, 30))
        assert [e.data["n"] for e in uow.outbox.after(middle, 5)] == list(range(10, 15))
        assert uow.outbox.after(everything[-1].cursor, 100) == []
        assert uow.outbox.backlog(middle, 1000) == 20


def test_sqlite_finds_the_events_after_a_position_through_the_index(
    application: Application,
) -> None:
    if application.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner only: PostgreSQL bounds row comparisons itself")
    append(application, 5)

    def read() -> None:
        with application.ctx.uow(readonly=True) as uow:
            uow.outbox.after((0, 2), 100)

    [plan] = sqlite_plans(application, read, "FROM events")
    assert "ix_events_txid_position (txid=? AND position>?)" in plan, plan
