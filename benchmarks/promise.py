"""Delivery promise: quotes per second and latency for 1-5-line carts on networks M and L.

    python benchmarks/promise.py [--quick] [--networks M,L] [--calls N] [--seed 7]
                                 [--processes N] [--full-l] [--no-http] [--profile]
                                 [--cold-cache]

Per network: generate it (`networks.py`, the sourcing benchmark's generator), load it into
a fresh SQLite database (migrated by the product; locations, products and positions by
bulk SQL inserts), generate carts from the network's order stream (lines capped at 5),
then time `quote_promise` through the service layer in this process (one thread, every
option: standard, express, next-day, same-day, pick-up and curbside at the nearest
stores), then the same in `--processes` processes at once (one per core by default; each
its own application on the same database, the carts dealt out between them: what the
machine quotes, as `serve --workers N` on PostgreSQL spreads it), and over HTTP against
`ordergrid serve` in its own process (one client, one call at a time). Network L holds
10M store positions; unless `--full-l` is given only the positions of the SKUs the carts
use are loaded (every location holding them, so each
quote sees exactly what it would see on the full network; the other SKUs' rows only make
the position index larger). Each application starts as `ordergrid serve` does: the
garbage collector tuned (`runtime.py`), then its stock and tag caches warmed (every
position, when the cache can hold them all: not on the full L); with `--cold-cache` they
are not, and each SKU is read at its first quote.
With `--profile`, the same carts are quoted once more under
cProfile on a fresh application (`promise_phases.py`): where a quote's time goes. Prints a
table and one `BENCH {json}` line per network and mode, last. Nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table
from sqlalchemy import Engine, insert

from api_server import TOKEN, api_server
from common import (
    Lockstep,
    console,
    free_port,
    latency_ms,
    one_call_at_a_time,
    print_bench_lines,
)
from networks import NETWORKS, Network, Order, build_network, generate_orders
from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.documents import location_doc
from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.entrypoints.runtime import tune_garbage_collector
from ordergrid.service.promise import Destination, PromiseLine, QuotePromise, quote_promise
from ordergrid.service.stock_warmup import warm_stock_cache
from ordergrid.settings import Settings
from promise_phases import print_phases, profiled

NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # a Monday, 10:00 on the US east coast
MAX_LINES = 5
CHUNK = 20_000


@dataclass(frozen=True)
class Options:
    quick: bool
    networks: tuple[str, ...]
    calls: int
    seed: int
    full_l: bool
    http: bool
    profile: bool
    processes: int
    warm: bool = True


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: network M, fewer calls")
    p.add_argument("--networks", help="comma-separated, of M, L (default M,L; M with --quick)")
    p.add_argument("--calls", type=int, help="timed calls per network and mode (3000; 500)")
    p.add_argument("--seed", type=int, default=7, help="seed of networks and carts")
    p.add_argument("--full-l", action="store_true", help="load all 10M positions of L")
    p.add_argument("--no-http", action="store_true", help="in-process only")
    p.add_argument("--profile", action="store_true", help="where a quote's time goes (cProfile)")
    p.add_argument(
        "--cold-cache",
        action="store_true",
        help="do not warm the caches first (serve warms them at start): each SKU is read "
        "from the database at its first quote",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="processes quoting at once in the second in-process run (default: one per "
        "core; 1 skips that run)",
    )
    # run_all.py passes every benchmark the same arguments: ignore the others' options.
    a, ignored = p.parse_known_args(argv)
    if ignored:
        console.print(f"promise: ignoring arguments of other benchmarks: {' '.join(ignored)}")
    quick = bool(a.quick)
    networks = tuple(
        n.strip().upper() for n in (a.networks or ("M" if quick else "M,L")).split(",")
    )
    calls = a.calls or (500 if quick else 3000)
    return Options(
        quick,
        networks,
        calls,
        a.seed,
        a.full_l,
        not a.no_http,
        bool(a.profile),
        a.processes,
        not a.cold_cache,
    )


def carts(net: Network, count: int, seed: int) -> list[Order]:
    """Carts of 1-5 lines: the network's order stream, longer orders cut to 5 lines."""
    out = []
    for o in generate_orders(net, count, seed):
        n = min(o.lines, MAX_LINES)
        out.append(Order(o.id, o.skus[:n], o.quantities[:n], o.lat, o.lon, o.postal_code))
    return out


