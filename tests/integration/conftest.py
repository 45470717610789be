"""Integration fixtures: a fully wired application on a real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from tests.integration.streams import StreamUnderTest, stream_under_test

from ordergrid.adapters.db import tables
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.domain.inventory import Position
from ordergrid.settings import Settings


def wire(url: str) -> Application:
    return bootstrap(Settings(database_url=url, auto_migrate=True, admin_token="admin-secret"))


_POSITION_COLUMNS = ("location_id", "sku", "on_hand", "reserved", "safety_stock", "snapshot_as_of")


def table_positions(app: Application, skus: list[str]) -> list[Position]:
    """The positions table itself, past every cache: what the tests hold the system to."""
    p = tables.positions
    query = (
        select(*(p.c[name] for name in _POSITION_COLUMNS))
        .where(p.c.sku.in_(skus))
        .order_by(p.c.location_id, p.c.sku)
    )
    with app.engine.connect() as conn:
        return [Position(*row) for row in conn.execute(query)]


def sqlite_plans(app: Application, action: Callable[[], object], marker: str) -> list[str]:
    """SQLite's query plan of every statement `action` runs whose SQL holds `marker`."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if marker in statement:
            seen.append((statement, params))

    event.listen(app.engine, "before_cursor_execute", capture)
    try:
        action()
    finally:
        event.remove(app.engine, "before_cursor_execute", capture)
    with app.engine.connect() as conn:
        return [
            " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ps))
            for sql, ps in seen
        ]


@pytest.fixture
def application(database_url: str) -> Iterator[Application]:
    app = wire(database_url)
    yield app
    app.close()


@pytest.fixture
def nats_stream() -> Iterator[StreamUnderTest]:
    yield from stream_under_test()
