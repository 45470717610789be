"""Future supply: what pegging costs an order, and how fast a receipt serves the orders
pegged to it.

    python benchmarks/supply.py [--quick] [--backend memory|sqlite|postgresql|all]
                                [--seed 7] [--postgres-url URL]

Per backend, one process, in-process through the message bus (no HTTP):

- placement: pre-orders (one line, SKU without stock anywhere) placed one after another,
  once under a policy that pegs them to incoming supply and once under one that does not
  (the baseline, same run): orders/s, p50/p99, and the ratio pegged / baseline;
- receipts: documents each pegged by `orders_per_receipt` orders, received in full one
  after another: each receipt allocates its pegged orders at the receiving location in
  one transaction; p50/p99 per receipt and orders served/s.

Quantities and documents come from a seeded generator (the seed is printed). Figures
depend on the machine and its load; the ratio is measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table

from common import console, latency_ms, print_bench_lines
from ordergrid.adapters.memory import (
    FixedClock,
    InMemoryStore,
    SequentialIds,
    StaticGeocoder,
    unit_of_work_factory,
)
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.domain.network import Address
from ordergrid.service.bus import MessageBus
from ordergrid.service.commands import (
    LineInput,
    PlaceOrder,
    ProductInput,
    PutLocation,
    PutPolicy,
    PutProducts,
)
from ordergrid.service.context import Context
from ordergrid.service.supply_commands import PutSupply, ReceiveSupply
from ordergrid.settings import Settings

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DCS = (("DC-E", 40.0, -75.0), ("DC-C", 41.8, -87.6), ("DC-W", 37.0, -120.0))


@dataclass(frozen=True)
class Options:
    quick: bool
    backends: tuple[str, ...]
    seed: int
    postgres_url: str | None

    @property
    def orders(self) -> int:
        return 300 if self.quick else 2000

    @property
    def receipts(self) -> int:
        return 30 if self.quick else 200

    @property
    def orders_per_receipt(self) -> int:
        return 10


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run (under a minute)")
    p.add_argument("--backend", default="all", choices=["memory", "sqlite", "postgresql", "all"])
    p.add_argument("--seed", type=int, default=7, help="seed of quantities and dates")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("ORDERGRID_BENCH_POSTGRES_URL"),
        help="an empty PostgreSQL database (postgresql runs only when given)",
    )
    a = p.parse_args(argv)
    backends = ("memory", "sqlite", "postgresql") if a.backend == "all" else (a.backend,)
    if a.postgres_url is None:
        backends = tuple(b for b in backends if b != "postgresql")
    return Options(a.quick, backends, a.seed, a.postgres_url)


class World:
    """A small network on one backend, driven through the bus."""

    def __init__(self, backend: str, opts: Options, workdir: Path) -> None:
        self.clock = FixedClock(START)
        self.app: Application | None = None
        if backend == "memory":
            ctx = Context(
                uow=unit_of_work_factory(InMemoryStore()),
                clock=self.clock,
                ids=SequentialIds(),
                geocoder=StaticGeocoder({}),
            )
            self.bus = MessageBus(ctx)
        else:
            url = f"sqlite:///{workdir / 'supply.db'}" if backend == "sqlite" else opts.postgres_url
            assert url is not None
            settings = Settings(database_url=url, auto_migrate=True, admin_token="bench-token")
            self.app = bootstrap(settings, clock=self.clock)
            self.bus = self.app.bus
        for loc, lat, lon in DCS:
            self.bus.handle(
                PutLocation(loc, loc, "dc", Address(lat=lat, lon=lon), frozenset({"ship"}))
            )

    def close(self) -> None:
        if self.app is not None:
            self.app.close()


def _policy(bus: MessageBus, allow: bool) -> None:
    doc: dict[str, Any] = {"name": "bench"}
    if allow:
        doc["future_supply"] = {"allow": True, "max_days": 30}
    bus.handle(PutPolicy("bench", doc, activate=True))


def _pre_order(bus: MessageBus, n: int, sku: str, quantity: int) -> None:
    bus.handle(
        PlaceOrder(
            external_id=f"{sku}-{n}",
            channel="web",
            method="ship",
            lines=(LineInput("1", sku, quantity),),
            address=Address(lat=39.0 + n % 5, lon=-90.0 - n % 7, country="US"),
        )
    )


def _timed(calls: int, call: Callable[[int], None]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    started = time.perf_counter()
    for n in range(calls):
        t0 = time.perf_counter()
        call(n)
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies


def measure_placement(world: World, opts: Options, rng: random.Random) -> dict[str, Any]:
    bus = world.bus
    bus.handle(PutProducts((ProductInput("PRE", "pre-order"), ProductInput("BASE", "baseline"))))
    expected = world.clock.now() + timedelta(days=10)
    # Room for every pre-order, spread over several documents and locations.
    for d in range(10):
        loc = DCS[d % len(DCS)][0]
        lines = (("PRE", opts.orders * 3), ("BASE", opts.orders * 3))
        bus.handle(PutSupply(f"PRE-PO-{d}", "purchase_order", loc, expected, lines))
    quantities = [rng.randint(1, 3) for _ in range(opts.orders)]
    _policy(bus, allow=False)
    base_s, base_lat = _timed(opts.orders, lambda n: _pre_order(bus, n, "BASE", quantities[n]))
    _policy(bus, allow=True)
    peg_s, peg_lat = _timed(opts.orders, lambda n: _pre_order(bus, n, "PRE", quantities[n]))
    pegged = {k: v for k, v in latency_ms(peg_lat).items() if k in ("p50_ms", "p99_ms")}
    return {
        "orders": opts.orders,
        "pegged_orders_per_s": round(opts.orders / peg_s, 1),
        "baseline_orders_per_s": round(opts.orders / base_s, 1),
        "ratio": round(base_s / peg_s, 3),
        **{f"pegged_{k}": v for k, v in pegged.items()},
        "baseline_p99_ms": latency_ms(base_lat)["p99_ms"],
    }


def measure_receipts(world: World, opts: Options, rng: random.Random) -> dict[str, Any]:
    bus = world.bus
    per = opts.orders_per_receipt
    skus = [f"R{i}" for i in range(opts.receipts)]
    bus.handle(PutProducts(tuple(ProductInput(s, s) for s in skus)))
    _policy(bus, allow=True)
    documents: list[tuple[str, int]] = []
    for i, sku in enumerate(skus):
        quantities = [rng.randint(1, 3) for _ in range(per)]
        total = sum(quantities)
        loc = DCS[i % len(DCS)][0]
        expected = world.clock.now() + timedelta(days=rng.randint(1, 20))
        bus.handle(PutSupply(f"RC-PO-{i}", "asn", loc, expected, ((sku, total),)))
        for n, q in enumerate(quantities):
            _pre_order(bus, i * per + n, sku, q)
        documents.append((sku, total))

    def receive(i: int) -> None:
        sku, total = documents[i]
        result = bus.handle(ReceiveSupply(f"RC-PO-{i}", f"RCV-{i}", ((sku, total),)))
        assert len(result.served) == per, "every pegged order is served"

    took, lat = _timed(opts.receipts, receive)
    timing = latency_ms(lat)
    return {
        "receipts": opts.receipts,
        "orders_per_receipt": per,
        "receipt_p50_ms": timing["p50_ms"],
        "receipt_p99_ms": timing["p99_ms"],
        "served_orders_per_s": round(opts.receipts * per / took, 1),
    }


def run(backend: str, opts: Options) -> dict[str, Any]:
    rng = random.Random(opts.seed)
    with tempfile.TemporaryDirectory() as tmp:
        world = World(backend, opts, Path(tmp))
        try:
            placement = measure_placement(world, opts, rng)
            receipts = measure_receipts(world, opts, rng)
        finally:
            world.close()
    return {"bench": "supply", "backend": backend, "seed": opts.seed, **placement, **receipts}


def report(records: list[dict[str, Any]]) -> None:
    table = Table(title="future supply (in-process, sequential)")
    for name in (
        "backend",
        "pre-orders/s pegged",
        "baseline/s",
        "ratio",
        "p99 ms pegged",
        "receipt p50 ms",
        "receipt p99 ms",
        "served orders/s",
    ):
        table.add_column(name, justify="right")
    for r in records:
        table.add_row(
            r["backend"],
            str(r["pegged_orders_per_s"]),
            str(r["baseline_orders_per_s"]),
            str(r["ratio"]),
            str(r["pegged_p99_ms"]),
            str(r["receipt_p50_ms"]),
            str(r["receipt_p99_ms"]),
            str(r["served_orders_per_s"]),
        )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_args(argv)
    console.print(f"seed {opts.seed}; backends {', '.join(opts.backends)}")
    records = [run(backend, opts) for backend in opts.backends]
    report(records)
    print_bench_lines(records)


if __name__ == "__main__":
    main()
