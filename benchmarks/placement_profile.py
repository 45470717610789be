"""Where the time of one order placement goes, in process (no HTTP).

    python benchmarks/placement_profile.py [--orders 2000] [--backend sqlite|postgresql|all]
                                           [--seed 7] [--no-profile] [--top 25]

Seeds network M (`networks.py`, loaded by the promise benchmark's bulk `load`) into a
fresh SQLite file or a scratch PostgreSQL database (on the server named by
ORDERGRID_TEST_POSTGRES_URL, dropped afterwards), then places 1-3-line orders one after
another through the message bus (`PlaceOrder`, home delivery), as the API would. Three
passes on the same database:

1. timed: orders/s and latency percentiles, nothing instrumented;
2. SQL: every statement run through SQLAlchemy timed by its cursor events, grouped by
   kind and table, so round trips per order and database time per order can be read. On
   SQLite the statements every transaction or order makes most (BEGIN, the counters, the
   stock cache's reads, the order's inserts) run straight on the driver connection
   (`adapters/db/driver.py`) and are not in this table; their time is in the phases;
3. profiled (cProfile): the inclusive time of each placement phase, per order. cProfile
   slows Python code more than it slows the database, so read its figures as shares.

Prints tables, then one `BENCH {json}` line per backend, last. Nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table
from sqlalchemy import event

from common import console, latency_ms, print_bench_lines, scratch_postgres
from networks import NETWORKS, Network, Order, build_network, generate_orders
from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.domain.network import Address
from ordergrid.service.commands import LineInput, PlaceOrder
from ordergrid.settings import Settings
from promise import NOW, load

MAX_LINES = 3
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

#: Placement phases: (label, file the function lives in, function name). Inclusive times;
#: nested phases (the engine inside sourcing) are listed under their parent.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("open unit of work", "adapters/db/uow.py", "__enter__"),
    ("replay check (idempotency, external id)", "service/orders.py", "_replay"),
    ("parse/validate, new order", "service/orders.py", "_new_order"),
    ("policy selection (all calls)", "service/sourcing.py", "policy_for"),
    ("hold rules", "service/orders.py", "_hold_by_rule"),
    ("batch window check", "service/batching.py", "wait_for_batch"),
    ("source_order (all below)", "service/sourcing.py", "source_order"),
    ("  view build / DB reads", "service/sourcing.py", "build_batch_view"),
    ("    stock positions read", "adapters/db/inventory_repo.py", "positions"),
    ("    stock rules (as_seen_by)", "service/availability.py", "as_seen_by"),
    ("  engine (domain source)", "domain/sourcing/decide.py", "source"),
    ("  record_decision", "service/sourcing.py", "record_decision"),
    ("    apply decision to order", "domain/allocation.py", "apply_decision"),
    ("    reservations + ledger", "service/stock.py", "apply_movements"),
    ("    explanation: candidates as columns", "domain/sourcing/engine.py", "candidate_columns"),
    ("    explanation: record", "domain/sourcing/decision.py", "as_record"),
    ("    decision row", "adapters/db/records_repo.py", "add"),
    ("  pegging to future supply", "service/pegging.py", "peg_waiting_units"),
    ("deadlines (timers)", "service/tracking.py", "track_deadlines"),
    ("order doc + fulfilment index + outbox", "adapters/db/orders_repo.py", "add"),
    ("  order document", "adapters/db/documents.py", "order_doc"),
    ("  outbox append", "adapters/db/outbox_repo.py", "append"),
    ("idempotency record", "adapters/db/records_repo.py", "put"),
    ("commit", "adapters/db/uow.py", "commit"),
    ("close unit of work", "adapters/db/uow.py", "__exit__"),
    ("whole command (bus)", "service/bus.py", "handle"),
)


@dataclass(frozen=True)
class Options:
    orders: int
    backends: tuple[str, ...]
    seed: int
    profile: bool
    top: int
    postgres_url: str


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=2000, help="orders per pass")
    p.add_argument("--quick", action="store_true", help="500 orders per pass")
    p.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="sqlite")
    p.add_argument("--seed", type=int, default=7, help="seed of the network and orders")
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile pass")
    p.add_argument("--top", type=int, default=0, help="also print the N costliest functions")
    a, _ = p.parse_known_args(argv)
    backends = ("sqlite", "postgresql") if a.backend == "all" else (a.backend,)
    url = os.environ.get("ORDERGRID_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    orders = 500 if a.quick else a.orders
    return Options(orders, backends, a.seed, not a.no_profile, a.top, url)


# ---------------------------------------------------------------------------- databases


@contextmanager
def scratch_database(backend: str, opts: Options, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'placement-profile.db'}"
        return
    with scratch_postgres(opts.postgres_url, "og_profile") as url:
        yield url


# ------------------------------------------------------------------------------ orders


def orders_for(net: Network, count: int, seed: int) -> list[Order]:
    """1-3-line orders from the network's seeded order stream."""
    picked = [o for o in generate_orders(net, count * 2, seed) if o.lines <= MAX_LINES]
    while len(picked) < count:
        picked += picked
    return picked[:count]


