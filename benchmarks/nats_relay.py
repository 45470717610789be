"""How fast the outbox relay drains to NATS JetStream.

An outbox on PostgreSQL is pre-filled with N events (of 1,000 orders); the relay publishes
them to a fresh stream until its lag is 0. In the same run the same events are published
straight to another stream with no database (the raw rate of the publisher), for the
ratio. Needs PostgreSQL and a NATS server with JetStream.

    .venv/bin/python benchmarks/nats_relay.py [--quick] [--events N] [--batch B]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from common import console, print_bench_lines, scratch_postgres
from ordergrid.adapters.nats_publisher import NatsPublisher, StreamOptions
from ordergrid.bootstrap import bootstrap
from ordergrid.domain.events import Event
from ordergrid.service.nats_relay import StreamRelay
from ordergrid.service.ports import StoredEvent
from ordergrid.settings import Settings

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ORDERS = 1000
SEED = 6


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10,000 events (under a minute)")
    p.add_argument("--events", type=int, default=None, help="events in the outbox")
    p.add_argument("--batch", type=int, default=500, help="events per relay round")
    p.add_argument(
        "--postgres-url", default=os.environ.get("ORDERGRID_BENCH_POSTGRES_URL", DEFAULT_PG)
    )
    p.add_argument(
        "--nats-url", default=os.environ.get("ORDERGRID_NATS_URL", "nats://127.0.0.1:4222")
    )
    opts = p.parse_args()
    opts.events = opts.events or (10_000 if opts.quick else 50_000)
    return opts


def fill_outbox(settings: Settings, events: int) -> None:
    rng = random.Random(SEED)
    app = bootstrap(settings)
    at = datetime(2026, 11, 27, tzinfo=UTC)
    try:
        for start in range(0, events, 1000):
            batch = [
                Event(
                    rng.choice(("order.allocated", "fulfilment.released", "inventory.changed")),
                    {"n": n, "sku": f"SKU-{rng.randrange(300)}", "quantity": rng.randint(1, 3)},
                    order_id=f"order-{rng.randrange(ORDERS)}",
                )
                for n in range(start, min(events, start + 1000))
            ]
            with app.ctx.uow() as uow:
                uow.outbox.append(batch, at)
                uow.commit()
    finally:
        app.close()


def drain(settings: Settings, batch: int) -> tuple[float, int, list[StoredEvent]]:
    """Seconds the relay took to bring its lag to 0, rounds, and the events (for the raw run)."""
    app = bootstrap(settings)
    assert app.stream_relay is not None
    relay = StreamRelay(app.ctx, app.stream_relay.publisher, batch=batch)
    try:
        total = visible_events(app)
        rounds = done = 0
        started = time.perf_counter()
        while done < total:
            done += relay.relay_once()
            rounds += 1
        seconds = time.perf_counter() - started
        assert relay.health.consecutive_failures == 0, relay.health.last_error
        assert relay.lag() == 0
        with app.ctx.uow(readonly=True) as uow:
            events = uow.outbox.after((0, 0), total)
        return seconds, rounds, events
    finally:
        app.close()


def visible_events(app: Any) -> int:
    """Wait until the outbox horizon shows every event written (not the relay's time)."""
    deadline = time.monotonic() + 60
    while True:
        with app.ctx.uow(readonly=True) as uow:
            seen = len(uow.outbox.after((0, 0), 10_000_000))
            written = uow.outbox.backlog((0, 0), 10_000_000)
        if seen == written or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def raw_publish(url: str, events: list[StoredEvent], batch: int) -> float:
    run = uuid.uuid4().hex[:8]
    publisher = NatsPublisher(StreamOptions(url, f"BENCH_RAW_{run.upper()}", f"benchraw{run}"))
    try:
        publisher.publish(events[:1])
        started = time.perf_counter()
        for i in range(1, len(events), batch):
            publisher.publish(events[i : i + batch])
        return time.perf_counter() - started
    finally:
        publisher.close()
        asyncio.run(delete_stream(url, f"BENCH_RAW_{run.upper()}"))


async def delete_stream(url: str, name: str) -> None:
    import nats  # noqa: PLC0415

    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


def main() -> None:
    opts = options()
    console.print(f"seed {SEED}; {opts.events} events of {ORDERS} orders; batch {opts.batch}")
    run = uuid.uuid4().hex[:8]
    stream = f"BENCH_RELAY_{run.upper()}"
    try:
        with scratch_postgres(opts.postgres_url) as url:
            settings = Settings(
                database_url=url,
                auto_migrate=True,
                nats_url=opts.nats_url,
                nats_stream=stream,
                nats_subject_prefix=f"benchrelay{run}",
            )
            fill_outbox(settings, opts.events)
            seconds, rounds, events = drain(settings, opts.batch)
            raw_seconds = raw_publish(opts.nats_url, events, opts.batch)
    finally:
        asyncio.run(delete_stream(opts.nats_url, stream))
    relay_rate = len(events) / seconds
    raw_rate = (len(events) - 1) / raw_seconds
    table = Table(title="Outbox relay to NATS JetStream (PostgreSQL outbox)")
    for column in (
        "events",
        "batch",
        "rounds",
        "relay s",
        "relay events/s",
        "raw publish/s",
        "ratio",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        str(len(events)),
        str(opts.batch),
        str(rounds),
        f"{seconds:.2f}",
        f"{relay_rate:,.0f}",
        f"{raw_rate:,.0f}",
        f"{relay_rate / raw_rate:.2f}",
    )
    console.print(table)
    console.print(
        "relay: lease, read after the durable position, publish with PubAcks, move the "
        "position; raw: the same publisher with no database. Figures depend on the load "
        "of this shared machine."
    )
    record: dict[str, Any] = {
        "bench": "nats_relay",
        "backend": "postgresql",
        "events": len(events),
        "batch": opts.batch,
        "events_per_s": round(relay_rate),
        "raw_publish_per_s": round(raw_rate),
        "ratio": round(relay_rate / raw_rate, 3),
        "seed": SEED,
    }
    print_bench_lines([record])


if __name__ == "__main__":
    main()
