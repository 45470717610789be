"""Re-allocation after a rejection: how long until the units have a new location, under a
steady order load, and how many re-allocations per second one worker sustains.

    python benchmarks/reallocation.py [--quick] [--rate 200] [--seed 7] [--duration S]

1. **Latency** (embedded mode: `ordergrid serve` on SQLite with its worker inside): a
   load-generator process places demo orders over HTTP at `--rate` orders/s (open loop);
   meanwhile a probe places an order, rejects its first fulfilment (`capacity`: re-source
   elsewhere) and, once the order shows a new fulfilment released (or is back-ordered),
   reads the order's timeline; one probe after the other. Latency = from sending the
   rejection (the probe's clock) to the `at` of the `fulfilment.released` event of the new
   allocation (the server's clock: same machine). The probe looks at the order every
   25 ms only to know when to read the timeline, so its looking neither adds load
   measured against nor rounds the latency up to a polling step.
   Alongside, an expiry probe places an order every 0.5 s on a channel whose policy gives
   locations 3 s to accept, and never accepts: latency = from the deadline (release + 3 s)
   to the `at` of the new allocation's `fulfilment.released` event, read from each
   order's timeline once the load has stopped.
2. **Throughput** (in-process, same seeded database, no HTTP): `--burst` orders are
   placed and all rejected with nothing running the worker, then one worker runs the
   backlog of re-sourcing timers; re-allocations/s = timers run / time to drain them.

Prints a table and, last, one `BENCH {json}` line.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

from api_server import TOKEN, api_server
from common import SPAWN, console, free_port, percentile, print_bench_lines
from ordergrid.bootstrap import bootstrap
from ordergrid.demo.sample import OrderStream, build_network
from ordergrid.domain.network import Address
from ordergrid.entrypoints.cli.demo import load_network
from ordergrid.entrypoints.worker import Worker
from ordergrid.service.commands import ActOnFulfilment, LineInput, PlaceOrder, RunDueTimers
from ordergrid.settings import Settings

HEADERS = {"Authorization": f"Bearer {TOKEN}"}
POLL_S = 0.025
#: Orders of this channel get a policy of their own whose acceptance deadline is short.
EXPIRY_CHANNEL = "bench-expiry"
ACCEPT_S = 3.0
EXPIRY_EVERY_S = 0.5


@dataclass(frozen=True)
class Options:
    quick: bool
    rate: float
    seed: int
    duration_s: float
    warmup_s: float
    burst: int
    stores: int
    products: int


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run (under a minute)")
    p.add_argument("--rate", type=float, default=200.0, help="background orders per second")
    p.add_argument("--seed", type=int, default=7, help="seed of the network and orders")
    p.add_argument("--duration", type=float, help="measured seconds of the latency run")
    p.add_argument("--burst", type=int, help="rejections in the throughput run")
    a = p.parse_args(argv)
    return Options(
        quick=a.quick,
        rate=a.rate,
        seed=a.seed,
        duration_s=a.duration if a.duration is not None else (8.0 if a.quick else 30.0),
        warmup_s=1.0 if a.quick else 3.0,
        burst=a.burst if a.burst is not None else (300 if a.quick else 2000),
        stores=40 if a.quick else 160,
        products=80 if a.quick else 300,
    )


def seed_database(folder: Path, opts: Options) -> Path:
    path = folder / "base.db"
    app = bootstrap(Settings(database_url=f"sqlite:///{path}"))
    network = build_network(seed=opts.seed, stores=opts.stores, products=opts.products)
    load_network(app, network, console)
    Worker(app).run_until_idle()  # the seeding's stock events: not part of what is measured
    app.close()
    return path


def copy_of(base: Path, name: str) -> str:
    target = base.with_name(name)
    shutil.copyfile(base, target)
    return f"sqlite:///{target}"


# ----------------------------------------------------------------- background load


def background(base_url: str, opts: Options, stop_at: float, out: Queue[Any]) -> None:
    """Open loop: order n is due at start + n / rate, sent by one of 24 threads."""
    network = build_network(seed=opts.seed, stores=opts.stores, products=opts.products)
    stream = OrderStream(network, seed=opts.seed + 1)
    lock, slots = threading.Lock(), itertools.count()
    start = time.monotonic()
    done: list[float] = []

    def client() -> None:
        with httpx.Client(base_url=base_url, headers=HEADERS, timeout=30) as c:
            while True:
                n = next(slots)
                due = start + n / opts.rate
                if due >= stop_at:
                    return
                time.sleep(max(0.0, due - time.monotonic()))
                with lock:
                    body = stream.next_order()
                    body["external_id"] += "-BG"
                if c.post("/v1/orders", json=body).status_code < 300:
                    with lock:
                        done.append(time.monotonic())

    threads = [threading.Thread(target=client) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(done)


# ----------------------------------------------------------------- latency probe


def _first_fulfilment(c: httpx.Client, body: dict[str, Any]) -> tuple[str, str] | None:
    r = c.post("/v1/orders", json=body)
    if r.status_code >= 300:
        return None
    order = r.json()
    live = [f for f in order["fulfilments"] if f["status"] == "released"]
    return (order["id"], live[0]["id"]) if live else None


def _resourced(c: httpx.Client, order_id: str, rejected: str) -> str | None:
    order = c.get(f"/v1/orders/{order_id}").json()
    if any(f["status"] == "released" and f["id"] != rejected for f in order["fulfilments"]):
        return "allocated"
    if order["status"] in ("backordered", "cancelled") or order.get("exception_id"):
        return "backordered"
    return None


def _released_at(c: httpx.Client, order_id: str, rejected: str) -> float:
    """When the new allocation was made: the first `fulfilment.released` on the order's
    timeline for a fulfilment other than the rejected one (epoch seconds)."""
    for event in c.get(f"/v1/orders/{order_id}/events").json():
        if (
            event["type"] == "fulfilment.released"
            and event["data"].get("fulfilment_id") != rejected
        ):
            return datetime.fromisoformat(event["at"]).timestamp()
    raise RuntimeError(f"order {order_id} shows a new fulfilment but no event of it")


def probe(base_url: str, opts: Options, start_at: float, stop_at: float) -> dict[str, Any]:
    stream = OrderStream(
        build_network(seed=opts.seed, stores=opts.stores, products=opts.products),
        seed=opts.seed + 2,
    )
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    with httpx.Client(base_url=base_url, headers=HEADERS, timeout=30) as c:
        time.sleep(max(0.0, start_at - time.monotonic()))
        while time.monotonic() < stop_at:
            body = stream.next_order()
            if body["delivery"]["method"] != "ship":
                continue  # a store pick-up that fails is cancelled by default: not a re-route
            body["external_id"] += "-PROBE"
            placed = _first_fulfilment(c, body)
            if placed is None:
                continue
            order_id, fid = placed
            sent, sent_at = time.monotonic(), time.time()
            c.post(f"/v1/fulfilments/{fid}/reject", json={"reason": "capacity"})
            outcome = None
            while outcome is None and time.monotonic() - sent < 30:
                time.sleep(POLL_S)
                outcome = _resourced(c, order_id, fid)
            outcome = outcome or "timeout"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome == "allocated":
                latencies.append(_released_at(c, order_id, fid) - sent_at)
    return {"latencies": latencies, "outcomes": outcomes}


# ----------------------------------------------------------------- expiry probe


def expiry_policy(c: httpx.Client) -> None:
    """The built-in policy for the probe's channel, with a 3 s acceptance deadline and
    one re-sourcing per order: the second location's deadline passes too, and its order
    then goes to the exception queue rather than round the network again, which would
    add a load of its own to what is measured."""
    doc = c.get("/v1/policies/default").json()["document"]
    lifecycle = {
        **doc.get("lifecycle", {}),
        "deadlines": {"default": {"accept_minutes": ACCEPT_S / 60}},
        "max_attempts": 1,
    }
    doc |= {
        "name": "expiry probe",
        "selector": {"channels": [EXPIRY_CHANNEL]},
        "lifecycle": lifecycle,
    }
    c.put(
        f"/v1/policies/{EXPIRY_CHANNEL}", params={"activate": "true"}, json=doc
    ).raise_for_status()


def place_expiring(base_url: str, opts: Options, start_at: float, stop_at: float) -> list[str]:
    """Orders on the expiry channel, one every 0.5 s, never accepted; the last is placed
    early enough for its deadline to pass within the window."""
    stream = OrderStream(
        build_network(seed=opts.seed, stores=opts.stores, products=opts.products),
        seed=opts.seed + 4,
    )
    placed: list[str] = []
    with httpx.Client(base_url=base_url, headers=HEADERS, timeout=30) as c:
        due = start_at
        while due < stop_at - ACCEPT_S - 1:
            time.sleep(max(0.0, due - time.monotonic()))
            due += EXPIRY_EVERY_S
            body = stream.next_order()
            if body["delivery"]["method"] != "ship":
                continue
            body["channel"], body["external_id"] = EXPIRY_CHANNEL, body["external_id"] + "-EXPIRY"
            first = _first_fulfilment(c, body)
            if first is not None:
                placed.append(first[0])
    return placed


def expiry_latency(c: httpx.Client, order_id: str) -> tuple[str, float | None]:
    """From the first fulfilment's deadline to the release of the next one (seconds)."""
    released = [
        (e["data"].get("fulfilment_id"), datetime.fromisoformat(e["at"]).timestamp())
        for e in c.get(f"/v1/orders/{order_id}/events").json()
        if e["type"] == "fulfilment.released"
    ]
    first, at = released[0]
    later = [t for fid, t in released if fid != first]
    if later:
        return "allocated", later[0] - (at + ACCEPT_S)
    order = c.get(f"/v1/orders/{order_id}").json()
    expired = any(f["id"] == first and f["status"] == "expired" for f in order["fulfilments"])
    return ("backordered" if expired else "not_expired"), None


