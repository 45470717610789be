"""Shopify orders/create webhook: latency of a delivery against `POST /v1/orders`.

    python benchmarks/shopify_webhook.py [--quick] [--orders N] [--seed 7]

Generates network M (`networks.py`), loads it into a fresh SQLite database the way
`promise.py` does, and starts `ordergrid serve` with `ORDERGRID_SHOPIFY_WEBHOOK_SECRET`.
Each order of the network's stream (1-3 lines, shipped to its destination) is then sent
three times, one call at a time, interleaved so the machine's noise falls on all alike:

1. as a `POST /v1/orders` body (the baseline, bearer token);
2. as a signed Shopify `orders/create` delivery of the same lines and address: the body is
   the sample of `tests/samples/shopify_orders_create.json` (about 8 KB, every field Shopify
   sends) with the order's lines and address, so the signature check and the parse see a
   realistic document;
3. that delivery again (Shopify's retry), which finds the order placed by (2).

Shopify waits 5 s for an answer (then retries); the table shows each series' latency
and the connector's p50 against the baseline's. Prints one `BENCH {json}` line per
series, last. Nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

from api_server import TOKEN, api_server
from common import console, free_port, latency_ms, print_bench_lines
from networks import NETWORKS, Network, build_network
from order_bodies import network_bodies
from ordergrid.bootstrap import bootstrap
from ordergrid.settings import Settings
from promise import load

SECRET = "shopify-benchmark-secret"
SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "samples" / "shopify_orders_create.json"
PATH = "/v1/connectors/shopify/orders"
#: Series: the status each call must answer, else it counts as an error.
SERIES = {"orders_api": 201, "shopify_new": 201, "shopify_repeat": 200}


@dataclass(frozen=True)
class Options:
    orders: int
    warmup: int
    seed: int


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 150 orders")
    p.add_argument("--orders", type=int, help="timed orders (600; 150 with --quick)")
    p.add_argument("--seed", type=int, default=7, help="seed of the network and its orders")
    # run_all.py passes every benchmark the same arguments: ignore the others' options.
    a, ignored = p.parse_known_args(argv)
    if ignored:
        console.print(
            f"shopify_webhook: ignoring arguments of other benchmarks: {' '.join(ignored)}"
        )
    orders = a.orders or (150 if a.quick else 600)
    return Options(orders, max(20, orders // 10), a.seed)


def shopify_body(template: dict[str, Any], order: dict[str, Any], number: int) -> bytes:
    """The sample document carrying this order's lines and destination."""
    doc = json.loads(json.dumps(template))
    item = doc["line_items"][0]
    doc["id"] = 6_000_000_000_000 + number
    doc["name"] = f"#{10_000 + number}"
    doc["line_items"] = [
        item
        | {
            "id": 16_000_000_000_000 + number * 10 + k,
            "sku": line["sku"],
            "quantity": line["quantity"],
            "fulfillable_quantity": line["quantity"],
        }
        for k, line in enumerate(order["lines"])
    ]
    address = order["delivery"]["address"]
    doc["shipping_address"] |= {
        "zip": address["postal_code"],
        "latitude": address["lat"],
        "longitude": address["lon"],
    }
    return json.dumps(doc).encode()


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": "benchmark.myshopify.com",
    }


def calls(
    client: httpx.Client, template: dict[str, Any], order: dict[str, Any], number: int
) -> dict[str, Callable[[], httpx.Response]]:
    """The three sends of one order, by series, in the order they are made."""
    baseline = order | {"external_id": f"BASE-{number}"}
    body = shopify_body(template, order, number)
    headers = signed(body)
    deliver = lambda: client.post(PATH, content=body, headers=headers)  # noqa: E731
    return {
        "orders_api": lambda: client.post(
            "/v1/orders", json=baseline, headers={"Authorization": f"Bearer {TOKEN}"}
        ),
        "shopify_new": deliver,
        "shopify_repeat": deliver,
    }


def measure(base_url: str, orders: list[dict[str, Any]], warmup: int) -> dict[str, dict[str, Any]]:
    template = json.loads(SAMPLE.read_text(encoding="utf-8"))
    latencies: dict[str, list[float]] = {name: [] for name in SERIES}
    errors = dict.fromkeys(SERIES, 0)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for number, order in enumerate(orders):
            for name, call in calls(client, template, order, number).items():
                t0 = time.perf_counter()
                response = call()
                elapsed = time.perf_counter() - t0
                if response.status_code != SERIES[name]:
                    if number < warmup:
                        response.raise_for_status()
                    errors[name] += 1
                if number >= warmup:
                    latencies[name].append(elapsed)
    return {
        name: {"calls": len(latencies[name]), **latency_ms(latencies[name]), "errors": errors[name]}
        for name in SERIES
    }


def run(opts: Options, workdir: Path) -> list[dict[str, Any]]:
    started = time.perf_counter()
    net: Network = build_network(NETWORKS["M"], opts.seed)
    orders = network_bodies(net, opts.orders + opts.warmup, opts.seed)
    url = f"sqlite:///{workdir / 'shopify.db'}"
    app = bootstrap(Settings(database_url=url, auto_migrate=True))
    try:
        rows = load(app.engine, net, list(range(len(net.skus))))
    finally:
        app.close()
    console.print(
        f"network M: {len(net.locations)} locations, {len(net.skus)} SKUs, {rows} rows "
        f"loaded in {time.perf_counter() - started:.1f} s"
    )
    env = {"ORDERGRID_SHOPIFY_WEBHOOK_SECRET": SECRET}
    with api_server(url, free_port(), 1, workdir / "shopify-serve.log", env) as server:
        results = measure(server.base_url, orders, opts.warmup)
    base = {"bench": "shopify_webhook", "network": "M", "backend": "sqlite", "seed": opts.seed}
    baseline = results["orders_api"]["p50_ms"]
    return [
        {
            **base,
            "series": name,
            **r,
            "p50_vs_orders_api": round(r["p50_ms"] / baseline, 2) if baseline else None,
        }
        for name, r in results.items()
    ]


def report(records: list[dict[str, Any]]) -> None:
    table = Table(title="one call at a time over HTTP, SQLite, network M (Shopify waits 5000 ms)")
    for col in ("series", "calls", "p50 ms", "p99 ms", "max ms", "p50 / orders API", "errors"):
        table.add_column(col, justify="right")
    for r in records:
        table.add_row(
            r["series"],
            str(r["calls"]),
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            f"{r['max_ms']:.2f}",
            f"{r['p50_vs_orders_api']:.2f}",
            str(r["errors"]),
        )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_args(argv)
    console.print(
        f"shopify_webhook benchmark, seed {opts.seed}, {opts.orders} timed orders "
        f"(after {opts.warmup} to warm up)"
    )
    with tempfile.TemporaryDirectory(prefix="ordergrid-shopify-") as tmp:
        records = run(opts, Path(tmp))
    report(records)
    print_bench_lines(records)


if __name__ == "__main__":
    main()
