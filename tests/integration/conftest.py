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
    """SQLite's query plan of every statement `action` runs whose SQL holds `marker`,
    whether through SQLAlchemy or straight on the driver connection (`driver`): each is
    traced by SQLite itself, with its parameters in place."""
    seen: list[str] = []
    traced: list[Any] = []

    def capture(sql: str) -> None:
        if marker in sql:
            seen.append(sql)

    def trace(dbapi_conn: Any, *_: Any) -> None:
        dbapi_conn.set_trace_callback(capture)
        traced.append(dbapi_conn)

    event.listen(app.engine, "checkout", trace)
    try:
        action()
    finally:
        event.remove(app.engine, "checkout", trace)
        for dbapi_conn in traced:
            dbapi_conn.set_trace_callback(None)
    with app.engine.connect() as conn:
        return [
            " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in seen
        ]


@pytest.fixture
def application(database_url: str) -> Iterator[Application]:
    app = wire(database_url)
    yield app
    app.close()


@pytest.fixture
def nats_stream() -> Iterator[StreamUnderTest]:
    yield from stream_under_test()