def load(engine: Engine, net: Network, skus: Sequence[int]) -> int:
    """Locations, products and the positions of `skus` by bulk insert; rows written."""
    rows = 0
    with engine.begin() as conn:
        conn.execute(
            insert(t.locations),
            [
                {
                    "id": loc.id,
                    "name": loc.name,
                    "type": loc.type.value,
                    "status": loc.status.value,
                    "doc": location_doc(loc),
                    "updated_at": NOW,
                }
                for loc in net.locations
            ],
        )
        products = [
            {
                "sku": net.skus[s],
                "name": net.skus[s],
                "weight_kg": 1.0,
                "tags": sorted(net.tags[s]),
                "attributes": {},
                "updated_at": NOW,
            }
            for s in skus
        ]
        for i in range(0, len(products), CHUNK):
            conn.execute(insert(t.products), products[i : i + CHUNK])
        batch: list[dict[str, Any]] = []
        for s in skus:
            holder, on_hand = net.stock(s)
            sku = net.skus[s]
            for j, q in zip(holder.tolist(), on_hand.tolist(), strict=True):
                batch.append(
                    {
                        "location_id": net.ids[j],
                        "sku": sku,
                        "on_hand": q,
                        "reserved": 0,
                        "safety_stock": 0,
                    }
                )
            if len(batch) >= CHUNK:
                conn.execute(insert(t.positions), batch)
                rows += len(batch)
                batch = []
        if batch:
            conn.execute(insert(t.positions), batch)
            rows += len(batch)
    return rows + len(products) + len(net.locations)


def command(net: Network, cart: Order) -> QuotePromise:
    return QuotePromise(
        "web",
        tuple(PromiseLine(net.skus[s], q) for s, q in zip(cart.skus, cart.quantities, strict=True)),
        Destination("US", cart.postal_code, cart.lat, cart.lon),
    )


def body(net: Network, cart: Order) -> dict[str, Any]:
    cmd = command(net, cart)
    d = cmd.destination
    return {
        "channel": cmd.channel,
        "lines": [{"sku": x.sku, "quantity": x.quantity} for x in cmd.lines],
        "destination": {
            "postal_code": d.postal_code,
            "country": d.country,
            "lat": d.lat,
            "lon": d.lon,
        },
    }


def started(url: str, warm: bool) -> tuple[Application, float | None]:
    """An application on the database, its runtime tuned and its caches warmed as
    `serve` does at start, and how long warming took (None: not warmed, or too many
    positions for the cache)."""
    app = bootstrap(Settings(database_url=url), clock=FixedClock(NOW))
    tune_garbage_collector(app.settings)
    if not warm:
        return app, None
    began = time.perf_counter()
    skus = warm_stock_cache(app.ctx)
    return app, (round(time.perf_counter() - began, 2) if skus else None)


def in_process(
    url: str, net: Network, work: list[Order], warmup: int, warm: bool
) -> dict[str, Any]:
    app, warmed_s = started(url, warm)
    try:
        for cart in work[:warmup]:
            quote_promise(command(net, cart), app.ctx)
        timed = work[warmup:]
        latencies, options = [], 0
        gc.collect()
        began, cpu = time.perf_counter(), time.process_time()
        for cart in timed:
            t0 = time.perf_counter()
            q = quote_promise(command(net, cart), app.ctx)
            latencies.append(time.perf_counter() - t0)
            options += sum(o.available for o in q.options) + sum(p.available for p in q.pickup)
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    finally:
        app.close()
    return {
        "cache_warmed": warmed_s is not None,
        "warm_s": warmed_s,
        "calls": len(timed),
        "calls_per_s": round(len(timed) / wall, 1),
        **latency_ms(latencies),
        # This process's CPU time: steadier than wall time when other work shares the CPU.
        "cpu_ms_per_call": round(cpu * 1000 / max(1, len(timed)), 3),
        "available_options_per_call": round(options / max(1, len(timed)), 2),
    }


def _quoting(
    job: tuple[str, bool, list[QuotePromise], list[QuotePromise]], barrier: Any, out: Any
) -> None:
    """One of several processes: warm up on its own carts, wait for the others, quote."""
    url, warm_caches, warm, timed = job
    app, _ = started(url, warm_caches)
    try:
        for cmd in warm:
            quote_promise(cmd, app.ctx)
        gc.collect()
        barrier.wait()
        latencies = []
        began, cpu = time.monotonic(), time.process_time()
        for cmd in timed:
            t0 = time.perf_counter()
            quote_promise(cmd, app.ctx)
            latencies.append(time.perf_counter() - t0)
        out.put((began, time.monotonic(), time.process_time() - cpu, latencies))
    finally:
        app.close()


def in_processes(
    url: str, net: Network, work: list[Order], warmup: int, processes: int, warm_caches: bool
) -> dict[str, Any]:
    """`processes` processes quoting at once, the timed carts dealt out between them;
    calls/s over the span from the first start to the last finish."""
    warm = [command(net, c) for c in work[:warmup]]
    timed = [command(net, c) for c in work[warmup:]]
    jobs = [(url, warm_caches, warm, timed[i::processes]) for i in range(processes)]
    with Lockstep(_quoting, jobs) as quoting:
        results = quoting.release(timeout_s=600)
    span = max(r[1] for r in results) - min(r[0] for r in results)
    latencies = [x for r in results for x in r[3]]
    return {
        "processes": processes,
        "calls": len(latencies),
        "calls_per_s": round(len(latencies) / span, 1),
        **latency_ms(latencies),
        "cpu_ms_per_call": round(sum(r[2] for r in results) * 1000 / max(1, len(latencies)), 3),
    }


