"""Every wait for PostgreSQL is bounded: the server's statement timeout, the client's
wait for an answer that never comes (through a proxy turned into a black hole), and
connecting; each is a retryable 503 code, and the pool recovers by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tests.e2e.tcp_proxy import TcpProxy, through

from ordergrid.adapters.db.postgres_limits import (
    AnsweringConnection,
    ConnectionLimits,
    connect_args,
    lift_statement_bound,
)
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.domain.errors import Unavailable
from ordergrid.settings import Settings

#: Statement 1 s (the client waits 3 s for any answer), connecting 2 s, pool 1 s.
LOW = {
    "db_connect_timeout_seconds": 2,
    "db_pool_timeout_seconds": 1.0,
    "db_statement_timeout_seconds": 1.0,
    "db_tcp_timeout_seconds": 3.0,
}


def test_connect_args_carry_every_bound_and_keep_the_urls_options() -> None:
    args = connect_args(ConnectionLimits(2, 1.0, 1.5, 9.0), "-c search_path=og")
    assert args["connect_timeout"] == 2
    assert args["options"] == "-c search_path=og -c statement_timeout=1500"
    assert (args["keepalives"], args["keepalives_idle"], args["tcp_user_timeout"]) == (1, 3, 9000)
    assert connect_args(ConnectionLimits(0, 5.0, 0.0, 0.0), None) == {}
    assert ConnectionLimits(statement_timeout_seconds=0).answer_seconds is None


@pytest.fixture
def proxied(postgres_url: str) -> Iterator[tuple[TcpProxy, Application]]:
    proxy = TcpProxy(make_url(postgres_url).port or 5432)
    with proxy:
        app = bootstrap(
            Settings(database_url=through(proxy, postgres_url), auto_migrate=True, **LOW)
        )
        yield proxy, app
        app.close()


def answers(app: Application) -> bool:
    with app.ctx.uow(readonly=True) as uow:
        return uow.outbox.backlog((0, 0), 1) >= 0


@pytest.mark.postgres
def test_a_statement_past_the_timeout_is_a_database_timeout(
    proxied: tuple[TcpProxy, Application],
) -> None:
    _, app = proxied
    with pytest.raises(Unavailable) as timed_out, app.ctx.uow() as uow:
        uow.conn.execute(text("SELECT pg_sleep(2)"))  # type: ignore[attr-defined]
    assert timed_out.value.code == "database_timeout"
    assert answers(app)


@pytest.mark.postgres
def test_a_database_that_stops_answering_is_a_fast_503_and_the_pool_recovers(
    proxied: tuple[TcpProxy, Application],
) -> None:
    proxy, app = proxied
    assert answers(app)  # a pooled connection, established
    proxy.black_hole()

    started = time.monotonic()
    with pytest.raises(Unavailable) as silent:
        answers(app)
    waited = time.monotonic() - started
    assert silent.value.code == "database_timeout"
    assert 2.5 < waited < 5  # the statement timeout plus the client's 2 s margin

    started = time.monotonic()
    with pytest.raises(Unavailable) as unreachable:
        answers(app)  # that connection was discarded; a new one never completes
    assert unreachable.value.code == "database_unavailable"
    assert time.monotonic() - started < 4  # the connect timeout

    proxy.restore()
    assert answers(app)


@pytest.mark.postgres
def test_work_that_lifts_the_bound_runs_longer_and_the_bound_comes_back(
    proxied: tuple[TcpProxy, Application],
) -> None:
    _, app = proxied
    with app.engine.begin() as conn:
        lift_statement_bound(conn)
        conn.execute(text("SELECT pg_sleep(3.5)"))  # past both the server's and the client's
        driver = conn.connection.driver_connection
    assert isinstance(driver, AnsweringConnection)
    assert driver.answer_seconds == 3.0  # back once the connection returned to the pool
    with pytest.raises(Unavailable) as timed_out, app.ctx.uow() as uow:
        uow.conn.execute(text("SELECT pg_sleep(2)"))  # type: ignore[attr-defined]
    assert timed_out.value.code == "database_timeout"
