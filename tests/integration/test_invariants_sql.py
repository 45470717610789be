"""The inventory state machine of the service tests, run on SQLite and PostgreSQL.

Random interleavings of place / cancel / hold / accept / reject / pick (short) / ship /
collect / adjust / snapshot / relay keep every invariant on the real storage too: on-hand
and available never negative, reserved equal to the open allocations, every unit
accounted for exactly once, and a ledger that explains every position.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant
from sqlalchemy import func, select
from tests.conftest import POSTGRES_ENV, create_database, drop_database
from tests.service.factories import GEOCODER, World
from tests.service.test_inventory_invariants import OrderGrid

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.settings import Settings


class SqlOrderGrid(OrderGrid):
    """Same rules and invariants; the world lives in a fresh database per example."""

    #: Set by subclasses: creates an empty database, returns (url, cleanup).
    url_factory: staticmethod[[], tuple[str, Callable[[], None]]]

    def make_world(self) -> World:
        self.url, self.cleanup = self.url_factory()
        clock = FixedClock(datetime.fromisoformat("2026-03-02T09:00:00+00:00"))
        self.app: Application = bootstrap(
            Settings(database_url=self.url, auto_migrate=True), clock=clock, geocoder=GEOCODER
        )
        return World(uow=self.app.ctx.uow, clock=clock)

    def marker(self) -> object:
        with self.app.engine.connect() as conn:
            return (
                conn.execute(select(func.count()).select_from(t.events)).scalar(),
                conn.execute(select(func.count()).select_from(t.ledger)).scalar(),
                conn.execute(select(func.coalesce(func.sum(t.orders.c.version), 0))).scalar(),
            )

    @invariant()
    def ledger_explains_every_position(self) -> None:
        last: dict[tuple[str, str], tuple[int, int]] = {}
        with self.app.engine.connect() as conn:
            for e in conn.execute(select(t.ledger).order_by(t.ledger.c.id)):
                before = last.get((e.location_id, e.sku), (0, 0))
                assert (before[0] + e.on_hand_delta, before[1] + e.reserved_delta) == (
                    e.on_hand_after,
                    e.reserved_after,
                ), f"ledger entry does not add up: {e}"
                last[(e.location_id, e.sku)] = (e.on_hand_after, e.reserved_after)
            for p in conn.execute(select(t.positions)):
                assert last.get((p.location_id, p.sku), (0, 0)) == (p.on_hand, p.reserved)

    def teardown(self) -> None:
        self.app.close()
        self.cleanup()


def _sqlite() -> tuple[str, Callable[[], None]]:
    folder = Path(tempfile.mkdtemp(prefix="ordergrid-prop-"))

    def cleanup() -> None:
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()

    return f"sqlite:///{folder}/og.db", cleanup


def _postgres() -> tuple[str, Callable[[], None]]:
    server = os.environ[POSTGRES_ENV]
    url = create_database(server)
    return url, lambda: drop_database(server, url)


class SqliteOrderGrid(SqlOrderGrid):
    url_factory = staticmethod(_sqlite)


class PostgresOrderGrid(SqlOrderGrid):
    url_factory = staticmethod(_postgres)


_SETTINGS = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SqliteOrderGrid.TestCase.settings = _SETTINGS
PostgresOrderGrid.TestCase.settings = _SETTINGS

TestInvariantsOnSqlite = SqliteOrderGrid.TestCase
TestInvariantsOnPostgres = pytest.mark.postgres(
    pytest.mark.skipif(
        POSTGRES_ENV not in os.environ,
        reason=f"PostgreSQL tests need {POSTGRES_ENV}; .ci/run sets it",
    )(PostgresOrderGrid.TestCase)
)