def profile(url: str, net: Network, work: list[Order], warmup: int, warm: bool) -> None:
    """The timed carts quoted again under cProfile, on a fresh application (its caches as
    the timed run's)."""
    app, _ = started(url, warm)
    try:
        for cart in work[:warmup]:
            quote_promise(command(net, cart), app.ctx)
        timed = work[warmup:]
        stats = profiled(lambda cart: quote_promise(command(net, cart), app.ctx), timed)
    finally:
        app.close()
    print_phases(stats, len(timed), net.spec.name)


def over_http(
    url: str, net: Network, work: list[Order], warmup: int, logs: Path, warm: bool
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    env = {"ORDERGRID_STOCK_CACHE_WARM": "true" if warm else "false"}
    log = logs / f"promise-{net.spec.name}.log"
    with (
        api_server(url, free_port(), 1, log, env) as server,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client,
    ):
        return one_call_at_a_time(
            lambda cart: client.post("/v1/promise", json=body(net, cart)),
            work[:warmup],
            work[warmup:],
        )


def run_network(name: str, opts: Options, workdir: Path) -> list[dict[str, Any]]:
    started = time.perf_counter()
    net = build_network(NETWORKS[name], opts.seed)
    warmup = max(50, opts.calls // 10)
    work = carts(net, opts.calls + warmup, opts.seed)
    full = name != "L" or opts.full_l
    skus = range(len(net.skus)) if full else sorted({s for c in work for s in c.skus})
    url = f"sqlite:///{workdir / f'promise-{name}.db'}"
    app = bootstrap(Settings(database_url=url, auto_migrate=True))
    try:
        rows = load(app.engine, net, list(skus))
    finally:
        app.close()
    loaded = time.perf_counter() - started
    console.print(
        f"network {name}: {len(net.locations)} locations, {len(skus)} SKUs loaded "
        f"({'all' if full else 'those the carts use'}), {rows} rows in {loaded:.1f} s"
    )
    base = {"bench": "promise", "network": name, "backend": "sqlite", "seed": opts.seed}
    base |= {"lines_max": MAX_LINES, "skus_loaded": len(skus), "full_network": full}
    one = in_process(url, net, work, warmup, opts.warm)
    records = [{**base, "http": False, "processes": 1, **one}]
    base["cache_warmed"] = one["cache_warmed"]
    if opts.processes > 1:
        several = in_processes(url, net, work, warmup, opts.processes, opts.warm)
        records.append({**base, "http": False, **several})
    if opts.http:
        served = over_http(url, net, work, warmup, workdir, opts.warm)
        records.append({**base, "http": True, **served})
    if opts.profile:
        profile(url, net, work, warmup, opts.warm)
    return records


def _mode(r: dict[str, Any]) -> str:
    if r["http"]:
        return "HTTP"
    n = r.get("processes", 1)
    return "in-process" if n == 1 else f"in-process, {n} processes"


def _caches(r: dict[str, Any]) -> str:
    if not r.get("cache_warmed"):
        return "cold"
    return f"warmed in {r['warm_s']:.1f} s" if r.get("warm_s") is not None else "warmed"


def report(records: list[dict[str, Any]]) -> None:
    table = Table(
        title="POST /v1/promise (targets: in-process >= 1500/s and p99 <= 25 ms; HTTP p99 <= 50 ms)"
    )
    columns = (
        "network",
        "mode",
        "SKUs loaded",
        "caches",
        "calls",
        "calls/s",
        "p50 ms",
        "p99 ms",
        "max ms",
    )
    for col in (*columns, "CPU ms/call"):
        table.add_column(col, justify="right")
    for r in records:
        table.add_row(
            r["network"],
            _mode(r),
            f"{r['skus_loaded']}{'' if r['full_network'] else ' (reduced)'}",
            _caches(r),
            str(r["calls"]),
            f"{r['calls_per_s']:.0f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            f"{r['max_ms']:.2f}",
            f"{r['cpu_ms_per_call']:.2f}" if "cpu_ms_per_call" in r else "",
        )
    console.print(table)
    for r in records:
        mode = _mode(r)
        goal = (
            (r["p99_ms"] <= 50) if r["http"] else (r["calls_per_s"] >= 1500 and r["p99_ms"] <= 25)
        )
        console.print(f"  {r['network']} {mode}: target {'met' if goal else 'MISSED'}")


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_args(argv)
    console.print(f"promise benchmark, seed {opts.seed}, {opts.calls} timed calls per mode")
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ordergrid-promise-") as tmp:
        for name in opts.networks:
            records += run_network(name, opts, Path(tmp))
    report(records)
    print_bench_lines(records)


if __name__ == "__main__":
    main()