def command(net: Network, order: Order, tag: str) -> PlaceOrder:
    return PlaceOrder(
        external_id=f"{tag}-{order.id}",
        channel="web",
        method="ship",
        lines=tuple(
            LineInput(str(i + 1), net.skus[s], q)
            for i, (s, q) in enumerate(zip(order.skus, order.quantities, strict=True))
        ),
        address=Address(postal_code=order.postal_code, country="US", lat=order.lat, lon=order.lon),
        customer={"email": "shopper@example.com"},
    )


def place_all(app: Application, cmds: Sequence[PlaceOrder]) -> list[float]:
    latencies = []
    for cmd in cmds:
        t0 = time.perf_counter()
        app.bus.handle(cmd)
        latencies.append(time.perf_counter() - t0)
    return latencies


# ------------------------------------------------------------------------------ passes


def timed_pass(app: Application, cmds: Sequence[PlaceOrder]) -> dict[str, Any]:
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    latencies = place_all(app, cmds)
    wall = time.perf_counter() - started
    # CPU time of this process: on a machine shared with other work, steadier than wall
    # time (SQLite runs in this process; PostgreSQL's own work is not counted).
    cpu = time.process_time() - cpu_started
    return {
        "orders": len(cmds),
        "orders_per_s": round(len(cmds) / wall, 1),
        "cpu_ms_per_order": round(cpu * 1000 / len(cmds), 3),
        "orders_per_cpu_s": round(len(cmds) / cpu, 1),
    } | latency_ms(latencies)


_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def statement_kind(sql: str) -> str:
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    match = _TABLE.search(sql)
    return f"{verb} {match.group(1) if match else ''}".strip()


