"""Faults under load, with real processes: the database and NATS going away and coming
back (through a TCP proxy this test cuts or turns into a black hole; the shared servers
keep running), the standalone worker killed with SIGKILL while timers are due, and a
webhook receiver that must see every event while an API process is killed."""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from tests.e2e.cluster import (
    DCS,
    H,
    Stoppable,
    an_order,
    api_processes,
    ok,
    place_orders,
    seed,
    wait_for,
)
from tests.e2e.receiver import Receiver
from tests.e2e.tcp_proxy import TcpProxy, through
from tests.e2e.test_cli import CLI, run
from tests.integration.streams import NATS_ENV, StreamUnderTest, stream_under_test
from tests.service.invariants import check_invariants

from ordergrid.adapters.db import tables as t
from ordergrid.bootstrap import bootstrap
from ordergrid.settings import Settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

#: Longest a request may take while the database is away: the pool's wait for a
#: connection (5 s) plus a failed connect, with room for a loaded machine.
FAIL_FAST_S = 10.0


@pytest.fixture
def migrated(postgres_url: str, tmp_path: Path) -> str:
    result = run(["migrate", "--database-url", postgres_url], tmp_path)
    assert result.returncode == 0, result.stderr
    return postgres_url


@dataclass
class Answer:
    phase: str
    status: int | str  # HTTP status, or the transport error's name
    seconds: float
    retry_after: str | None
    code: str | None = None  # the error code of a 503


@dataclass
class Clients:
    """Clients placing orders back to back, each answer labelled with the phase it got."""

    base: str
    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def start(self, count: int) -> None:
        self._threads = [threading.Thread(target=self._client) for _ in range(count)]
        for thread in self._threads:
            thread.start()

    def _client(self) -> None:
        with httpx.Client(base_url=self.base, headers=H, timeout=60) as http:
            while not self._stop.is_set():
                n = next(self._ids)
                phase, started = self.phase, time.monotonic()
                code = None
                try:
                    r = http.post("/v1/orders", json=an_order(f"F-{n}", n))
                    status: int | str = r.status_code
                    retry = r.headers.get("Retry-After")
                    if status == 503:
                        code = r.json()["error"]["code"]
                except httpx.TransportError as exc:
                    status, retry = type(exc).__name__, None
                seconds = time.monotonic() - started
                self.answers.append(Answer(phase, status, seconds, retry, code))
                if status != 201:
                    time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(120)

    def statuses(self, phase: str) -> Counter[int | str]:
        return Counter(a.status for a in self.answers if a.phase == phase)

    def codes(self) -> Counter[str | None]:
        return Counter(a.code for a in self.answers if a.status == 503)


def through_an_outage(
    base: str, fail: Callable[[], None], restore: Callable[[], None], away_seconds: float
) -> tuple[Clients, httpx.Response]:
    """Clients place orders before, during and after an outage of the database path; the
    readiness answer got while it was away."""
    clients = Clients(base)
    clients.start(8)
    try:
        wait_for(lambda: clients.statuses("before")[201] >= 10, seconds=30)
        clients.phase = "away"
        fail()
        time.sleep(away_seconds)
        ready_while_away = httpx.get(f"{base}/readyz", timeout=FAIL_FAST_S)
        restore()
        clients.phase = "back"
        wait_for(lambda: clients.statuses("back")[201] >= 20, seconds=30)
        clients.phase = "recovered"
        wait_for(lambda: sum(clients.statuses("recovered").values()) >= 20, seconds=30)
    finally:
        clients.stop()
    return clients, ready_while_away


