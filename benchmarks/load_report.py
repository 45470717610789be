"""What the load benchmark measured and how it is reported: one phase (open loop at a
fixed rate, or closed-loop saturation) of one configuration, the targets, the table and
the `BENCH` records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from common import Tally, console, latency_ms
from report import Config, pct
from server_profile import Profile

BENCH = "load"
#: (orders/s, p99 ms) this 2-core machine should sustain, by backend.
TARGETS = {"sqlite": (1000.0, 50.0), "postgresql": (800.0, 100.0)}
#: Poisson arrivals over a short window vary: sustained means within 3% of the rate.
SUSTAINED_SHARE = 0.97


@dataclass
class Phase:
    config: Config
    mode: str  # "open" (fixed arrival rate) or "closed" (saturation)
    tally: Tally
    duration_s: float
    offered_per_s: float | None = None  # open loop: the arrival rate asked for
    late_sends: int = 0  # open loop: sends that waited for a free thread
    served_per_s: float | None = None  # open loop: answers inside the window, any arrival
    server_cpu_pct: float | None = None
    db_cpu_pct: float | None = None
    loadgen_cpu_pct: float | None = None
    machine_busy_pct: float | None = None
    webhooks: dict[str, Any] = field(default_factory=dict)
    nats: dict[str, Any] = field(default_factory=dict)
    raw_per_s: float | None = None
    profile: Profile | None = None
    stock: dict[str, Any] = field(default_factory=dict)  # the no-oversell check, after

    @property
    def orders_per_s(self) -> float:
        return len(self.tally.latencies) / self.duration_s

    @property
    def errors(self) -> int:
        return sum(self.tally.errors.values())

    def target_met(self) -> bool:
        """At least the target rate, sustained, with the p99 within the target."""
        rate, p99_ms = TARGETS[self.config.backend]
        p99 = latency_ms(self.tally.latencies)["p99_ms"]
        achieved = self.orders_per_s >= SUSTAINED_SHARE * rate
        return achieved and p99 <= p99_ms and self.errors == 0


def record(p: Phase, seed: int, quick: bool) -> dict[str, Any]:
    rate, p99_ms = TARGETS[p.config.backend]
    return {
        "bench": BENCH,
        "backend": p.config.backend,
        "processes": p.config.processes,
        "mode": p.mode,
        "offered_per_s": p.offered_per_s,
        "orders": len(p.tally.latencies),
        "orders_per_s": round(p.orders_per_s, 1),
        **latency_ms(p.tally.latencies),
        "errors": p.errors,
        "error_kinds": dict(p.tally.errors.most_common(5)),
        "late_sends": p.late_sends,
        "served_per_s": p.served_per_s,
        "db_raw_txn_per_s": None if p.raw_per_s is None else round(p.raw_per_s, 1),
        "ratio": round(p.orders_per_s / p.raw_per_s, 3) if p.raw_per_s else None,
        "target_orders_per_s": rate,
        "target_p99_ms": p99_ms,
        "target_met": p.target_met(),
        "webhooks": p.webhooks or None,
        "nats": p.nats or None,
        "stock_check": p.stock or None,
        "server_cpu_pct": p.server_cpu_pct,
        "db_cpu_pct": p.db_cpu_pct,
        "loadgen_cpu_pct": p.loadgen_cpu_pct,
        "machine_busy_pct": p.machine_busy_pct,
        "duration_s": p.duration_s,
        "network": "M",
        "lines_max": 3,
        "seed": seed,
        "quick": quick,
    }


def print_phase(p: Phase) -> None:
    lat = latency_ms(p.tally.latencies)
    offered = (
        f" of {p.offered_per_s:.0f} offered (server answered {p.served_per_s:.0f}/s)"
        if p.offered_per_s and p.served_per_s is not None
        else ""
    )
    console.print(
        f"  {p.mode} loop: {p.orders_per_s:.0f} orders/s{offered}, p50 {lat['p50_ms']} ms, "
        f"p99 {lat['p99_ms']} ms, p99.9 {lat['p999_ms']} ms, {p.errors} errors"
        + (f" {dict(p.tally.errors.most_common(3))}" if p.errors else "")
    )
    console.print(
        f"    CPU (100% = one core): API {pct(p.server_cpu_pct)}, PostgreSQL "
        f"{pct(p.db_cpu_pct)}, load generator {pct(p.loadgen_cpu_pct)}; machine busy "
        f"{pct(p.machine_busy_pct)} of 200%"
        + (f"; {p.late_sends} sends waited for a free client thread" if p.late_sends else "")
    )


def _latencies(r: dict[str, Any]) -> list[str]:
    """p50, p99, p99.9 for a table row; "-" when no order of the span was answered."""
    if not r["orders"]:
        return ["-", "-", "-"]
    return [f"{r[k]:.1f}" for k in ("p50_ms", "p99_ms", "p999_ms")]


def results_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="Order placement under load, network M, 1-3-line orders")
    columns = ["configuration", "mode", "orders/s", "p50 ms", "p99 ms", "p99.9 ms", "errors"]
    columns += ["bare DB txn/s", "ratio", "webhook lag p99 ms", "target"]
    for name in columns:
        table.add_column(name, justify="right")
    for r in records:
        hooks = r["webhooks"] or {}
        rate, p99 = r["target_orders_per_s"], r["target_p99_ms"]
        verdict = ("met" if r["target_met"] else "MISSED") if r["mode"] == "open" else "-"
        table.add_row(
            f"{r['backend']} x{r['processes']}",
            r["mode"] + (f" @{r['offered_per_s']:.0f}/s" if r["offered_per_s"] else ""),
            f"{r['orders_per_s']:.0f}",
            *_latencies(r),
            str(r["errors"]),
            "-" if r["db_raw_txn_per_s"] is None else f"{r['db_raw_txn_per_s']:.0f}",
            "-" if r["ratio"] is None else f"{r['ratio']:.2f}",
            "-" if hooks.get("lag_p99_ms") is None else f"{hooks['lag_p99_ms']:.0f}",
            f"{verdict} (>= {rate:.0f}/s, p99 <= {p99:.0f} ms)" if verdict != "-" else "-",
        )
    return table
