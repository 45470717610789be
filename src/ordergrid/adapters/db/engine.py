"""Creating engines: SQLite in WAL mode with write transactions that start immediately,
or PostgreSQL through psycopg 3."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from ordergrid.adapters.db import json_codec


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
        readonly = conn.get_execution_options().get("ordergrid_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def make_engine(url: str, pool_size: int = 20) -> Engine:
    """An engine for `url`; SQLite files get WAL, a busy timeout and immediate BEGIN."""
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
    # A pool as large as the request concurrency: overflow connections are opened and
    # closed per request, and each costs PostgreSQL a new backend. No ping per checkout
    # (an extra round trip each time): a dead connection fails one unit of work, which
    # answers 503 and is discarded from the pool.
    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": max(2, pool_size // 4),
        "pool_recycle": 1800,
        "pool_timeout": 5,
        "json_serializer": json_codec.dumps,
        "json_deserializer": json_codec.loads,
    }
    return create_engine(url, **kwargs)
