"""Several API processes on one PostgreSQL database: 32 clients race for three hot SKUs,
and one process is killed with SIGKILL and restarted while they do."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.cluster import (
    H,
    api_processes,
    check_no_oversell_and_exactly_once,
    place_orders,
    seed,
    wait_for,
)
from tests.e2e.test_cli import run
from tests.integration.streams import StreamUnderTest, stream_under_test

from ordergrid.bootstrap import bootstrap
from ordergrid.settings import Settings

CLIENTS = 32
PER_CLIENT = 4
#: Enough orders that the clients are still placing when a process is killed.
CRASH_PER_CLIENT = 10

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def migrated(postgres_url: str, tmp_path: Path) -> str:
    result = run(["migrate", "--database-url", postgres_url], tmp_path)
    assert result.returncode == 0, result.stderr
    return postgres_url


@pytest.fixture
def nats_stream() -> Iterator[StreamUnderTest]:
    yield from stream_under_test()


def test_no_oversell_with_32_clients_across_three_api_processes(
    migrated: str, tmp_path: Path
) -> None:
    # `serve --workers 2` (two processes on one port) next to a single-process `serve`.
    with api_processes(migrated, tmp_path, {}, workers=(2, 1)) as apis:
        seed(apis[0].base)
        placed = place_orders(apis, CLIENTS, PER_CLIENT)

        orders = check_no_oversell_and_exactly_once(migrated, placed)

    assert orders == CLIENTS * PER_CLIENT
    print(
        f"\n{orders} orders by {CLIENTS} clients through 3 API processes in "
        f"{placed.seconds:.1f}s ({orders / placed.seconds:.0f} orders/s; "
        f"{placed.failed_attempts} answers 503 retried)"
    )


def test_a_killed_api_process_loses_no_order_reservation_or_event(
    migrated: str, tmp_path: Path, nats_stream: StreamUnderTest
) -> None:
    with api_processes(migrated, tmp_path, nats_stream.env(), workers=(1, 1)) as apis:
        seed(apis[0].base)
        victim = apis[1]
        kills = 0
        placing = threading.Event()
        placing.set()

        def kill_and_restart() -> None:
            nonlocal kills
            while placing.is_set():
                time.sleep(0.7)
                if not placing.is_set():
                    return
                victim.kill()  # mid-request, mid-relay: nothing gets to clean up
                kills += 1
                victim.start()

        killer = threading.Thread(target=kill_and_restart)
        killer.start()
        try:
            placed = place_orders(apis, CLIENTS, CRASH_PER_CLIENT)
        finally:
            placing.clear()
            killer.join(120)

        orders = check_no_oversell_and_exactly_once(migrated, placed)

        def relayed() -> bool:
            ready = httpx.get(f"{apis[0].base}/readyz", headers=H, timeout=5).json()
            return bool(ready["nats"]["lag"] == 0)

        wait_for(relayed, seconds=60)

    assert kills >= 1
    assert orders == CLIENTS * CRASH_PER_CLIENT
    app = bootstrap(Settings(database_url=migrated), check_schema=False)
    try:
        with app.ctx.uow(readonly=True) as uow:
            written = [e.id for e in uow.outbox.after((0, 0), 1_000_000)]
    finally:
        app.close()
    got = [m.msg_id for m in nats_stream.read_all()]
    assert set(got) == set(written)  # every event reached NATS...
    assert len(got) == len(set(got))  # ...and JetStream kept each event id once
    print(
        f"\n{orders} orders, {len(written)} events, {placed.failed_attempts} failed attempts "
        f"retried, {kills} SIGKILLs; {placed.seconds:.1f}s"
    )
