"""The cart interleavings of the service tests, run on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from tests.conftest import POSTGRES_ENV
from tests.integration.test_invariants_sql import SqlOrderGrid, _postgres, _sqlite
from tests.service.test_reservation_invariants import CartRules


class SqliteCartGrid(SqlOrderGrid, CartRules):
    url_factory = staticmethod(_sqlite)


class PostgresCartGrid(SqlOrderGrid, CartRules):
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
