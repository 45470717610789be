"""Statements run on SQLite's own connection: in the unit of work's transaction, and
failing as SQLAlchemy's statements fail."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.driver import sqlite_rows
from ordergrid.adapters.db.engine import make_engine
from ordergrid.adapters.db.uow import _translate
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
