"""Several real API processes on one PostgreSQL database, and clients placing orders for a
few hot SKUs through them: the harness of the multi-process proofs."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.e2e.test_cli import CLI, free_port
from tests.service.invariants import check_invariants

from ordergrid.adapters.db import tables as t
from ordergrid.bootstrap import bootstrap
from ordergrid.service.ports import OrderFilter
from ordergrid.settings import Settings

TOKEN = "cluster-admin-token"
H = {"Authorization": f"Bearer {TOKEN}"}
DCS = {"DC-E": (40.0, -75.0), "DC-W": (37.0, -120.0), "DC-C": (41.8, -87.6)}
HOT = ("HOT-1", "HOT-2", "HOT-3")
#: Units of each hot SKU at each DC: far less than the clients ask for.
UNITS = 2


class Stoppable:
    """A child process that can be SIGKILLed (no clean-up runs) or stopped politely."""

    proc: subprocess.Popen[bytes] | None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class ApiProcess(Stoppable):
    """`ordergrid serve` on a port of its own; can be killed and started again."""

    url: str
    cwd: Path
    env: dict[str, str]
    workers: int = 1
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        self.proc = subprocess.Popen(
            [*CLI, *args, "--database-url", self.url],
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200)


@contextmanager
def api_processes(
    url: str, cwd: Path, env: dict[str, str], workers: tuple[int, ...]
) -> Iterator[list[ApiProcess]]:
    base_env = {
        "ORDERGRID_ADMIN_TOKEN": TOKEN,
        "ORDERGRID_WORKER_POLL_SECONDS": "0.05",
        # Several processes share the server with other test runs: small pools.
        "ORDERGRID_DB_POOL_SIZE": "6",
        **env,
    }
    apis = [ApiProcess(url, cwd, base_env, n) for n in workers]
    try:
        for api in apis:
            api.start()
        yield apis
    finally:
        for api in apis:
            api.stop()


def wait_for(check: Callable[[], Any], seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def ok(r: httpx.Response) -> Any:
    assert r.status_code < 300, r.text
    return r.json()


def seed(base: str) -> None:
    for loc_id, (lat, lon) in DCS.items():
        body = {
            "name": loc_id,
            "type": "dc",
            "capabilities": ["ship"],
            "address": {"country": "US", "lat": lat, "lon": lon},
        }
        ok(httpx.put(f"{base}/v1/locations/{loc_id}", json=body, headers=H))
    for sku in HOT:
        ok(httpx.put(f"{base}/v1/products/{sku}", json={"name": sku}, headers=H))
    adjustments = [
        {"id": f"seed-{loc}-{sku}", "location_id": loc, "sku": sku, "delta": UNITS}
        for loc in DCS
        for sku in HOT
    ]
    ok(
        httpx.post(
            f"{base}/v1/inventory/adjustments",
            json={"adjustments": [{**a, "reason": "receipt"} for a in adjustments]},
            headers=H,
        )
    )


def an_order(external_id: str, n: int) -> dict[str, Any]:
    lines = [{"line_id": "1", "sku": HOT[n % 3], "quantity": 1 + n % 2}]
    if n % 3 == 0:
        lines.append({"line_id": "2", "sku": HOT[(n + 1) % 3], "quantity": 1})
    return {
        "external_id": external_id,
        "channel": "web",
        "delivery": {
            "method": "ship",
            "address": {"country": "US", "lat": 38.0 + n % 5, "lon": -80.0 - n % 30},
        },
        "lines": lines,
    }


@dataclass
class Placed:
    """What the clients were told: order id by external id, for every 2xx."""

    orders: dict[str, str] = field(default_factory=dict)
    failed_attempts: int = 0
    #: Answers no retry may fix (4xx, 500), and orders that never got a 2xx.
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def place_orders(apis: list[ApiProcess], clients: int, per_client: int) -> Placed:
    """Each client places its orders through the processes in turn; a request that fails
    (process killed, 503) is sent again, to another process, with the same external id;
    any other answer but a 2xx fails the run."""
    placed = Placed()

    def client(c: int) -> None:
        turn = itertools.count(c)
        with httpx.Client(timeout=30, headers=H) as http:
            for k in range(per_client):
                n = c * per_client + k
                external_id = f"MP-{n}"
                for _ in range(200):
                    api = apis[next(turn) % len(apis)]
                    try:
                        r = http.post(f"{api.base}/v1/orders", json=an_order(external_id, n))
                    except httpx.TransportError:
                        r = None
                    if r is not None and r.status_code in (200, 201):
                        with placed.lock:
                            placed.orders[external_id] = r.json()["id"]
                        break
                    if r is not None and r.status_code != 503:
                        with placed.lock:
                            placed.errors.append(f"{external_id}: {r.status_code} {r.text}")
                        break
                    with placed.lock:
                        placed.failed_attempts += 1
                    time.sleep(0.05)
                else:
                    with placed.lock:
                        placed.errors.append(f"{external_id} never got a 2xx")

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(300)
    assert not any(th.is_alive() for th in threads)
    assert not placed.errors, placed.errors[:5]
    placed.seconds = time.perf_counter() - started
    return placed


def hot_reserved(url: str) -> dict[str, int]:
    app = bootstrap(Settings(database_url=url), check_schema=False)
    try:
        with app.engine.connect() as conn:
            p = t.positions
            rows = conn.execute(
                select(p.c.sku, func.sum(p.c.reserved)).where(p.c.sku.in_(HOT)).group_by(p.c.sku)
            )
            return {sku: int(total) for sku, total in rows}
    finally:
        app.close()


def check_no_oversell_and_exactly_once(url: str, placed: Placed) -> int:
    """Every hot unit allocated, no position oversold or drifting from its allocations,
    and every order a client was told about stored exactly once; returns the order count."""
    stock = {sku: UNITS * len(DCS) for sku in HOT}
    wait_for(lambda: hot_reserved(url) == stock, seconds=60)
    app = bootstrap(Settings(database_url=url), check_schema=False)
    try:
        snapshot = check_invariants(app.ctx.uow)
        with app.ctx.uow(readonly=True) as uow:
            for sku in HOT:
                for pos in uow.inventory.positions([sku]):
                    assert pos.available >= 0
                    assert pos.on_hand == UNITS
        stored = Counter((o.channel, o.external_id) for o in snapshot.orders)
        assert all(n == 1 for n in stored.values()), stored.most_common(3)
        by_external = {o.external_id: o.id for o in snapshot.orders}
        assert by_external == placed.orders
        with app.ctx.uow(readonly=True) as uow:
            assert len(uow.orders.page(OrderFilter(), 10_000, None).items) == len(placed.orders)
        return len(snapshot.orders)
    finally:
        app.close()
