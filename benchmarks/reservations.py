"""Cart reservations in-process: hold, convert, release and expire on the demo network.

Carts come from the seeded demo order stream (1-3 lines, ship / same-day to a customer
address, or pick-up at a store) on the seeded demo network (10 DCs, 160 stores, 300
SKUs), through the message bus on SQLite (and PostgreSQL when `--postgres-url` names a
server). Per backend, one thread:

1. holds N carts (`PlaceReservation`: policy selection, the sourcing engine, the
   conditional reservations, the timer and the events in one transaction);
2. converts half of them into orders (`PlaceOrder` with `reservation_id`) and, as the
   baseline in the same run, places as many plain orders from the same stream;
3. releases a quarter, and lets the worker expire the rest after the clock moves on.

    python benchmarks/reservations.py [--quick] [--carts 2000] [--seed 7]
                                      [--postgres-url postgresql+psycopg://…]

Prints a table, then one `BENCH {json}` line per backend, last. No figure is asserted.
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from common import console, latency_ms, print_bench_lines, scratch_postgres
from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.demo.sample import OrderStream, build_network
from ordergrid.domain.errors import DomainError
from ordergrid.domain.network import Address
from ordergrid.entrypoints.cli.demo import load_network
from ordergrid.service.commands import LineInput, PlaceOrder, RunDueTimers
from ordergrid.service.reservation_commands import PlaceReservation, ReleaseReservation
from ordergrid.settings import Settings

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Run:
    backend: str
    hold_s: list[float]
    refused: int
    convert_s: list[float]
    plain_s: list[float]
    release_s: list[float]
    expired: int
    expire_seconds: float

    def record(self, seed: int) -> dict[str, Any]:
        holds = latency_ms(self.hold_s)
        convert = latency_ms(self.convert_s)
        plain = latency_ms(self.plain_s)
        total = sum(self.hold_s)
        return {
            "bench": "reservations",
            "backend": self.backend,
            "seed": seed,
            "carts": len(self.hold_s) + self.refused,
            "held": len(self.hold_s),
            "refused": self.refused,
            "holds_per_s": round(len(self.hold_s) / total, 1) if total else 0.0,
            "p50_ms": holds["p50_ms"],
            "p99_ms": holds["p99_ms"],
            "convert_p50_ms": convert["p50_ms"],
            "convert_p99_ms": convert["p99_ms"],
            "plain_order_p50_ms": plain["p50_ms"],
            "convert_vs_plain_p50": round(convert["p50_ms"] / plain["p50_ms"], 2)
            if plain["p50_ms"]
            else None,
            "release_p50_ms": latency_ms(self.release_s)["p50_ms"],
            "expired": self.expired,
            "expiries_per_s": round(self.expired / self.expire_seconds, 1)
            if self.expire_seconds
            else 0.0,
        }


def _address(body: dict[str, Any] | None) -> Address | None:
    if body is None:
        return None
    fields = ("line1", "city", "postal_code", "country", "lat", "lon")
    return Address(**{k: body.get(k) for k in fields})


def cart_of(order: dict[str, Any]) -> PlaceReservation:
    d = order["delivery"]
    return PlaceReservation(
        channel=order["channel"],
        lines=tuple((x["sku"], x["quantity"]) for x in order["lines"]),
        ttl_seconds=900,
        destination=_address(d.get("address")),
        pickup_location_id=d.get("pickup_location_id"),
    )


def order_of(order: dict[str, Any], reservation_id: str | None = None) -> PlaceOrder:
    d = order["delivery"]
    return PlaceOrder(
        external_id=order["external_id"],
        channel=order["channel"],
        method=d["method"],
        service_level=d.get("service_level", "standard"),
        address=_address(d.get("address")),
        pickup_location_id=d.get("pickup_location_id"),
        lines=tuple(
            LineInput(x["line_id"], x["sku"], x["quantity"], Decimal(str(x["unit_price"])))
            for x in order["lines"]
        ),
        reservation_id=reservation_id,
    )


def timed(work: Callable[[], Any], into: list[float]) -> Any:
    started = time.perf_counter()
    result = work()
    into.append(time.perf_counter() - started)
    return result


def hold_carts(app: Application, stream: OrderStream, n: int) -> tuple[list, list[float], int]:
    held: list[tuple[str, dict[str, Any]]] = []
    latencies: list[float] = []
    refused = 0
    for _ in range(n):
        body = stream.next_order()
        try:
            cart, _ = timed(lambda b=body: app.bus.handle(cart_of(b)), latencies)
        except DomainError:
            refused += 1
            continue
        held.append((cart.id, body))
    return held, latencies, refused


def measure(backend: str, url: str, carts: int, seed: int) -> Run:
    clock = FixedClock(START)
    app = bootstrap(Settings(database_url=url, auto_migrate=True), clock=clock)
    try:
        network = build_network(seed=seed)
        load_network(app, network, Console(file=io.StringIO()))
        stream = OrderStream(network, seed=seed)
        held, hold_s, refused = hold_carts(app, stream, carts)
        convert_s: list[float] = []
        plain_s: list[float] = []
        release_s: list[float] = []
        half, quarter = len(held) // 2, len(held) // 4
        for cart_id, body in held[:half]:
            timed(lambda b=body, c=cart_id: app.bus.handle(order_of(b, c)), convert_s)
            timed(lambda: app.bus.handle(order_of(stream.next_order())), plain_s)
        for cart_id, _ in held[half : half + quarter]:
            timed(lambda c=cart_id: app.bus.handle(ReleaseReservation(c)), release_s)
        clock.advance(timedelta(hours=1))
        started = time.perf_counter()
        expired = 0
        while ran := app.bus.handle(RunDueTimers(500)):
            expired += ran
        expire_seconds = time.perf_counter() - started
    finally:
        app.close()
    return Run(backend, hold_s, refused, convert_s, plain_s, release_s, expired, expire_seconds)


def show(runs: list[Run], records: list[dict[str, Any]]) -> None:
    table = Table(title="cart reservations, in-process, one thread")
    for column in (
        "backend",
        "carts",
        "held",
        "refused",
        "holds/s",
        "hold p50 / p99 ms",
        "convert p50 / p99 ms",
        "plain order p50 ms",
        "release p50 ms",
        "expired",
        "expiries/s",
    ):
        table.add_column(column, justify="right")
    for run, r in zip(runs, records, strict=True):
        table.add_row(
            run.backend,
            str(r["carts"]),
            str(r["held"]),
            str(r["refused"]),
            str(r["holds_per_s"]),
            f"{r['p50_ms']} / {r['p99_ms']}",
            f"{r['convert_p50_ms']} / {r['convert_p99_ms']}",
            str(r["plain_order_p50_ms"]),
            str(r["release_p50_ms"]),
            str(r["expired"]),
            str(r["expiries_per_s"]),
        )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="300 carts")
    p.add_argument("--carts", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--postgres-url", default=None, help="a server to create a database on")
    args = p.parse_args(argv)
    carts = 300 if args.quick else args.carts
    console.print(f"seed {args.seed}, {carts} carts per backend")
    folder = Path(tempfile.mkdtemp(prefix="ordergrid-bench-res-"))
    runs = []
    try:
        runs.append(measure("sqlite", f"sqlite:///{folder}/bench.db", carts, args.seed))
        if args.postgres_url:
            with scratch_postgres(args.postgres_url) as url:
                runs.append(measure("postgresql", url, carts, args.seed))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    records = [run.record(args.seed) for run in runs]
    show(runs, records)
    print_bench_lines(records)


if __name__ == "__main__":
    main()
