"""Helpers shared by the benchmarks: statistics, CPU accounting, BENCH lines, ports.

Not a benchmark itself (`run_all.py` skips it).
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_ms(latencies_s: Iterable[float]) -> dict[str, float]:
    """p50, p99, p99.9 and max in milliseconds, rounded for reading."""
    ordered = sorted(latencies_s)
    return {
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "p999_ms": round(percentile(ordered, 99.9) * 1000, 2),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2),
    }


def print_bench_lines(records: Iterable[dict[str, Any]]) -> None:
    """The machine-readable results: one `BENCH {json}` line per configuration, last."""
    for record in records:
        print("BENCH " + json.dumps(record, separators=(", ", ": ")), flush=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.05) -> bool:
    """Poll `check` until it is true or `timeout_s` passed; returns the last answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval_s)
    return check()


# ------------------------------------------------------------------- CPU accounting
# Linux /proc only; elsewhere every figure is None and the benchmark says so.


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces: fields start after its closing parenthesis.
    return text[text.rindex(")") + 2 :].split()


def _children_of(pid: int) -> list[int]:
    found: list[int] = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants that are alive now."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children_of(current))
    return tree


def pids_named(command: str) -> list[int]:
    """Processes whose command name is `command` (e.g. every PostgreSQL backend)."""
    found: list[int] = []
    for entry in _PROC.glob("[0-9]*"):
        try:
            if (entry / "comm").read_text().strip() == command:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def cpu_seconds_by_pid(pids: Iterable[int]) -> dict[int, float] | None:
    """User + system CPU seconds used so far by each live process (None off Linux)."""
    if not _PROC.exists():
        return None
    used: dict[int, float] = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            used[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return used


def cpu_used_between(
    before: dict[int, float] | None, after: dict[int, float] | None
) -> float | None:
    """CPU seconds used between two readings of `cpu_seconds_by_pid` (None off Linux).

    A process found only in the second reading started in between: all its CPU counts.
    One that exited in between is missed (its CPU is gone from /proc), never negative.
    """
    if before is None or after is None:
        return None
    return sum(max(0.0, used - before.get(pid, 0.0)) for pid, used in after.items())


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores spent not idle since boot (None off Linux)."""
    try:
        first = (_PROC / "stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / _TICKS


def cpu_percent(seconds: float | None, wall_s: float) -> float | None:
    """CPU seconds over a wall-clock span as percent of one core."""
    if seconds is None or wall_s <= 0:
        return None
    return round(100 * seconds / wall_s, 1)
