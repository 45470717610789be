"""Where the API's time goes under load: py-spy samples the server's processes (attached
by pid, without pausing them) and the stacks are summed by the code they were in.

By default only the thread holding the GIL is sampled: what the interpreter runs. Time
in C code that lets go of the GIL (SQLite's statements, psycopg waiting for PostgreSQL,
sockets) is then not in the profile; `waits=True` samples every thread that is not
idle, which counts those waits but also threads woken and waiting for the GIL.

Self time goes to the innermost frame's package (time in C code, such as a database
driver call, is counted at the Python frame that called it); inclusive time is shown for
the ordergrid functions the samples passed through. Without py-spy (the `dev` extra)
nothing is profiled and the benchmark says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from common import console

# Innermost frame -> where its time is counted; first match wins.
CATEGORIES: tuple[tuple[str, str], ...] = (
    (
        (
            r"^(\w+\.)?(do_execute|do_executemany|do_commit|do_rollback) \(.*sqlalchemy/engine/"
            r"|\bpsycopg\b|\bsqlite3\b"
        ),
        "database: statements and commits (driver, waiting)",
    ),
    (r"^<no Python frame>$", "no Python frame (native code, waiting for the GIL)"),
    (r"^SqlUnitOfWork\.__enter__ \(", "waiting for the write gate (SQLite: one writer)"),
    (r"^\w*Selector\.select \(", "event loop waiting for sockets"),
    (r"\bsqlalchemy\b", "SQLAlchemy (compiling, rows, pool)"),
    (r"ordergrid/domain/", "ordergrid domain (sourcing, orders)"),
    (r"ordergrid/service/", "ordergrid service layer"),
    (r"ordergrid/adapters/", "ordergrid adapters (repositories, documents)"),
    (r"ordergrid/entrypoints/", "ordergrid API (routes, schemas)"),
    (r"\b(urllib3|http/client|ssl)\b", "webhook HTTP client (urllib3)"),
    (r"\bpydantic", "pydantic (validation, serialisation)"),
    (r"\b(fastapi|starlette)\b", "FastAPI / Starlette"),
    (r"\b(uvicorn|h11|httptools|anyio|asyncio|selectors|socket)\b", "HTTP server, event loop"),
    (r"\bjson\b|orjson", "JSON"),
    (r"\bnumpy\b|highspy", "numpy / HiGHS"),
    (r"\b(threading|queue|concurrent)\b", "thread hand-offs and waits"),
)
NO_PYTHON = "<no Python frame>"
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
_ORDERGRID = re.compile(r"ordergrid/(?P<module>[\w/]+)\.py")


@dataclass(frozen=True)
class Profile:
    samples: int
    by_category: list[tuple[str, float]]  # (category, share of samples)
    ordergrid_inclusive: list[tuple[str, float]]  # (function, share of samples)
    other: list[tuple[str, float]]  # innermost frames counted as "other"


def available() -> bool:
    return _py_spy() is not None


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(
    pid: int, seconds: float, out: Path, waits: bool = False
) -> subprocess.Popen[bytes] | None:
    """py-spy recording `pid` and its children for `seconds`, into `out` (raw stacks)."""
    exe = _py_spy()
    if exe is None:
        return None
    cmd = [exe, "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
    cmd += [] if waits else ["--gil"]
    cmd += ["--rate", "50", "--duration", str(max(1, round(seconds))), "--format", "raw"]
    cmd += ["--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes] | None, out: Path) -> Profile | None:
    if proc is None:
        return None
    _, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or not out.exists():
        console.print(f"  [yellow]py-spy failed: {err.decode(errors='replace')[-300:]}[/yellow]")
        return None
    return summarise(out.read_text(errors="replace").splitlines())


def _category(frame: str) -> str:
    return next((name for pattern, name in CATEGORIES if re.search(pattern, frame)), "other")


def summarise(lines: list[str]) -> Profile:
    """Shares of samples by category (innermost frame) and by ordergrid function
    (inclusive), from py-spy's raw (collapsed) stacks."""
    by_category: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    other: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _python_frames(stack)
        total += count
        category = _category(frames[-1])
        by_category[category] += count
        if category == "other":
            other[frames[-1]] += count
        for name in {_ordergrid_function(f) for f in frames} - {None}:
            inclusive[str(name)] += count
    share = 1 / total if total else 0.0
    return Profile(
        total,
        [(name, n * share) for name, n in by_category.most_common()],
        [(name, n * share) for name, n in inclusive.most_common(12)],
        [(name, n * share) for name, n in other.most_common(5)],
    )


def _python_frames(stack: str) -> list[str]:
    """The Python frames of a stack, without py-spy's leading process frames (whose
    command lines may themselves hold semicolons)."""
    while stack.startswith("process "):  # the parent's, then each child's
        _, found, stack = stack.partition('";')
        if not found:
            stack = ""
    return stack.split(";") if stack else [NO_PYTHON]


def _ordergrid_function(frame: str) -> str | None:
    match = _FRAME.match(frame)
    module = _ORDERGRID.search(match["file"]) if match else None
    if match is None or module is None:
        return None
    return f"{module['module'].replace('/', '.')}.{match['func']}"


def print_profile(label: str, profile: Profile | None, waits: bool = False) -> None:
    if profile is None:
        console.print(f"  {label}: not profiled (py-spy missing or failed)")
        return
    what = "every busy thread" if waits else "the thread holding the GIL"
    console.print(
        f"  where the API's time goes ({label}, {what}, {profile.samples} samples, self time):"
    )
    for name, share in profile.by_category:
        if share >= 0.005:
            console.print(f"    {share:6.1%}  {name}")
    console.print("  most sampled frames counted as other:")
    for name, share in profile.other:
        console.print(f"    {share:6.1%}  {name}")
    console.print("  ordergrid functions, inclusive:")
    for name, share in profile.ordergrid_inclusive:
        console.print(f"    {share:6.1%}  {name}")
