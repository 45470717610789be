"""Crash safety: the server is killed between a rejection and its re-sourcing; after a
restart (API with its embedded worker, plus a second worker process) the work is done
exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from tests.e2e.cluster import ok, wait_for
from tests.e2e.test_cli import CLI, free_port, run

from ordergrid.adapters.db import tables as t

TOKEN = "restart-admin-token"
H = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def process(args: list[str], cwd: Path, url: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "ORDERGRID_ADMIN_TOKEN": TOKEN, "ORDERGRID_WORKER_POLL_SECONDS": "0.05"}
    proc = subprocess.Popen(
        [*CLI, *args, "--database-url", url],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def seed(base: str) -> str:
    """Two DCs with stock; one order placed at the nearer one; returns its id."""
    for loc_id, lat, lon in (("DC-ATL", 33.75, -84.39), ("DC-RNO", 39.53, -119.81)):
        body = {
            "name": loc_id,
            "type": "dc",
            "capabilities": ["ship"],
            "address": {"country": "US", "lat": lat, "lon": lon},
        }
        ok(httpx.put(f"{base}/v1/locations/{loc_id}", json=body, headers=H))
        adjustment = {"id": f"r-{loc_id}", "location_id": loc_id, "sku": "A", "delta": 5}
        ok(httpx.put(f"{base}/v1/products/A", json={"name": "A"}, headers=H))
        ok(
            httpx.post(
                f"{base}/v1/inventory/adjustments",
                json={"adjustments": [{**adjustment, "reason": "receipt"}]},
                headers=H,
            )
        )
    order = {
        "external_id": "RESTART-1",
        "channel": "web",
        "delivery": {
            "method": "ship",
            "address": {"country": "US", "postal_code": "10001", "lat": 40.75, "lon": -73.99},
        },
        "lines": [{"line_id": "1", "sku": "A", "quantity": 2}],
    }
    placed = ok(httpx.post(f"{base}/v1/orders", json=order, headers=H))
    assert [f["location_id"] for f in placed["fulfilments"]] == ["DC-ATL"]
    return str(placed["id"])


def counts(url: str, order_id: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            n = lambda q: int(conn.execute(q).scalar() or 0)  # noqa: E731
            return {
                "timers": n(
                    select(func.count())
                    .select_from(t.timers)
                    .where(t.timers.c.kind == "reallocate")
                ),
                "decisions": n(
                    select(func.count())
                    .select_from(t.decisions)
                    .where(t.decisions.c.order_id == order_id)
                ),
                "reserved": n(select(func.sum(t.positions.c.reserved))),
            }
    finally:
        engine.dispose()


@pytest.mark.slow
def test_rejection_survives_a_killed_server_and_is_resourced_once(
    tmp_path: Path, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        assert run(["migrate", "--database-url", database_url], tmp_path).returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process(["serve", "--port", str(port), "--no-worker"], tmp_path, database_url) as api:
        wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200)
        order_id = seed(base)
        fid = ok(httpx.get(f"{base}/v1/orders/{order_id}", headers=H))["fulfilments"][0]["id"]
        ok(httpx.post(f"{base}/v1/fulfilments/{fid}/reject", json={"reason": "damaged"}, headers=H))
        # The rejection is committed with its re-sourcing still to do...
        assert counts(database_url, order_id) == {"timers": 1, "decisions": 1, "reserved": 0}
        api.send_signal(signal.SIGKILL)  # ...and the server dies before doing it.
        api.wait(timeout=10)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        process(["serve", "--port", str(port)], tmp_path, database_url),
        process(["worker"], tmp_path, database_url),
    ):

        def resourced() -> dict[str, Any] | None:
            order: dict[str, Any] = httpx.get(f"{base}/v1/orders/{order_id}", headers=H).json()
            return order if order.get("status") == "allocated" else None

        order = wait_for(resourced)
        time.sleep(1)  # both workers had time to (wrongly) do it again
        order = ok(httpx.get(f"{base}/v1/orders/{order_id}", headers=H))
    statuses = [(f["location_id"], f["status"]) for f in order["fulfilments"]]
    assert statuses == [("DC-ATL", "rejected"), ("DC-RNO", "released")]
    assert counts(database_url, order_id) == {"timers": 0, "decisions": 2, "reserved": 2}
