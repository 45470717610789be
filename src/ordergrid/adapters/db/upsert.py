"""INSERT … ON CONFLICT for the two supported dialects."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from ordergrid.adapters.db.driver import write

#: The INSERT of either supported dialect; both know ON CONFLICT and `excluded`.
ConflictInsert = postgresql.Insert | sqlite.Insert


def insert_on(dialect_name: str, table: Table) -> ConflictInsert:
    """An INSERT of the dialect in use, which knows ON CONFLICT."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert rows, or update the `update` columns (all non-key columns by default)."""
    if not rows:
        return
    columns = update if update is not None else [c for c in rows[0] if c not in keys]
    stmt = _upsert(conn.dialect.name, table, tuple(keys), tuple(columns))
    write(conn, stmt, rows)


@lru_cache(maxsize=256)
def _upsert(
    dialect_name: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]
) -> ConflictInsert:
    """Built once per shape: building the statement costs more than running it."""
    stmt = insert_on(dialect_name, table)
    if columns:
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


@lru_cache(maxsize=64)
def _insert_ignore(dialect_name: str, table: Table, keys: tuple[str, ...]) -> Insert:
    stmt = insert_on(dialect_name, table).on_conflict_do_nothing(index_elements=list(keys))
    # RETURNING tells whether a row went in; rowcount is not reliable for this statement
    # with every driver (psycopg reports -1).
    return stmt.returning(table.c[keys[0]])


def insert_ignore(conn: Connection, table: Table, row: dict[str, Any], keys: Sequence[str]) -> bool:
    """Insert unless the key exists; True when a row was inserted."""
    stmt = _insert_ignore(conn.dialect.name, table, tuple(keys))
    return conn.execute(stmt, row).first() is not None
