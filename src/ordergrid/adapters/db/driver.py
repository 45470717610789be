"""Statements run on SQLite's own connection, for the few that every transaction, every
first read of a SKU or every order makes.

SQLAlchemy's path for one statement (compiled-cache lookup, events, rendering an
expanding IN, the result object) costs two to five times what SQLite takes to answer
these short reads, and about as much again as SQLite takes for an order's small inserts
(107 against 45 µs for a two-row ledger insert). Run on the driver connection of a
SQLAlchemy `Connection`, a statement is in that connection's transaction; the driver's
errors are raised as SQLAlchemy's, so the unit of work translates them as it does every
other. Writes (`write`) are compiled by SQLAlchemy once per statement and set of
parameter names, and their values converted by the same type processors SQLAlchemy
uses, so the rows stored are the same."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase


def sqlite_rows(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """The rows of `sql` (qmark parameters) on the connection's SQLite connection."""
    try:
        return conn.connection.driver_connection.execute(sql, params).fetchall()  # type: ignore[union-attr, no-any-return]
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A statement compiled once for one set of parameter names: its SQL, the
    parameters in their places, the values it fixes itself, and the conversion of each
    (timestamps, JSON) that SQLAlchemy would make."""

    sql: str
    names: tuple[str, ...]
    fixed: dict[str, Any]
    converts: tuple[Callable[[Any], Any] | None, ...]

    def params(self, row: Row) -> tuple[Any, ...]:
        values = []
        for name, convert in zip(self.names, self.converts, strict=True):
            value = row[name] if name in row else self.fixed[name]
            values.append(value if convert is None else convert(value))
        return tuple(values)


@lru_cache(maxsize=256)
def _prepared(stmt: UpdateBase, keys: tuple[str, ...], dialect: Dialect) -> _Prepared | None:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    names = compiled.positiontup
    if names is None or compiled.literal_execute_params or compiled.post_compile_params:
        return None  # rendered per call: SQLAlchemy's own path
    binds = compiled.binds
    return _Prepared(
        compiled.string,
        tuple(names),
        {name: bind.effective_value for name, bind in binds.items() if name not in keys},
        tuple(binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names),
    )


def write(conn: Connection, stmt: UpdateBase, rows: Row | Sequence[Row]) -> None:
    """Run a statement whose result is not read (an INSERT, an upsert, an UPDATE) for one
    row of parameters or many. On SQLite straight on the driver connection, each value
    converted as SQLAlchemy converts it; elsewhere through SQLAlchemy."""
    many = [rows] if isinstance(rows, Mapping) else rows
    if not many:
        return
    prepared = None
    if conn.dialect.name == "sqlite":
        prepared = _prepared(stmt, tuple(many[0]), conn.dialect)
    if prepared is None:
        conn.execute(stmt, rows)
        return
    params = [prepared.params(row) for row in many]
    driver = conn.connection.driver_connection
    try:
        if len(params) == 1:
            driver.execute(prepared.sql, params[0])  # type: ignore[union-attr]
        else:
            driver.executemany(prepared.sql, params)  # type: ignore[union-attr]
    except sqlite3.Error as exc:
        raise DBAPIError.instance(prepared.sql, params, exc, sqlite3.Error) from exc
