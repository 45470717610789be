"""What the placement benchmark measured, and how it is reported: the run's options and
configurations, each configuration's measurement, the progress lines, the table, the
notes and the `BENCH` records."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from common import Tally, console, latency_ms
from loadgen import MAX_LINES

BENCH = "placement"


@dataclass(frozen=True)
class Options:
    quick: bool
    backends: tuple[str, ...]
    clients: int
    seed: int
    warmup_s: float
    duration_s: float
    raw_duration_s: float
    postgres_url: str
    pg_processes: tuple[int, ...]
    loadgen_procs: int
    samples: int


@dataclass(frozen=True)
class Config:
    backend: str
    processes: int

    @property
    def label(self) -> str:
        return f"{self.backend} x{self.processes}"


@dataclass
class Measurement:
    config: Config
    http: Tally
    duration_s: float
    server_cpu_pct: float | None
    per_process_cpu_pct: list[float]
    loadgen_cpu_pct: float | None
    db_cpu_pct: float | None
    other_cpu_pct: float | None
    machine_busy_pct: float | None
    db_connects_per_s: float | None = None
    raw: RawRun | None = None

    @property
    def orders_per_s(self) -> float:
        return len(self.http.latencies) / self.duration_s

    @property
    def raw_per_s(self) -> float | None:
        return None if self.raw is None else len(self.raw.tally.latencies) / self.raw.duration_s


@dataclass(frozen=True)
class RawRun:
    """The bare-database replay: what it did, and the CPU its Python client and
    PostgreSQL used (100% = one core)."""

    tally: Tally
    duration_s: float
    client_cpu_pct: float | None
    db_cpu_pct: float | None


# ------------------------------------------------------------------------- progress


def pct(value: float | None) -> str:
    """A CPU share for reading (100% = one core), "n/a" when unknown."""
    return "n/a" if value is None else f"{value:.0f}%"


def print_http(m: Measurement) -> None:
    """The progress lines after the HTTP part of one configuration."""
    errors = sum(m.http.errors.values())
    console.print(
        f"  {m.orders_per_s:.1f} orders/s, {errors} errors; CPU (100% = one core): API "
        f"{pct(m.server_cpu_pct)}, load generator {pct(m.loadgen_cpu_pct)}, PostgreSQL "
        f"{pct(m.db_cpu_pct)}, rest of the machine {pct(m.other_cpu_pct)}"
        + (
            f" (busiest API processes: {', '.join(pct(v) for v in m.per_process_cpu_pct)})"
            if m.config.processes > 1
            else ""
        )
    )
    if m.db_connects_per_s is not None:
        console.print(f"  PostgreSQL connections opened: {m.db_connects_per_s:g}/s")


# ------------------------------------------------------------------------- reporting


def bench_record(m: Measurement, opts: Options) -> dict[str, Any]:
    raw = m.raw_per_s
    return {
        "bench": BENCH,
        "backend": m.config.backend,
        "processes": m.config.processes,
        "clients": opts.clients,
        "orders": len(m.http.latencies),
        "seed": opts.seed,
        "orders_per_s": round(m.orders_per_s, 1),
        **latency_ms(m.http.latencies),
        "errors": sum(m.http.errors.values()),
        "db_raw_txn_per_s": None if raw is None else round(raw, 1),
        "ratio": round(m.orders_per_s / raw, 3) if raw else None,
        "db_raw_p50_ms": latency_ms(m.raw.tally.latencies)["p50_ms"] if m.raw else None,
        "db_raw_client_cpu_pct": m.raw.client_cpu_pct if m.raw else None,
        "db_raw_pg_cpu_pct": m.raw.db_cpu_pct if m.raw else None,
        "lines_max": MAX_LINES,
        "duration_s": opts.duration_s,
        "quick": opts.quick,
        "loadgen_procs": opts.loadgen_procs,
        "server_cpu_pct": m.server_cpu_pct,
        "server_cpu_pct_by_process": m.per_process_cpu_pct,
        "loadgen_cpu_pct": m.loadgen_cpu_pct,
        "db_cpu_pct": m.db_cpu_pct,
        "other_cpu_pct": m.other_cpu_pct,
        "machine_busy_pct": m.machine_busy_pct,
        "db_new_connections_per_s": m.db_connects_per_s,
    }


def results_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="Order placement over HTTP vs the bare database (same writes)")
    columns = [
        ("backend", "backend"),
        ("API procs", "processes"),
        ("clients", "clients"),
        ("orders", "orders"),
        ("orders/s", "orders_per_s"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("p99.9 ms", "p999_ms"),
        ("errors", "errors"),
        ("DB txn/s", "db_raw_txn_per_s"),
        ("ratio", "ratio"),
        ("API CPU", "server_cpu_pct"),
        ("loadgen CPU", "loadgen_cpu_pct"),
        ("PG CPU", "db_cpu_pct"),
        ("other CPU", "other_cpu_pct"),
    ]
    for title, _ in columns:
        table.add_column(title, justify="left" if title == "backend" else "right")
    for r in records:
        table.add_row(*(_cell(key, r.get(key)) for _, key in columns))
    return table


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key.endswith("_pct"):
        return f"{value:.0f}%"
    return str(value)


def print_notes(measurements: list[Measurement], opts: Options) -> None:
    mix = Tally()
    for m in measurements:
        mix.merge(m.http)
    placed = max(1, len(mix.latencies))
    console.print(
        f"seed {opts.seed}; demo network build_network({opts.seed}); orders from "
        f"OrderStream(seed {opts.seed} + 1000 x load process), 1-{MAX_LINES} lines; "
        f"warm-up {opts.warmup_s:g} s, measured {opts.duration_s:g} s per configuration, "
        f"bare DB {opts.raw_duration_s:g} s; {opts.loadgen_procs} load generator process(es)."
    )
    console.print("lines per order: " + _shares(mix.lines, placed))
    console.print("delivery methods: " + _shares(mix.methods, placed))
    console.print("order status after placement: " + _shares(mix.statuses, placed))
    for m in measurements:
        if m.http.errors:
            console.print(f"errors {m.config.label}: {dict(m.http.errors)}")
        if m.raw is not None and m.raw.tally.errors:
            console.print(f"bare DB {m.config.label}: {dict(m.raw.tally.errors)}")
    console.print(
        "Bare DB = per transaction the same writes as the placements just made (conditional "
        "reservation UPDATE per line, ledger rows, decision, order document, fulfilment "
        "index, back-orders, events) through SQLAlchemy Core, same clients as threads in as "
        "many processes as API processes; no HTTP, no reads, no sourcing."
    )
    _print_cpu_warnings(measurements)


def _print_cpu_warnings(measurements: list[Measurement]) -> None:
    _print_uneven(measurements)
    _print_client_bound(measurements)
    _print_saturated(measurements)
    _print_noisy(measurements)


def _print_uneven(measurements: list[Measurement]) -> None:
    for m in measurements:
        shares = m.per_process_cpu_pct
        if m.config.processes > 1 and len(shares) > 1 and shares[0] > 2 * max(shares[-1], 1):
            console.print(
                f"[yellow]{m.config.label}: the API processes were loaded unevenly "
                f"({', '.join(pct(v) for v in shares)} CPU): they share one listening socket "
                "and the kernel handed most of the clients' keep-alive connections to one "
                "of them, which then bounds the rate.[/yellow]"
            )


def _print_client_bound(measurements: list[Measurement]) -> None:
    bound = [
        m.config.label
        for m in measurements
        if m.raw is not None
        and m.raw.db_cpu_pct is not None
        and (m.raw.client_cpu_pct or 0) > 2 * m.raw.db_cpu_pct
    ]
    if bound:
        console.print(
            f"The bare-DB client used more than twice PostgreSQL's CPU ({', '.join(bound)}): "
            "Python and SQLAlchemy issuing the statements, more than the database, set that "
            "rate, so DB txn/s is a floor for PostgreSQL itself and the ratio an upper bound."
        )


def _print_saturated(measurements: list[Measurement]) -> None:
    busy = [m.machine_busy_pct for m in measurements if m.machine_busy_pct is not None]
    cores = os.cpu_count() or 1
    if busy and max(busy) >= 90:
        console.print(
            f"[yellow]The machine's {cores} CPUs were (nearly) saturated "
            f"({max(busy):.0f}% busy at most): the load generator, the API and the database "
            "share them, so the figures are a floor for the API on its own hardware; the "
            "CPU columns show who used what (100% = one core).[/yellow]"
        )


def _print_noisy(measurements: list[Measurement]) -> None:
    noisy = [m for m in measurements if (m.other_cpu_pct or 0) > 25]
    if noisy:
        worst = max(m.other_cpu_pct or 0 for m in noisy)
        console.print(
            f"[yellow]Processes not followed through the window used up to {worst:.0f}% of a "
            f"core ({', '.join(m.config.label for m in noisy)}): other programs, or "
            "PostgreSQL backends that connected and went away inside it (see connections "
            "opened/s). If other programs, the figures are perturbed.[/yellow]"
        )


def _shares(counts: Counter[Any], total: int) -> str:
    return ", ".join(f"{k}: {100 * v / total:.1f}%" for k, v in sorted(counts.items()))
