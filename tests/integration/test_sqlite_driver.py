"""Statements run on SQLite's own connection: in the unit of work's transaction, storing
what SQLAlchemy would store, and failing as SQLAlchemy's statements fail."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    insert,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.dml import UpdateBase

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.driver import sqlite_rows, write
from ordergrid.adapters.db.engine import make_engine
from ordergrid.adapters.db.uow import _translate
from ordergrid.adapters.db.upsert import insert_on
from ordergrid.bootstrap import bootstrap
from ordergrid.service.ports import ConcurrentUpdate
from ordergrid.settings import Settings


def test_a_driver_statement_sees_what_its_transaction_wrote_and_not_after_rollback(
    sqlite_url: str,
) -> None:
    bootstrap(Settings(database_url=sqlite_url, auto_migrate=True)).close()
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        conn.begin()
        conn.execute(insert(t.meta).values(key="probe", value=7))
        assert sqlite_rows(conn, "SELECT value FROM meta WHERE key = ?", ("probe",)) == [(7,)]
        conn.rollback()
        assert sqlite_rows(conn, "SELECT value FROM meta WHERE key = ?", ("probe",)) == []
    engine.dispose()


def test_a_driver_error_is_sqlalchemys_so_a_locked_database_is_a_retryable_conflict(
    sqlite_url: str,
) -> None:
    bootstrap(Settings(database_url=sqlite_url, auto_migrate=True)).close()
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            sqlite_rows(conn, "PRAGMA busy_timeout=20")
            with pytest.raises(OperationalError) as locked:
                sqlite_rows(conn, "BEGIN IMMEDIATE")
        assert isinstance(locked.value.orig, sqlite3.OperationalError)
        assert isinstance(_translate(locked.value), ConcurrentUpdate)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()


_PROBE = Table(
    "driver_probe",
    MetaData(),
    Column("id", String, primary_key=True),
    Column("at", t.UtcDateTime),
    Column("doc", t.Json),
    Column("count", Integer),
    Column("share", Float),
    Column("fixed", Integer),
)
_PROBE_ROWS = [
    {
        "id": "a",
        "at": datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
        "doc": {"lines": [1, None, "x"], "é": 1.5},
        "count": 3,
        "share": 0.25,
    },
    {"id": "b", "at": None, "doc": None, "count": None, "share": None},
    {
        "id": "c",
        "at": datetime(2026, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5))),
        "doc": [],
        "count": -1,
        "share": 1e-9,
    },
]


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    """The probe table's rows as SQLite holds them, past every type conversion."""
    with engine.connect() as conn:
        return sqlite_rows(conn, "SELECT * FROM driver_probe ORDER BY id")


@pytest.mark.parametrize("one_by_one", [False, True], ids=["many", "one"])
def test_a_driver_write_stores_exactly_what_sqlalchemy_stores(
    tmp_path: Path, one_by_one: bool
) -> None:
    insert_fixed = _PROBE.insert().values(fixed=7)
    new = insert_on("sqlite", _PROBE)
    upsert = new.on_conflict_do_update(
        index_elements=["id"], set_={"doc": new.excluded.doc, "count": new.excluded.count}
    )
    changed = [{**_PROBE_ROWS[0], "doc": {"again": True}, "count": 4}]
    stored = []
    for run, name in ((_through_sqlalchemy, "sqlalchemy"), (write, "driver")):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        _PROBE.metadata.create_all(engine)
        with engine.begin() as conn:
            if one_by_one:
                for row in _PROBE_ROWS:
                    run(conn, insert_fixed, row)
            else:
                run(conn, insert_fixed, _PROBE_ROWS)
            run(conn, upsert, changed)
        stored.append(_stored(engine))
        engine.dispose()
    through_sqlalchemy, through_driver = stored
    assert through_driver == through_sqlalchemy
    assert [row[-1] for row in through_driver] == [7, 7, 7]  # the statement's own value
    assert json.loads(through_driver[0][2]) == {"again": True}  # the upsert's update


def _through_sqlalchemy(conn: Connection, stmt: UpdateBase, rows: object) -> None:
    conn.execute(stmt, rows)


def test_a_driver_write_fails_as_sqlalchemys_statements_fail(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    _PROBE.metadata.create_all(engine)
    with engine.connect() as conn:
        conn.begin()
        write(conn, _PROBE.insert(), _PROBE_ROWS[1])
        with pytest.raises(IntegrityError):
            write(conn, _PROBE.insert(), _PROBE_ROWS[1])
    engine.dispose()
