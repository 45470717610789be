"""Channel availability: `GET /v1/availability` for 100 SKUs across every location.

    python benchmarks/availability.py [--quick] [--networks M,L] [--calls N] [--seed 7]
                                      [--no-http]

Per network: generate it (`networks.py`), load it into a fresh SQLite database the way
`promise.py` does (on L only the positions of the SKUs queried, with every location that
holds them), then time queries of 100 SKUs each (drawn by the order stream's popularity)
for channel `web`: network-wide delivery availability plus every pick-up store holding
them, through the service layer in this process and over HTTP against `ordergrid serve`
(one client, one call at a time); a second series adds a destination (the delivery
region: policy distance limits, stores within the pick-up radius). Prints a table and one
`BENCH {json}` line per network, mode and series. Nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.table import Table

from api_server import TOKEN, api_server
from common import console, free_port, latency_ms, one_call_at_a_time, print_bench_lines
from networks import NETWORKS, Network, build_network, generate_orders
from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import bootstrap
from ordergrid.service.availability import AvailabilityQuery, availability
from ordergrid.settings import Settings
from promise import NOW, load

SKUS_PER_CALL = 100


@dataclass(frozen=True)
class Query:
    skus: tuple[str, ...]
    destination: tuple[float, float] | None


@dataclass(frozen=True)
class Options:
    networks: tuple[str, ...]
    calls: int
    seed: int
    http: bool


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: network M, fewer calls")
    p.add_argument("--networks", help="comma-separated, of M, L (default M,L; M with --quick)")
    p.add_argument("--calls", type=int, help="timed calls per series (500; 100 with --quick)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-http", action="store_true", help="in-process only")
    a, ignored = p.parse_known_args(argv)
    if ignored:
        console.print(f"availability: ignoring arguments of other benchmarks: {' '.join(ignored)}")
    networks = tuple(
        n.strip().upper() for n in (a.networks or ("M" if a.quick else "M,L")).split(",")
    )
    return Options(networks, a.calls or (100 if a.quick else 500), a.seed, not a.no_http)


def queries(net: Network, count: int, seed: int, with_destination: bool) -> list[Query]:
    """100 distinct SKUs per query, as popular as the order stream makes them."""
    rng = np.random.default_rng(seed)
    stream = generate_orders(net, count * 40, seed)
    popular = [s for o in stream for s in o.skus]
    out = []
    for i in range(count):
        picked = list(dict.fromkeys(rng.choice(popular, size=4 * SKUS_PER_CALL).tolist()))
        skus = tuple(net.skus[s] for s in picked[:SKUS_PER_CALL])
        o = stream[i]
        out.append(Query(skus, (o.lat, o.lon) if with_destination else None))
    return out


def in_process(url: str, work: list[Query]) -> dict[str, Any]:
    app = bootstrap(Settings(database_url=url), clock=FixedClock(NOW))
    try:
        for q in work[:20]:
            availability(app.ctx, AvailabilityQuery(q.skus, "web", destination=q.destination))
        latencies, stores = [], 0
        gc.collect()
        started = time.perf_counter()
        for q in work:
            t0 = time.perf_counter()
            items = availability(
                app.ctx, AvailabilityQuery(q.skus, "web", destination=q.destination)
            )
            latencies.append(time.perf_counter() - t0)
            stores += sum(len(i.pickup) for i in items)
        wall = time.perf_counter() - started
    finally:
        app.close()
    return {
        "calls": len(work),
        "calls_per_s": round(len(work) / wall, 1),
        **latency_ms(latencies),
        "pickup_entries_per_call": round(stores / max(1, len(work)), 1),
    }


def _params(q: Query) -> dict[str, Any]:
    params: dict[str, Any] = {"skus": ",".join(q.skus), "channel": "web"}
    if q.destination is not None:
        params |= {"lat": q.destination[0], "lon": q.destination[1]}
    return params


def over_http(url: str, work: list[Query], log: Path) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        api_server(url, free_port(), 1, log) as server,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client,
    ):
        return one_call_at_a_time(
            lambda q: client.get("/v1/availability", params=_params(q)), work[:20], work
        )


def run_network(name: str, opts: Options, workdir: Path) -> list[dict[str, Any]]:
    net = build_network(NETWORKS[name], opts.seed)
    series = {
        "network-wide": queries(net, opts.calls, opts.seed, with_destination=False),
        "to a destination": queries(net, opts.calls, opts.seed + 1, with_destination=True),
    }
    wanted = {s for work in series.values() for q in work for s in q.skus}
    index = {sku: i for i, sku in enumerate(net.skus)}
    skus = range(len(net.skus)) if name != "L" else sorted(index[s] for s in wanted)
    url = f"sqlite:///{workdir / f'availability-{name}.db'}"
    app = bootstrap(Settings(database_url=url, auto_migrate=True))
    try:
        rows = load(app.engine, net, list(skus))
    finally:
        app.close()
    console.print(f"network {name}: {len(net.locations)} locations, {rows} rows loaded")
    records = []
    for label, work in series.items():
        base = {"bench": "availability", "network": name, "series": label, "seed": opts.seed}
        base |= {"skus_per_call": SKUS_PER_CALL, "locations": len(net.locations)}
        records.append({**base, "http": False, **in_process(url, work)})
        if opts.http:
            log = workdir / f"availability-{name}-{len(records)}.log"
            records.append({**base, "http": True, **over_http(url, work, log)})
    return records


def report(records: list[dict[str, Any]]) -> None:
    table = Table(title=f"GET /v1/availability, {SKUS_PER_CALL} SKUs x every location")
    for col in ("network", "series", "mode", "calls/s", "p50 ms", "p99 ms", "max ms"):
        table.add_column(col, justify="right")
    for r in records:
        table.add_row(
            r["network"],
            r["series"],
            "HTTP" if r["http"] else "in-process",
            f"{r['calls_per_s']:.0f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            f"{r['max_ms']:.2f}",
        )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_args(argv)
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ordergrid-availability-") as tmp:
        for name in opts.networks:
            records += run_network(name, opts, Path(tmp))
    report(records)
    print_bench_lines(records)


if __name__ == "__main__":
    main()
