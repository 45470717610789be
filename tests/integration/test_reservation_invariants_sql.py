"""The cart interleavings of the service tests, run on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant
from sqlalchemy import select
from tests.conftest import POSTGRES_ENV
from tests.integration.test_invariants_sql import SqlOrderGrid, _postgres, _sqlite
from tests.service.test_reservation_invariants import CartRules

from ordergrid.adapters.db import tables as t


class SqlCartGrid(SqlOrderGrid, CartRules):
    @invariant()
    def held_positions_index_matches_the_carts(self) -> None:
        """The index that decides which carts give way to a short count is exact."""
        with self.app.engine.connect() as conn:
            rows = conn.execute(select(t.cart_holds)).all()
        indexed = {(r.reservation_id, r.location_id, r.sku): r.quantity for r in rows}
        with self.app.ctx.uow(readonly=True) as uow:
            expected = {
                (cart_id, loc, sku): qty
                for cart_id in self.cart_ids
                if (cart := uow.reservations.get(cart_id)) is not None
                for (loc, sku), qty in cart.holds().items()
            }
        assert indexed == expected


class SqliteCartGrid(SqlCartGrid):
    url_factory = staticmethod(_sqlite)


class PostgresCartGrid(SqlCartGrid):
    url_factory = staticmethod(_postgres)


_SETTINGS = settings(
    max_examples=12,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SqliteCartGrid.TestCase.settings = _SETTINGS
PostgresCartGrid.TestCase.settings = _SETTINGS

TestCartInterleavingsOnSqlite = SqliteCartGrid.TestCase
TestCartInterleavingsOnPostgres = pytest.mark.postgres(
    pytest.mark.skipif(
        POSTGRES_ENV not in os.environ,
        reason=f"PostgreSQL tests need {POSTGRES_ENV}; .ci/run sets it",
    )(PostgresCartGrid.TestCase)
)