def check_fast_503s_and_recovery(clients: Clients, ready_while_away: httpx.Response) -> None:
    away = clients.statuses("away")
    assert away[503] >= 1, away
    assert set(away) <= {201, 503}, away  # 201: answered before the outage reached it
    assert set(clients.statuses("back")) <= {201, 503}
    assert set(clients.statuses("recovered")) == {201}
    assert all(a.retry_after for a in clients.answers if a.status == 503)
    slowest = max(a.seconds for a in clients.answers)
    assert slowest < FAIL_FAST_S, slowest
    assert ready_while_away.status_code == 503
    assert ready_while_away.headers["Retry-After"]
    by_phase = {p: dict(clients.statuses(p)) for p in ("before", "away", "back")}
    print(f"\nanswers by phase: {by_phase}; 503 codes {dict(clients.codes())}; ", end="")
    print(f"slowest {slowest:.2f}s")


def test_a_lost_database_answers_503_at_once_and_service_resumes_by_itself(
    migrated: str, tmp_path: Path
) -> None:
    proxy = TcpProxy(make_url(migrated).port or 5432)
    with proxy, api_processes(through(proxy, migrated), tmp_path, {}, workers=(2,)) as apis:
        base = apis[0].base
        seed(base)
        clients, ready = through_an_outage(base, proxy.cut, proxy.restore, away_seconds=3)
    check_fast_503s_and_recovery(clients, ready)


#: Low bounds, so that the black hole tests take seconds: a pooled connection waits 1 s,
#: a connection attempt 2 s, a statement 2 s plus the client's 2 s margin.
LOW_BOUNDS = {
    "ORDERGRID_DB_CONNECT_TIMEOUT_SECONDS": "2",
    "ORDERGRID_DB_POOL_TIMEOUT_SECONDS": "1",
    "ORDERGRID_DB_STATEMENT_TIMEOUT_SECONDS": "2",
    "ORDERGRID_DB_TCP_TIMEOUT_SECONDS": "4",
}
DATABASE_503S = {"database_timeout", "database_unavailable", "database_busy"}


def _through_a_black_hole(
    migrated: str, tmp_path: Path, cut: Callable[[TcpProxy], None]
) -> Counter[str | None]:
    """Two API processes behind a proxy that `cut` turns into a black hole for 6 s: every
    request answers fast (503 or success) and service recovers; the 503s' codes."""
    proxy = TcpProxy(make_url(migrated).port or 5432)
    url = through(proxy, migrated)
    with proxy, api_processes(url, tmp_path, LOW_BOUNDS, workers=(2,)) as apis:
        base = apis[0].base
        seed(base)
        clients, ready = through_an_outage(base, lambda: cut(proxy), proxy.restore, away_seconds=6)
    check_fast_503s_and_recovery(clients, ready)
    codes = clients.codes()
    assert set(codes) <= DATABASE_503S
    return codes


def test_new_connections_into_a_black_hole_answer_503_within_the_connect_timeout(
    migrated: str, tmp_path: Path
) -> None:
    # Every pooled connection is closed, and every new one hangs after its handshake.
    _through_a_black_hole(migrated, tmp_path, lambda proxy: proxy.black_hole(established=False))


def test_a_connection_that_stops_answering_is_closed_and_answered_503(
    migrated: str, tmp_path: Path
) -> None:
    # Statements already sent, and everything after, go unanswered: no error, no close.
    codes = _through_a_black_hole(migrated, tmp_path, lambda proxy: proxy.black_hole())
    assert codes["database_timeout"] >= 1, codes  # pooled connections waited for an answer


@pytest.fixture
def nats_stream() -> Iterator[StreamUnderTest]:
    yield from stream_under_test()


def nats_status(base: str) -> dict[str, Any]:
    ready = httpx.get(f"{base}/readyz", headers=H, timeout=FAIL_FAST_S).json()
    status: dict[str, Any] = ready["nats"]
    return status


def outbox_ids(url: str) -> list[str]:
    app = bootstrap(Settings(database_url=url), check_schema=False)
    try:
        with app.ctx.uow(readonly=True) as uow:
            return [e.id for e in uow.outbox.after((0, 0), 1_000_000)]
    finally:
        app.close()


def test_events_wait_in_the_outbox_while_nats_is_away_and_flow_when_it_is_back(
    migrated: str, tmp_path: Path, nats_stream: StreamUnderTest
) -> None:
    proxy = TcpProxy(make_url(nats_stream.url).port or 4222)
    env = nats_stream.env() | {"ORDERGRID_NATS_URL": f"nats://127.0.0.1:{proxy.port}"}
    with proxy, api_processes(migrated, tmp_path, env, workers=(1,)) as apis:
        base = apis[0].base
        seed(base)
        wait_for(lambda: nats_status(base)["lag"] == 0, seconds=30)
        proxy.cut()
        clients = Clients(base)
        clients.start(4)
        try:
            wait_for(lambda: clients.statuses("before")[201] >= 30, seconds=30)
        finally:
            clients.stop()
        time.sleep(1)  # the relay has had rounds to try meanwhile
        behind = nats_status(base)["lag"]
        relayed_while_away = len(nats_stream.read_all())
        proxy.restore()
        wait_for(lambda: nats_status(base)["lag"] == 0, seconds=60)

    assert set(clients.statuses("before")) == {201}  # orders never waited for NATS
    assert behind >= clients.statuses("before")[201]  # at least one event per order held
    written = outbox_ids(migrated)
    got = [m.msg_id for m in nats_stream.read_all()]
    assert relayed_while_away < len(written)
    assert sorted(got) == sorted(written)  # each event once, none lost
    print(f"\n{behind} events held while NATS was away; {len(written)} relayed in the end")


# ------------------------------------------------------------- the standalone worker

REORDERS = 60
WORKER_ENV = {"ORDERGRID_WORKER_POLL_SECONDS": "0.05", "ORDERGRID_DB_POOL_SIZE": "4"}


@dataclass
class WorkerProcess(Stoppable):
    """`ordergrid worker`, started and SIGKILLed at will."""

    url: str
    cwd: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.cwd / "worker.log").open("ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [*CLI, "worker", "--database-url", self.url],
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )


@pytest.fixture
def optional_stream() -> Iterator[StreamUnderTest | None]:
    """The NATS stream when a test server is named, else None (the rest still runs)."""
    if not os.environ.get(NATS_ENV):
        yield None
        return
    yield from stream_under_test()


def timers_due(url: str) -> int:
    app = bootstrap(Settings(database_url=url), check_schema=False)
    try:
        with app.engine.connect() as conn:
            due = select(func.count()).select_from(t.timers).where(t.timers.c.due_at <= func.now())
            return int(conn.execute(due).scalar() or 0)
    finally:
        app.close()


def make_every_timer_due(url: str) -> int:
    """Bring every timer's due time to now, as if the hours had passed; how many."""
    app = bootstrap(Settings(database_url=url), check_schema=False)
    try:
        with app.engine.begin() as conn:
            return conn.execute(update(t.timers).values(due_at=func.now())).rowcount
    finally:
        app.close()


def place_deep_orders(base: str) -> list[str]:
    """`REORDERS` one-unit orders of a SKU every DC holds plenty of; their ids. Each
    fulfilment waits for its location to accept it, with a deadline timer."""
    ok(httpx.put(f"{base}/v1/products/DEEP", json={"name": "deep"}, headers=H))
    adjustments = [
        {"id": f"deep-{loc}", "location_id": loc, "sku": "DEEP", "delta": 500, "reason": "receipt"}
        for loc in DCS
    ]
    ok(httpx.post(f"{base}/v1/inventory/adjustments", json={"adjustments": adjustments}, headers=H))
    line = {"line_id": "1", "sku": "DEEP", "quantity": 1}
    return [
        ok(
            httpx.post(
                f"{base}/v1/orders", json=an_order(f"RE-{n}", n) | {"lines": [line]}, headers=H
            )
        )["id"]
        for n in range(REORDERS)
    ]


