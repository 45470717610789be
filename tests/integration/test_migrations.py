"""Migrations create the schema from nothing; an unmigrated PostgreSQL is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from ordergrid.adapters.db import migrate
from ordergrid.adapters.db.engine import make_engine
from ordergrid.bootstrap import NotMigrated, bootstrap
from ordergrid.settings import Settings

TABLES = {
    "locations",
    "location_load",
    "policies",
    "policy_versions",
    "products",
    "positions",
    "ledger",
    "applied_adjustments",
    "orders",
    "fulfilments",
    "backorders",
    "events",
    "events_pruned",
    "consumers",
    "decisions",
    "idempotency_keys",
    "api_tokens",
    "meta",
    "timers",
    "exception_cases",
    "webhooks",
    "webhook_deliveries",
    "stock_rules",
    "channels",
    "availability_bands",
    "cart_reservations",
    "cart_holds",
    "supply",
    "supply_lines",
    "supply_pegs",
    "supply_receipts",
    "alembic_version",
}


def test_migrations_run_up_from_empty_and_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert migrate.pending(engine)[0] is None
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # a second run changes nothing
        current, head = migrate.pending(engine)
        assert current == head
        assert set(inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_unmigrated_database_is_refused_with_the_command_to_run(database_url: str) -> None:
    with pytest.raises(NotMigrated, match="ordergrid migrate"):
        bootstrap(Settings(database_url=database_url, auto_migrate=False))


def test_embedded_sqlite_migrates_on_first_start(sqlite_url: str) -> None:
    app = bootstrap(Settings(database_url=sqlite_url))
    try:
        current, head = migrate.pending(app.engine)
        assert current == head
    finally:
        app.close()
