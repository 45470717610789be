"""Where the time of a quote goes: the inclusive time of each part of `quote_promise`
under cProfile, per call. cProfile slows Python code more than the database, so read the
figures as shares. Parts nest (an engine run is inside an option), so they do not add up."""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable, Sequence
from typing import Any

from rich.table import Table

from common import console

#: (label, file the function is in, function name); the first is the whole quote.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("whole quote", "service/promise.py", "quote_promise"),
    ("unit of work: open and close", "adapters/db/uow.py", "__enter__"),
    ("unit of work: open and close", "adapters/db/uow.py", "__exit__"),
    ("counters and active policies", "adapters/db/policies_repo.py", "active"),
    ("view: stock, tags, load, stock rules", "service/sourcing.py", "build_batch_view"),
    ("  of which stock positions (cache, reads)", "adapters/db/stock_cache.py", "by_sku"),
    ("  of which product tags", "adapters/db/catalogue_repo.py", "tags"),
    ("cart stock as columns", "domain/promise/quote.py", "stock"),
    ("ship options", "domain/promise/quote.py", "ship_options"),
    ("  of which engine runs", "domain/promise/quote.py", "_ship_run"),
    ("pick-up options", "domain/promise/pickup.py", "pickup_options"),
    ("  of which stores near the destination", "domain/promise/pickup.py", "stores_near"),
    ("  of which stores near the destination", "domain/promise/pickup.py", "within"),
    ("  of which what a store can hand over", "domain/promise/pickup.py", "_at_store"),
    (
        "  of which transfers (engine runs, arrivals)",
        "domain/promise/pickup.py",
        "_sourced_transfer",
    ),
    ("shipment dates (options and transfers)", "domain/promise/quote.py", "dates"),
    ("every engine run (sourcing.source)", "domain/sourcing/decide.py", "source"),
)


def profiled(call: Callable[[Any], object], items: Sequence[Any]) -> pstats.Stats:
    profiler = cProfile.Profile()
    profiler.enable()
    for item in items:
        call(item)
    profiler.disable()
    return pstats.Stats(profiler)


def phase_times(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """(label, inclusive seconds, calls) per phase, in the order of `PHASES` (functions
    under one label are added up)."""
    table: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    found: dict[str, tuple[float, int]] = {}
    for label, path, name in PHASES:
        seconds, calls = found.get(label, (0.0, 0))
        for (file, _, func), (_, ncalls, _, cumulative, _) in table.items():
            if func == name and file.replace("\\", "/").endswith(path):
                seconds += cumulative
                calls += ncalls
        found[label] = (seconds, calls)
    return [(label, s, c) for label, (s, c) in found.items()]


def print_phases(stats: pstats.Stats, calls: int, network: str) -> None:
    phases = phase_times(stats)
    whole = phases[0][1] or 1.0
    table = Table(title=f"Where a quote's time goes, network {network} (cProfile, {calls} calls)")
    for col in ("part", "calls per quote", "ms per quote", "share"):
        table.add_column(col, justify="right" if col != "part" else "left")
    for label, seconds, n in phases:
        table.add_row(
            label,
            f"{n / calls:.2f}",
            f"{seconds * 1000 / calls:.3f}",
            f"{100 * seconds / whole:.1f}%",
        )
    console.print(table)
