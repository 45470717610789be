"""Creating engines: SQLite in WAL mode with write transactions that start immediately,
or PostgreSQL through psycopg 3 with every wait bounded (`postgres_limits`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from ordergrid.adapters.db import json_codec
from ordergrid.adapters.db.driver import sqlite_rows
from ordergrid.adapters.db.postgres_limits import (
    AnsweringConnection,
    ConnectionLimits,
    connect_args,
)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (the driver's implicit transactions defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock at BEGIN: two readers upgrading to writers would otherwise
        # fail with "database is locked" instead of waiting their turn. Read-only units of
        # work keep WAL's concurrent readers.
        # On the driver connection: SQLAlchemy's statement path costs more than the
        # BEGIN itself, and every unit of work pays it.
        readonly = conn.get_execution_options().get("ordergrid_readonly", False)
        sqlite_rows(conn, "BEGIN" if readonly else "BEGIN IMMEDIATE")


def _postgres_setup(engine: Engine, answer_seconds: float | None) -> None:
    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        conn = AnsweringConnection.connect(*cargs, **cparams)
        conn.answer_seconds = answer_seconds
        return conn

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn: Any, _record: Any) -> None:
        # A transaction that lifted the bound (`lift_statement_bound`) has ended.
        if isinstance(dbapi_conn, AnsweringConnection):
            dbapi_conn.answer_seconds = answer_seconds


def _url_options(parsed: URL) -> str | None:
    options = parsed.query.get("options")
    return options if isinstance(options, str) else None


def make_engine(url: str, pool_size: int = 20, limits: ConnectionLimits | None = None) -> Engine:
    """An engine for `url`; SQLite files get WAL, a busy timeout and immediate BEGIN,
    PostgreSQL gets the `limits` (defaults when None) on connecting, waiting for a
    pooled connection, statements and silent network paths."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Enough connections for the API's request threads: readers run side by side in
        # WAL mode; writers queue on the unit of work's gate.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=10,
            json_serializer=json_codec.dumps,
            json_deserializer=json_codec.loads,
        )
        _sqlite_setup(engine)
        return engine
    limits = limits or ConnectionLimits()
    # A pool as large as the request concurrency: overflow connections are opened and
    # closed per request, and each costs PostgreSQL a new backend. No ping per checkout
    # (an extra round trip each time): a dead connection fails one unit of work, which
    # answers 503 and is discarded from the pool.
    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": max(2, pool_size // 4),
        "pool_recycle": 1800,
        "pool_timeout": limits.pool_timeout_seconds,
        "connect_args": connect_args(limits, _url_options(parsed)),
        "json_serializer": json_codec.dumps,
        "json_deserializer": json_codec.loads,
    }
    engine = create_engine(url, **kwargs)
    _postgres_setup(engine, limits.answer_seconds)
    return engine