def measure_latency(url: str, opts: Options, logs: Path) -> dict[str, Any]:
    port = free_port()
    with api_server(url, port, 1, logs / "serve.log") as server:
        with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=30) as c:
            expiry_policy(c)
        released = time.monotonic()
        start, stop = released + opts.warmup_s, released + opts.warmup_s + opts.duration_s
        out: Queue[Any] = SPAWN.Queue()
        load = SPAWN.Process(target=background, args=(server.base_url, opts, stop, out))
        load.start()
        expiring: list[str] = []
        placer = threading.Thread(
            target=lambda: expiring.extend(place_expiring(server.base_url, opts, start, stop))
        )
        placer.start()
        probed = probe(server.base_url, opts, start, stop)
        done = out.get(timeout=opts.duration_s + 120)
        load.join()
        placer.join()
        with httpx.Client(base_url=server.base_url, headers=HEADERS, timeout=30) as c:
            expiries = [expiry_latency(c, order_id) for order_id in expiring]
    in_window = [t for t in done if start <= t <= stop]
    return {
        "background_orders_per_s": round(len(in_window) / opts.duration_s, 1),
        **_latencies("", probed["latencies"]),
        "probe_outcomes": probed["outcomes"],
        **_latencies("expiry_", [x for _, x in expiries if x is not None]),
        "expiry_outcomes": dict(Counter(outcome for outcome, _ in expiries)),
    }


