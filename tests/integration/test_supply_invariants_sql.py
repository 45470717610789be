"""The future-supply state machine of the service tests, run on SQLite and PostgreSQL:
the grid's invariants (reserved equal to the open allocations, every unit accounted for
once, a ledger that explains every position) and the bounds of pegs hold on real storage
through receipts, cancellations and replacements."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from tests.conftest import POSTGRES_ENV
from tests.integration.test_invariants_sql import SqlOrderGrid, _postgres, _sqlite
from tests.service.test_supply_invariants import SupplyGrid


class SqliteSupplyGrid(SqlOrderGrid, SupplyGrid):
    url_factory = staticmethod(_sqlite)


class PostgresSupplyGrid(SqlOrderGrid, SupplyGrid):
    url_factory = staticmethod(_postgres)


_SETTINGS = settings(
    max_examples=10,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SqliteSupplyGrid.TestCase.settings = _SETTINGS
PostgresSupplyGrid.TestCase.settings = _SETTINGS

TestSupplyInvariantsOnSqlite = SqliteSupplyGrid.TestCase
TestSupplyInvariantsOnPostgres = pytest.mark.postgres(
    pytest.mark.skipif(
        POSTGRES_ENV not in os.environ,
        reason=f"PostgreSQL tests need {POSTGRES_ENV}; .ci/run sets it",
    )(PostgresSupplyGrid.TestCase)
)
