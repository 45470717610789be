"""Statements run on SQLite's own connection, for the few that every transaction or
every first read of a SKU makes.

SQLAlchemy's path for one statement (compiled-cache lookup, events, rendering an
expanding IN, the result object) costs two to five times what SQLite takes to answer
these short reads. Run on the driver connection of a SQLAlchemy `Connection`, a
statement is in that connection's transaction; the driver's errors are raised as
SQLAlchemy's, so the unit of work translates them as it does every other."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def sqlite_rows(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """The rows of `sql` (qmark parameters) on the connection's SQLite connection."""
    try:
        return conn.connection.driver_connection.execute(sql, params).fetchall()  # type: ignore[union-attr, no-any-return]
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc
