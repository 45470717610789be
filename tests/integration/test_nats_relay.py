"""The outbox relayed to the NATS JetStream server of this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from tests.integration.streams import StreamUnderTest

from ordergrid.adapters.nats_publisher import NatsPublisher, StreamOptions
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.domain.events import Event
from ordergrid.entrypoints.api.app import create_app
from ordergrid.entrypoints.worker import Worker
from ordergrid.service.nats_relay import CONSUMER, Backoff, StreamRelay
from ordergrid.service.ports import StoredEvent
from ordergrid.settings import Settings

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def wire(url: str, stream: StreamUnderTest) -> Application:
    return bootstrap(Settings(database_url=url, auto_migrate=True, **stream.settings()))


@pytest.fixture
def relayed(database_url: str, nats_stream: StreamUnderTest) -> Iterator[Application]:
    app = wire(database_url, nats_stream)
    yield app
    app.close()


def write_orders_events(app: Application, orders: int, per_order: int) -> None:
    """Events of several orders, interleaved, each order's in its own transactions."""
    for step in range(per_order):
        for n in range(orders):
            with app.ctx.uow() as uow:
                uow.outbox.append(
                    [Event("order.updated", {"step": step}, order_id=f"order-{n}")], T0
                )
                uow.commit()


def outbox(app: Application) -> list[StoredEvent]:
    with app.ctx.uow(readonly=True) as uow:
        return uow.outbox.after((0, 0), 100_000)


def visible(app: Application, count: int) -> None:
    """Wait until the outbox shows `count` events: on PostgreSQL once every older
    transaction on the server ended (other clients' long ones delay it)."""
    deadline = time.monotonic() + 30
    while len(outbox(app)) < count:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def relay_all(relay: StreamRelay, expected: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while relay.lag():
        relay.relay_once()
        assert time.monotonic() < deadline, (
            f"stuck at lag {relay.lag()} of {expected}: {relay.health}"
        )


def test_every_outbox_event_arrives_in_order_with_its_id_as_message_id(
    relayed: Application,
    nats_stream: StreamUnderTest,
) -> None:
    write_orders_events(relayed, orders=5, per_order=8)
    relay = relayed.stream_relay
    assert relay is not None
    relay_all(relay, 40)

    got = nats_stream.read_all()
    written = outbox(relayed)
    assert [m.msg_id for m in got] == [e.id for e in written]
    assert all(m.body["id"] == m.msg_id for m in got)
    assert {m.subject for m in got} == {f"{nats_stream.prefix}.order.updated"}
    order_of = {e.id: e.order_id for e in written}
    steps: dict[str | None, list[int]] = defaultdict(list)
    for m in got:
        steps[order_of[m.msg_id]].append(m.body["data"]["step"])
    assert steps == {f"order-{n}": list(range(8)) for n in range(5)}


def test_publishing_a_batch_again_is_dropped_by_jetstream(
    relayed: Application,
    nats_stream: StreamUnderTest,
) -> None:
    write_orders_events(relayed, orders=3, per_order=4)
    relay = relayed.stream_relay
    assert relay is not None
    relay_all(relay, 12)
    # As after a crash between publishing and moving the position.
    relay.publisher.publish(outbox(relayed))

    got = nats_stream.read_all()
    assert len(got) == 12
    assert len({m.msg_id for m in got}) == 12


def test_unreachable_nats_is_reported_and_the_relay_recovers_when_it_is_back(
    relayed: Application,
    nats_stream: StreamUnderTest,
) -> None:
    write_orders_events(relayed, orders=2, per_order=3)
    visible(relayed, 6)
    closed = StreamOptions(url="nats://127.0.0.1:1", stream=nats_stream.name, timeout_seconds=1)
    relay = StreamRelay(relayed.ctx, NatsPublisher(closed), backoff=Backoff(0.05, 0.05))
    try:
        assert relay.relay_once() == 0
        assert relay.health.last_error is not None
        assert "127.0.0.1:1" in relay.health.last_error
        assert relay.health.consecutive_failures == 1
        with relayed.ctx.uow(readonly=True) as uow:
            assert uow.outbox.consumer_position(CONSUMER) == (0, 0)
        assert relay.lag() == 6
    finally:
        relay.publisher.close()

    live = relayed.stream_relay
    assert live is not None
    relay.publisher = live.publisher  # NATS is back
    time.sleep(0.06)
    relay_all(relay, 6)
    assert relay.health.consecutive_failures == 0
    assert len(nats_stream.read_all()) == 6


@pytest.mark.postgres
def test_two_relays_on_postgresql_publish_each_event_once(
    postgres_url: str,
    nats_stream: StreamUnderTest,
) -> None:
    apps = [wire(postgres_url, nats_stream) for _ in range(2)]
    published: list[list[str]] = [[], []]

    class Recording(NatsPublisher):
        def __init__(self, index: int) -> None:
            super().__init__(StreamOptions(nats_stream.url, nats_stream.name, nats_stream.prefix))
            self.index = index

        def publish(self, events: Sequence[StoredEvent]) -> None:
            super().publish(events)
            published[self.index].extend(e.id for e in events)

    relays = [StreamRelay(app.ctx, Recording(i), batch=7) for i, app in enumerate(apps)]
    writing = threading.Event()

    def write() -> None:
        write_orders_events(apps[0], orders=10, per_order=20)
        writing.set()

    def relay_until_done(relay: StreamRelay) -> None:
        while not (writing.is_set() and relay.lag() == 0):
            relay.relay_once()

    threads = [threading.Thread(target=write)]
    threads += [threading.Thread(target=relay_until_done, args=(r,)) for r in relays]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)

        ids = [e.id for e in outbox(apps[0])]
        assert len(ids) == 200
        both = published[0] + published[1]
        assert sorted(both) == sorted(ids)  # each event published once, by one relay
        assert [m.msg_id for m in nats_stream.read_all()] == ids
    finally:
        for r in relays:
            r.publisher.close()
        for app in apps:
            app.close()


def test_the_worker_relays_to_nats_and_the_api_shows_the_lag(
    sqlite_url: str, nats_stream: StreamUnderTest
) -> None:
    app = wire(sqlite_url, nats_stream)
    try:
        write_orders_events(app, orders=2, per_order=2)
        with TestClient(create_app(app)) as http:
            before = http.get("/readyz").json()["nats"]
            assert (before["lag"], before["last_error"]) == (4, None)

            Worker(app).run_until_idle()

            after = http.get("/readyz").json()["nats"]
            assert (after["lag"], after["published"]) == (0, 4)
            metrics = http.get("/metrics").text
        assert "ordergrid_nats_relay_lag_events 0.0" in metrics
        assert "ordergrid_nats_relay_published_total 4.0" in metrics
        assert len(nats_stream.read_all()) == 4
    finally:
        app.close()


def test_without_a_nats_url_nothing_is_relayed_and_readyz_says_nothing_of_nats(
    sqlite_url: str,
) -> None:
    app = bootstrap(Settings(database_url=sqlite_url, auto_migrate=True))
    try:
        assert app.stream_relay is None
        with TestClient(create_app(app)) as http:
            assert "nats" not in http.get("/readyz").json()
            assert "ordergrid_nats_relay" not in http.get("/metrics").text
    finally:
        app.close()


WITHOUT_NATS = """
import sys
from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints.api.app import create_app
from ordergrid.settings import Settings
app = bootstrap(Settings(database_url=sys.argv[1], auto_migrate=True))
create_app(app)
app.close()
assert "nats" not in sys.modules, "nats-py was imported"
"""


def test_without_a_nats_url_the_nats_client_is_not_even_imported(sqlite_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_NATS, sqlite_url],
        env={k: v for k, v in os.environ.items() if k != "ORDERGRID_NATS_URL"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
