"""The promised dates of an order survive storage with their offset, on memory, SQLite and
PostgreSQL, and are queryable as UTC columns on the databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from tests.integration.test_storage_contract import T0, an_order

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.memory import InMemoryStore, unit_of_work_factory
from ordergrid.bootstrap import Application
from ordergrid.domain.orders import DeliveryPromise
from ordergrid.service.context import UnitOfWorkFactory

NEW_YORK = timezone(timedelta(hours=-5))
PROMISE = DeliveryPromise(
    latest=datetime(2026, 1, 8, 20, 0, tzinfo=NEW_YORK),
    earliest=datetime(2026, 1, 7, 20, 0, tzinfo=NEW_YORK),
)


def round_trip(uow: UnitOfWorkFactory) -> tuple[DeliveryPromise | None, DeliveryPromise | None]:
    promised, plain = an_order("O1", "W-1"), an_order("O2", "W-2")
    promised.promise = PROMISE
    with uow() as w:
        w.orders.add(promised)
        w.orders.add(plain)
        w.commit()
    with uow() as w:
        a, b = w.orders.get("O1"), w.orders.get("O2")
    assert a is not None
    assert b is not None
    return a.promise, b.promise


def test_promised_dates_round_trip_with_their_offset(application: Application) -> None:
    promised, plain = round_trip(application.ctx.uow)
    assert promised == PROMISE
    assert promised is not None
    assert promised.latest.utcoffset() == timedelta(hours=-5)
    assert plain is None


def test_promised_dates_are_stored_as_utc_columns(application: Application) -> None:
    round_trip(application.ctx.uow)
    with application.engine.connect() as conn:
        rows = {
            r.id: r.promised_latest
            for r in conn.execute(select(t.orders.c.id, t.orders.c.promised_latest))
        }
    assert rows["O1"] == datetime(2026, 1, 9, 1, 0, tzinfo=UTC)
    assert rows["O2"] is None
    assert rows["O1"] > T0


def test_promised_dates_round_trip_in_memory() -> None:
    promised, plain = round_trip(unit_of_work_factory(InMemoryStore()))
    assert promised == PROMISE
    assert plain is None