def sql_pass(app: Application, cmds: Sequence[PlaceOrder]) -> dict[str, list[float]]:
    """Statement count and time by kind over the pass (executemany counts once)."""
    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["og_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        entry = spent[statement_kind(statement)]
        entry[0] += 1
        entry[1] += time.perf_counter() - conn.info.pop("og_started", time.perf_counter())

    event.listen(app.engine, "before_cursor_execute", before)
    event.listen(app.engine, "after_cursor_execute", after)
    try:
        place_all(app, cmds)
    finally:
        event.remove(app.engine, "before_cursor_execute", before)
        event.remove(app.engine, "after_cursor_execute", after)
    return dict(spent)


def profiled_pass(app: Application, cmds: Sequence[PlaceOrder]) -> pstats.Stats:
    profiler = cProfile.Profile()
    profiler.enable()
    place_all(app, cmds)
    profiler.disable()
    return pstats.Stats(profiler)


def phase_times(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """(label, inclusive seconds, calls) per phase; recursion counted once."""
    table: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    found = []
    for label, path, name in PHASES:
        seconds, calls = 0.0, 0
        for (file, _, func), (_, ncalls, _, cumulative, _) in table.items():
            if func == name and file.replace("\\", "/").endswith(path):
                seconds += cumulative
                calls += ncalls
        found.append((label, seconds, calls))
    return found


# ------------------------------------------------------------------------------ report


def print_sql(spent: dict[str, list[float]], orders: int, backend: str) -> dict[str, float]:
    title = f"SQL through SQLAlchemy per order ({backend}, {orders} orders)"
    table = Table(title=title)
    for col in ("statement", "per order", "ms per order", "ms per statement"):
        table.add_column(col, justify="right" if col != "statement" else "left")
    rows = sorted(spent.items(), key=lambda kv: -kv[1][1])
    for kind, (count, seconds) in rows:
        table.add_row(
            kind,
            f"{count / orders:.2f}",
            f"{seconds * 1000 / orders:.3f}",
            f"{seconds * 1000 / max(1, count):.3f}",
        )
    statements = sum(c for c, _ in spent.values())
    seconds = sum(s for _, s in spent.values())
    table.add_row("all", f"{statements / orders:.2f}", f"{seconds * 1000 / orders:.3f}", "")
    console.print(table)
    return {
        "statements_per_order": round(statements / orders, 2),
        "sql_ms_per_order": round(seconds * 1000 / orders, 3),
    }


def print_phases(stats: pstats.Stats, orders: int, backend: str, top: int) -> None:
    phases = phase_times(stats)
    whole = next(s for label, s, _ in phases if label.startswith("whole")) or 1.0
    table = Table(title=f"Phases under cProfile ({backend}, inclusive, {orders} orders)")
    for col in ("phase", "calls per order", "ms per order", "share"):
        table.add_column(col, justify="right" if col != "phase" else "left")
    for label, seconds, calls in phases:
        table.add_row(
            label,
            f"{calls / orders:.2f}",
            f"{seconds * 1000 / orders:.3f}",
            f"{100 * seconds / whole:.1f}%",
        )
    console.print(table)
    if top:
        stats.sort_stats("tottime").print_stats(top)


def run_backend(backend: str, opts: Options, net: Network, workdir: Path) -> dict[str, Any]:
    cmds = [command(net, o, "p") for o in orders_for(net, opts.orders * 3 + 200, opts.seed)]
    warm, timed, sql, prof = (
        cmds[:200],
        cmds[200 : 200 + opts.orders],
        cmds[200 + opts.orders : 200 + 2 * opts.orders],
        cmds[200 + 2 * opts.orders :],
    )
    with scratch_database(backend, opts, workdir) as url:
        seed_app = bootstrap(Settings(database_url=url, auto_migrate=True))
        try:
            rows = load(seed_app.engine, net, range(len(net.skus)))
        finally:
            seed_app.close()
        console.print(f"[bold]{backend}[/bold]: network M seeded, {rows} rows")
        app = bootstrap(Settings(database_url=url), clock=FixedClock(NOW))
        try:
            place_all(app, warm)
            result = timed_pass(app, timed)
            console.print(
                f"  {result['orders']} orders: {result['orders_per_s']:.0f} orders/s, "
                f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, "
                f"max {result['max_ms']:.2f} ms; {result['cpu_ms_per_order']:.2f} ms CPU per "
                f"order in this process ({result['orders_per_cpu_s']:.0f} orders per CPU second)"
            )
            result |= print_sql(sql_pass(app, sql), len(sql), backend)
            if opts.profile:
                print_phases(profiled_pass(app, prof), len(prof), backend, opts.top)
        finally:
            app.close()
    return (
        {"bench": "placement_profile", "backend": backend, "network": "M"}
        | {
            "seed": opts.seed,
            "lines_max": MAX_LINES,
            "http": False,
            "processes": 1,
            "clients": 1,
        }
        | result
    )


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_args(argv)
    console.print(f"seed {opts.seed}; network M; 1-{MAX_LINES}-line orders, one at a time")
    net = build_network(NETWORKS["M"], opts.seed)
    with tempfile.TemporaryDirectory(prefix="og-profile-") as tmp:
        records = [run_backend(backend, opts, net, Path(tmp)) for backend in opts.backends]
    console.print(
        "The machine is shared with other work; figures vary from run to run. "
        "cProfile inflates Python time more than database time."
    )
    print_bench_lines(records)


if __name__ == "__main__":
    main()
