"""Process and CPU accounting from Linux /proc: who used how much CPU inside a window.

Linux /proc only; elsewhere every figure is None and the benchmark says so.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from common import Window

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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


def machine_busy_percent(machine_s: float | None, wall_s: float) -> float | None:
    """Busy CPU seconds of the whole machine over a span, as percent of all its cores."""
    cores = os.cpu_count() or 1
    pct = cpu_percent(machine_s, wall_s)
    return None if pct is None else round(pct / cores, 1)


# ------------------------------------------------------------ sampling over a window


class CpuSampler:
    """CPU used inside the window by the API processes, by PostgreSQL, by the whole machine.

    Processes are listed when the window opens and when it closes; figures are seconds
    of CPU (None where /proc is missing). PostgreSQL backends that both started and ended
    inside the window are missed, and their CPU shows as "other".
    """

    def __init__(
        self,
        server_pid: int | None,
        window: Window,
        counter: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.server_pid, self.window, self.counter = server_pid, window, counter
        self.counted: int | None = None  # how much `counter` rose inside the window
        self.server_s: float | None = None
        self.per_process_s: list[float] = []  # each API process, busiest first
        self.db_s: float | None = None
        self.machine_s: float | None = None
        self._thread: threading.Thread | None = None

    def start(self, released: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(released,), daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _server(self) -> list[int]:
        return [] if self.server_pid is None else process_tree(self.server_pid)

    def _db(self) -> list[int]:
        """Every PostgreSQL process: backends come and go as the pools open connections."""
        return pids_named("postgres")

    def _run(self, released: float) -> None:
        start, end = self.window.bounds(released)
        time.sleep(max(0.0, start - time.monotonic()))
        server0, db0 = cpu_seconds_by_pid(self._server()), cpu_seconds_by_pid(self._db())
        machine0, count0 = machine_busy_seconds(), self.counter()
        time.sleep(max(0.0, end - time.monotonic()))
        count1 = self.counter()
        if count0 is not None and count1 is not None:
            self.counted = count1 - count0
        server1 = cpu_seconds_by_pid(self._server())
        self.server_s = cpu_used_between(server0, server1)
        if server0 is not None and server1 is not None:
            self.per_process_s = sorted(
                (max(0.0, used - server0.get(pid, 0.0)) for pid, used in server1.items()),
                reverse=True,
            )
        self.db_s = cpu_used_between(db0, cpu_seconds_by_pid(self._db()))
        machine1 = machine_busy_seconds()
        if machine0 is not None and machine1 is not None:
            self.machine_s = machine1 - machine0

    def other_s(self, loadgen_s: float) -> float | None:
        """CPU seconds the rest of the machine used (this script, other programs)."""
        if self.machine_s is None or self.server_s is None:
            return None
        return max(0.0, self.machine_s - self.server_s - loadgen_s - (self.db_s or 0.0))