def _latencies(prefix: str, seconds: list[float]) -> dict[str, Any]:
    lat = sorted(seconds)
    return {
        f"{prefix}p50_ms": round(percentile(lat, 50) * 1000, 1),
        f"{prefix}p99_ms": round(percentile(lat, 99) * 1000, 1),
        f"{prefix}max_ms": round((lat[-1] if lat else 0.0) * 1000, 1),
        f"{prefix}probes": len(lat),
    }


# ----------------------------------------------------------------- worker throughput


def measure_throughput(url: str, opts: Options) -> dict[str, Any]:
    """Place and reject `burst` orders with no worker running, then drain the backlog."""
    app = bootstrap(Settings(database_url=url))
    stream = OrderStream(
        build_network(seed=opts.seed, stores=opts.stores, products=opts.products),
        seed=opts.seed + 3,
    )
    rejected = 0
    try:
        while rejected < opts.burst:
            body = stream.next_order()
            if body["delivery"]["method"] != "ship":
                continue
            order, _ = app.bus.handle(_place(body))
            live = [f for f in order.fulfilments if f.status.value == "released"]
            if live:
                app.bus.handle(ActOnFulfilment(live[0].id, "reject", reason="capacity"))
                rejected += 1
        started = time.perf_counter()
        ran = 0
        while n := app.bus.handle(RunDueTimers(500)):
            ran += n
        elapsed = time.perf_counter() - started
    finally:
        app.close()
    return {"burst": rejected, "timers_ran": ran, "reallocations_per_s": round(ran / elapsed, 1)}


def _place(body: dict[str, Any]) -> PlaceOrder:
    d = body["delivery"]
    return PlaceOrder(
        external_id=body["external_id"] + "-TP",
        channel=body["channel"],
        method=d["method"],
        service_level=d.get("service_level", "standard"),
        address=Address(**d["address"]),
        lines=tuple(LineInput(x["line_id"], x["sku"], x["quantity"]) for x in body["lines"]),
        customer=body["customer"],
    )


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_args(argv)
    console.print(
        f"reallocation benchmark: seed {opts.seed}, background {opts.rate:.0f} orders/s, "
        f"{opts.duration_s:.0f} s measured" + (", quick mode" if opts.quick else "")
    )
    folder = Path(tempfile.mkdtemp(prefix="ordergrid-bench-realloc-"))
    try:
        base = seed_database(folder, opts)
        latency = measure_latency(copy_of(base, "latency.db"), opts, folder)
        throughput = measure_throughput(copy_of(base, "throughput.db"), opts)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    record = {
        "bench": "reallocation",
        "backend": "sqlite",
        "mode": "embedded",
        "seed": opts.seed,
        "quick": opts.quick,
        "target_orders_per_s": opts.rate,
        **latency,
        **throughput,
    }
    table = Table(title="re-allocation after a failure (SQLite, embedded worker)")
    for column in ("trigger", "background orders/s", "probes", "p50 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    background = f"{record['background_orders_per_s']:.0f} of {opts.rate:.0f}"
    for trigger, prefix in (("rejection", ""), (f"expiry ({ACCEPT_S:.0f} s to accept)", "expiry_")):
        table.add_row(
            trigger,
            background,
            str(record[f"{prefix}probes"]),
            f"{record[f'{prefix}p50_ms']:.1f}",
            f"{record[f'{prefix}p99_ms']:.1f}",
            f"{record[f'{prefix}max_ms']:.1f}",
        )
    console.print(table)
    console.print(
        f"outcomes: rejection {record['probe_outcomes']}, expiry {record['expiry_outcomes']}; "
        f"throughput: {record['burst']} rejections drained by one worker (no HTTP, no "
        f"background load) at {record['reallocations_per_s']:.0f} re-allocations/s"
    )
    print_bench_lines([record])


if __name__ == "__main__":
    main()
