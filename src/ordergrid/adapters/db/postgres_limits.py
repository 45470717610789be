"""Bounds on every wait for PostgreSQL, so that a database behind a network black hole
(packets silently dropped) is answered 503 within seconds instead of hanging requests.

- connecting: libpq's `connect_timeout`;
- waiting for a pooled connection: the pool's checkout timeout (in `engine.py`);
- a statement: the server's `statement_timeout`, sent with each new connection, and on
  the client a wait for any answer of at most that plus a margin, after which the
  connection is closed — the server cannot cancel a statement it never received;
- a path that went silent while idle or sending: TCP keepalives and `tcp_user_timeout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg.abc import PQGen
from psycopg.rows import TupleRow
from sqlalchemy import Connection, text

RV = TypeVar("RV")

#: How much longer than the statement timeout the client waits: time for the server's
#: own cancellation to arrive, so that a slow statement is reported as the server's
#: timeout and only silence closes the connection.
ANSWER_MARGIN_SECONDS = 2.0
#: What psycopg's wait raises once its timeout passes (psycopg >= 3.3, which added the
#: timeout; the class is internal, hence the one reference here).
_WAIT_TIMEOUT = errors._WaitTimeout


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How long each kind of wait for PostgreSQL may last; 0 turns off a bound on
    connecting, on statements or on the network path."""

    connect_timeout_seconds: int = 5
    pool_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 30.0
    tcp_timeout_seconds: float = 15.0

    @property
    def answer_seconds(self) -> float | None:
        """The client's wait for any answer; None without a statement timeout."""
        if not self.statement_timeout_seconds:
            return None
        return self.statement_timeout_seconds + ANSWER_MARGIN_SECONDS


class NoAnswer(psycopg.OperationalError):
    """The server did not answer in time; the connection was closed (it is discarded)."""


class AnsweringConnection(psycopg.Connection[TupleRow]):
    """A psycopg connection whose every wait for the server (a statement, its results, a
    commit or rollback) ends after `answer_seconds`."""

    answer_seconds: float | None = None

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        bound = self.answer_seconds
        if timeout is not None or bound is None:  # a caller's own timeout is its business
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, bound)
        except _WAIT_TIMEOUT as exc:
            # The protocol state is unknown (the answer may still come): never reuse it.
            self.pgconn.finish()
            raise NoAnswer(
                f"the database server did not answer within {bound:g} s; connection closed"
            ) from exc


def connect_args(limits: ConnectionLimits, options: str | None) -> dict[str, Any]:
    """libpq parameters for the limits; `options` are those the URL gave already."""
    args: dict[str, Any] = {}
    if limits.connect_timeout_seconds:
        args["connect_timeout"] = limits.connect_timeout_seconds
    if limits.statement_timeout_seconds:
        timeout = f"-c statement_timeout={round(limits.statement_timeout_seconds * 1000)}"
        args["options"] = f"{options} {timeout}" if options else timeout
    tcp = limits.tcp_timeout_seconds
    if tcp:
        # Probes start after a third of the bound; unanswered probes or unacknowledged
        # data for the whole bound close the connection.
        args |= {
            "keepalives": 1,
            "keepalives_idle": max(1, round(tcp / 3)),
            "keepalives_interval": max(1, round(tcp / 9)),
            "keepalives_count": 3,
            "tcp_user_timeout": round(tcp * 1000),
        }
    return args


def lift_statement_bound(conn: Connection) -> None:
    """No statement bound for the rest of this transaction, for work that is long by
    design (migrations, bulk imports). TCP keepalives still notice a dead path; the
    client's bound comes back when the connection returns to the pool."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text("SET LOCAL statement_timeout = 0"))
    driver = conn.connection.driver_connection
    if isinstance(driver, AnsweringConnection):
        driver.answer_seconds = None