def test_a_killed_worker_runs_every_due_reallocation_exactly_once(
    migrated: str, tmp_path: Path, optional_stream: StreamUnderTest | None
) -> None:
    env = {"ORDERGRID_EMBEDDED_WORKER": "0"} | (optional_stream.env() if optional_stream else {})
    worker = WorkerProcess(migrated, tmp_path, {**WORKER_ENV, **env})
    with api_processes(migrated, tmp_path, env, workers=(1,)) as apis:
        base = apis[0].base
        seed(base)
        orders = place_deep_orders(base)
        # Every location missed its deadline to accept: each order is to be re-sourced.
        assert make_every_timer_due(migrated) == REORDERS
        left_at_kill: list[int] = []
        try:
            for _ in range(3):
                before = timers_due(migrated)
                worker.start()
                wait_for(lambda b=before: timers_due(migrated) < b, seconds=30)
                worker.kill()  # mid-round: an open transaction is never committed
                left_at_kill.append(timers_due(migrated))
            worker.start()
            wait_for(lambda: timers_due(migrated) == 0, seconds=60)
            if optional_stream is not None:
                wait_for(lambda: nats_status(base)["lag"] == 0, seconds=60)
        finally:
            worker.stop()
        final = [ok(httpx.get(f"{base}/v1/orders/{o}", headers=H)) for o in orders]

    for order in final:  # re-sourced once: one expired fulfilment, one live elsewhere
        statuses = sorted(f["status"] for f in order["fulfilments"])
        assert statuses == ["expired", "released"], order
        assert len({f["location_id"] for f in order["fulfilments"]}) == 2
    app = bootstrap(Settings(database_url=migrated), check_schema=False)
    try:
        check_invariants(app.ctx.uow)  # reserved = open allocations, nothing doubled
    finally:
        app.close()
    if optional_stream is not None:
        written = outbox_ids(migrated)
        got = [m.msg_id for m in optional_stream.read_all()]
        assert sorted(got) == sorted(written)
    assert len(left_at_kill) == 3
    assert left_at_kill[-1] > 0  # every kill interrupted a worker with work left
    print(f"\ndue timers left at each SIGKILL: {left_at_kill} of {REORDERS}")


# ------------------------------------------------------------------------- webhooks


def test_the_webhook_receiver_gets_every_event_across_a_killed_api_process(
    migrated: str, tmp_path: Path
) -> None:
    env = {"ORDERGRID_WEBHOOK_ALLOW_PRIVATE": "1", "ORDERGRID_WEBHOOK_BACKOFF_SECONDS": "0.2"}
    with Receiver() as receiver, api_processes(migrated, tmp_path, env, workers=(1, 1)) as apis:
        body = {"url": receiver.url, "events": ["*"], "secret": "fault-test-secret"}
        ok(httpx.post(f"{apis[0].base}/v1/webhooks", json=body, headers=H))
        seed(apis[0].base)
        victim, kills = apis[1], 0
        placing = threading.Event()
        placing.set()

        def kill_and_restart() -> None:
            nonlocal kills
            while placing.is_set():
                time.sleep(0.4)
                if placing.is_set():
                    victim.kill()  # mid-request, mid-delivery: nothing gets to clean up
                    kills += 1
                    victim.start()

        killer = threading.Thread(target=kill_and_restart)
        killer.start()
        try:
            placed = place_orders(apis, 16, 20)
        finally:
            placing.clear()
            killer.join(120)
        written = set(outbox_ids(migrated))
        settled = time.monotonic()
        # A delivery claimed by a killed process is sent again once its short lease (6 s
        # by default, no longer renewed by the dead process) lapses.
        wait_for(lambda: receiver.event_ids() >= written, seconds=60)
        caught_up = time.monotonic() - settled

    assert kills >= 1
    assert len(placed.orders) == 16 * 20
    assert receiver.event_ids() == written  # every event, and nothing but events
    assert caught_up < 30, caught_up  # not a 60 s lease: one short lease plus sending
    repeats = sum(n - 1 for n in receiver.seen.values())
    print(f"\n{len(written)} events delivered across {kills} SIGKILLs; {repeats} repeats; ", end="")
    print(f"the last arrived {caught_up:.1f}s after the orders")
