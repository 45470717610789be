"""`ordergrid import inventory FILE`: a network's stock counts from a WMS export, through
the same service (and the same checks) as the bulk API, with a progress bar."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ordergrid.bootstrap import Application
from ordergrid.domain.errors import DomainError, InvalidInput
from ordergrid.domain.stock_counts import CountRow, SnapshotMode
from ordergrid.entrypoints.snapshot_feeds import FeedFormat, csv_rows, json_feed, ndjson_rows
from ordergrid.service.commands import Actor
from ordergrid.service.snapshot_import import ImportResult, ImportSnapshot

_SUFFIXES = {".csv": FeedFormat.CSV, ".json": FeedFormat.JSON}
_SUFFIXES |= {".ndjson": FeedFormat.NDJSON, ".jsonl": FeedFormat.NDJSON}
ACTOR = Actor("cli")


def feed_format(file: Path, given: FeedFormat | None) -> FeedFormat:
    """The format asked for, else the one the file name says (CSV when it says none)."""
    return given or _SUFFIXES.get(file.suffix.lower(), FeedFormat.CSV)


def count_lines(file: Path) -> int:
    lines = 0
    with file.open("rb") as f:
        while block := f.read(1 << 20):
            lines += block.count(b"\n")
    return lines


def _text_rows(file: Path, fmt: FeedFormat, as_of: datetime | None) -> Iterator[list[CountRow]]:
    with file.open(encoding="utf-8-sig", newline="") as f:
        if fmt is FeedFormat.CSV:
            yield from csv_rows(f, as_of)
        else:
            yield from ndjson_rows(f, as_of)


def command(
    file: Path,
    fmt: FeedFormat,
    mode: SnapshotMode,
    as_of: datetime | None,
    progress: Callable[[int], None] | None = None,
) -> ImportSnapshot:
    """The import command reading the file (again, should the transaction be retried)."""
    if fmt is not FeedFormat.JSON:
        return ImportSnapshot(
            lambda: _text_rows(file, fmt, as_of), mode, actor=ACTOR, progress=progress
        )
    try:
        document = json.loads(file.read_text(encoding="utf-8-sig"))
    except ValueError as exc:
        raise InvalidInput(f"not JSON: {exc}", code="invalid_body", field="file") from exc
    return replace(json_feed(document, as_of, mode, ACTOR), progress=progress)


def run(
    application: Application,
    file: Path,
    fmt: FeedFormat,
    mode: SnapshotMode,
    as_of: datetime | None,
    console: Console,
) -> int:
    """Import the file in one transaction; returns the exit code (2 when refused)."""
    started = time.perf_counter()
    # Lines, for the bar: one per row in CSV (after the header) and NDJSON.
    total = max(1, count_lines(file) - (1 if fmt is FeedFormat.CSV else 0))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("staging rows", total=total)

            def staged(rows: int) -> None:
                bar.update(task, completed=rows, total=max(total, rows))

            cmd = command(file, fmt, mode, as_of, staged)
            result: ImportResult = application.bus.handle(cmd)
    except DomainError as exc:
        field = exc.details.get("field")
        where = f" ({field})" if field else ""
        console.print(f"[red]{exc.code}: {exc.message}{where}[/red]")
        return 2
    _report(result, time.perf_counter() - started, console)
    return 0


def _report(result: ImportResult, seconds: float, console: Console) -> None:
    t = result.totals
    console.print(
        f"{result.rows} rows for {result.locations} locations ({result.mode.value}): "
        f"{t.applied} positions set, {t.stale} stale rows skipped, "
        f"{t.unlisted} unlisted positions counted as zero"
    )
    if t.stale_rows:
        console.print(f"first stale rows: {', '.join(map(str, t.stale_rows[:20]))}")
    console.print(f"{result.rows / max(seconds, 1e-9):,.0f} rows/s ({seconds:.1f} s)")
