"""Integration fixtures: a fully wired application on a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
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


@pytest.fixture
def application(database_url: str) -> Iterator[Application]:
    app = wire(database_url)
    yield app
    app.close()


@pytest.fixture
def nats_stream() -> Iterator[StreamUnderTest]:
    yield from stream_under_test()
