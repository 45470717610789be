"""Helpers shared by the benchmarks: statistics, BENCH lines, ports, the console, and
processes of closed-loop threads started in lock-step.

Not a benchmark itself (`run_all.py` skips it).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import shutil
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from rich.console import Console
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SPAWN = multiprocessing.get_context("spawn")
T = TypeVar("T")
# Wide enough for the table when the output goes to a file or a pipe.
console = Console(highlight=False, width=max(150, shutil.get_terminal_size((150, 40)).columns))


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


def split(total: int, parts: int) -> list[int]:
    """`total` spread over `parts` as evenly as possible, none empty."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


# --------------------------------------------------------------- processes in lock-step


class Lockstep:
    """One spawned process per job, running `target(job, barrier, results)`.

    The children start at once, prepare (imports, data) while the caller does its own
    set-up, wait at the barrier, and count their time from its release.
    """

    def __init__(self, target: Callable[..., None], jobs: Sequence[Any]) -> None:
        self._barrier = SPAWN.Barrier(len(jobs) + 1, timeout=120)
        self._results = SPAWN.Queue()
        self._procs = [
            SPAWN.Process(target=target, args=(job, self._barrier, self._results), daemon=True)
            for job in jobs
        ]

    def __enter__(self) -> Self:
        for proc in self._procs:
            proc.start()
        return self

    def release(
        self, timeout_s: float, on_release: Callable[[float], None] | None = None
    ) -> list[Any]:
        """Let the children go (`on_release(now)` runs here too); their results."""
        self._barrier.wait()
        if on_release is not None:
            on_release(time.monotonic())
        return [self._results.get(timeout=timeout_s) for _ in self._procs]

    def __exit__(self, *_: object) -> None:
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join()


@dataclass(frozen=True)
class Window:
    """The measured span, in seconds after the barrier released everyone."""

    warmup_s: float
    duration_s: float

    def bounds(self, released: float) -> tuple[float, float]:
        start = released + self.warmup_s
        return start, start + self.duration_s


@dataclass
class Tally:
    """What one thread saw inside the window."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    lines: Counter[int] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.errors.update(other.errors)
        self.statuses.update(other.statuses)
        self.lines.update(other.lines)
        self.methods.update(other.methods)


@dataclass
class ChildResult:
    tally: Tally
    cpu_s: float


def merged(results: Iterable[ChildResult]) -> Tally:
    """The tallies of several children, as one."""
    return merged_tallies(r.tally for r in results)


Work = Callable[[Tally, float], None]


def run_in_window(threads: Sequence[threading.Thread], start: float, end: float) -> float:
    """Start the threads, wait for them to end; the CPU this process used inside the
    window (monotonic `start` to `end`)."""
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, start - time.monotonic()))
    cpu_start = time.process_time()
    time.sleep(max(0.0, end - time.monotonic()))
    cpu_s = time.process_time() - cpu_start
    for thread in threads:
        thread.join()
    return cpu_s


def merged_tallies(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def threads_in_window(count: int, work: Work, start: float, end: float) -> ChildResult:
    """Run `work(tally, end)` on `count` threads; CPU of this process inside the window."""
    tallies = [Tally() for _ in range(count)]
    threads = [threading.Thread(target=work, args=(tally, end)) for tally in tallies]
    cpu_s = run_in_window(threads, start, end)
    return ChildResult(merged_tallies(tallies), cpu_s)


def one_call_at_a_time(
    call: Callable[[T], Any], warm: Sequence[T], timed: Sequence[T]
) -> dict[str, Any]:
    """Calls/s and latency of `call` (which answers with an HTTP response) over `timed`,
    one at a time, after `warm` (each must succeed); non-200 answers count as errors."""
    for item in warm:
        call(item).raise_for_status()
    latencies, errors = [], 0
    started = time.perf_counter()
    for item in timed:
        t0 = time.perf_counter()
        r = call(item)
        latencies.append(time.perf_counter() - t0)
        errors += r.status_code != 200
    wall = time.perf_counter() - started
    return {
        "calls": len(timed),
        "calls_per_s": round(len(timed) / wall, 1),
        **latency_ms(latencies),
        "errors": errors,
    }


@contextmanager
def scratch_postgres(server: str, prefix: str = "ordergrid_bench") -> Iterator[str]:
    """A fresh database on the PostgreSQL server (an admin URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
