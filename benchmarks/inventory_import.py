"""Bulk inventory snapshot import: rows/s for a network-wide count on SQLite and PostgreSQL.

    python benchmarks/inventory_import.py [--quick] [--locations N] [--skus N]
        [--backends sqlite,postgresql] [--seed S]

Generates a seeded count of every SKU at every location (default 1,000 x 1,000 =
1,000,000 rows) as a CSV file, then measures, per backend, the service path on a fresh
database (`first`: every position created), the same path again with a later `as_of`
(`reimport`: every position updated, with its ledger entry) and `ordergrid import
inventory` as a user runs it (`cli`: a new process, file parsing included). PostgreSQL
runs in a scratch database created and dropped here, on the server named by
ORDERGRID_BENCH_POSTGRES_URL or ORDERGRID_TEST_POSTGRES_URL (skipped when neither is set).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from common import console, print_bench_lines, scratch_postgres
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.domain.catalogue import Product
from ordergrid.domain.network import Address, Capability, Location, LocationType
from ordergrid.domain.stock_counts import SnapshotMode
from ordergrid.entrypoints.cli.inventory_import import command
from ordergrid.entrypoints.snapshot_feeds import FeedFormat
from ordergrid.settings import Settings

TARGET_ROWS_PER_S = 50_000
COUNTED = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def write_counts(path: Path, locations: int, skus: int, seed: int) -> int:
    """Every SKU at every location, on-hand drawn from a skewed distribution."""
    rng = np.random.default_rng(seed)
    sku_ids = [f"SKU-{n:06d}" for n in range(skus)]
    with path.open("w", encoding="utf-8") as f:
        f.write("location_id,sku,on_hand\n")
        for loc in range(locations):
            counts = rng.negative_binomial(2, 0.2, size=skus)
            f.write("".join(f"L-{loc:05d},{s},{q}\n" for s, q in zip(sku_ids, counts, strict=True)))
    return locations * skus


def seed_catalogue(app: Application, locations: int, skus: int) -> None:
    address = Address(city="Atlanta", postal_code="30301", country="US", lat=33.7, lon=-84.4)
    with app.ctx.uow() as uow:
        for loc in range(locations):
            uow.locations.put(
                Location(
                    f"L-{loc:05d}",
                    f"Location {loc}",
                    LocationType.STORE,
                    address,
                    frozenset({Capability.SHIP}),
                )
            )
        for n in range(skus):
            uow.products.put(Product(f"SKU-{n:06d}", f"Product {n}"))
        uow.commit()


def service_import(app: Application, file: Path, as_of: datetime) -> tuple[int, float]:
    started = time.perf_counter()
    result = app.bus.handle(command(file, FeedFormat.CSV, SnapshotMode.PARTIAL, as_of))
    return result.totals.applied, time.perf_counter() - started


def cli_import(url: str, file: Path, as_of: datetime) -> tuple[float, float]:
    """Wall time of the whole command (process start included) and the rows/s it printed."""
    cmd = [sys.executable, "-m", "ordergrid.entrypoints.cli.main", "import", "inventory"]
    cmd += [str(file), "--as-of", as_of.isoformat(), "--database-url", url]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)
    printed = re.search(r"([\d,]+) rows/s", " ".join(done.stdout.split()))
    return wall, float(printed.group(1).replace(",", "")) if printed else 0.0


def raw_load(app: Application, file: Path) -> float:
    """Seconds to write the same rows once into a bare keyed table (SQLite executemany,
    PostgreSQL COPY), no checks, no ledger: the floor of any import on this machine now."""
    with file.open(encoding="utf-8") as f:
        rows = [tuple(line.rstrip("\n").split(",")) for line in f][1:]
    table = "CREATE TABLE raw_counts (location_id VARCHAR(128), sku VARCHAR(128), "
    table += "on_hand INTEGER, PRIMARY KEY (location_id, sku))"
    started = time.perf_counter()
    with app.engine.begin() as conn:
        conn.exec_driver_sql(table)
        if app.engine.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy("COPY raw_counts FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            conn.exec_driver_sql("INSERT INTO raw_counts VALUES (?, ?, ?)", rows)
    seconds = time.perf_counter() - started
    with app.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE raw_counts")
    return seconds


def measure(
    backend: str, url: str, file: Path, rows: int, shape: tuple[int, int]
) -> list[dict[str, Any]]:
    app = bootstrap(Settings(database_url=url, auto_migrate=True))
    records: list[dict[str, Any]] = []
    try:
        seed_catalogue(app, *shape)
        baseline = rows / raw_load(app, file)
        for phase, as_of in (("first", COUNTED), ("reimport", COUNTED + timedelta(hours=1))):
            applied, seconds = service_import(app, file, as_of)
            assert applied == rows, (applied, rows)
            records.append(_record(backend, phase, rows, seconds))
    finally:
        app.close()
    wall, printed = cli_import(url, file, COUNTED + timedelta(hours=2))
    record = _record(backend, "cli", rows, wall)
    record["rows_per_s_printed"] = round(printed)
    records.append(record)
    for r in records:
        r["raw_rows_per_s"] = round(baseline)
        r["ratio"] = round(r["rows_per_s"] / baseline, 3)
    return records


def _record(backend: str, phase: str, rows: int, seconds: float) -> dict[str, Any]:
    return {
        "bench": "snapshot_import",
        "backend": backend,
        "phase": phase,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "target_met": rows / seconds >= TARGET_ROWS_PER_S,
    }


def postgres_server() -> str | None:
    return os.environ.get("ORDERGRID_BENCH_POSTGRES_URL") or os.environ.get(
        "ORDERGRID_TEST_POSTGRES_URL"
    )


def run_backend(
    backend: str, workdir: Path, file: Path, rows: int, shape: tuple[int, int]
) -> list[dict[str, Any]]:
    if backend == "sqlite":
        return measure(backend, f"sqlite:///{workdir / 'bench.db'}", file, rows, shape)
    server = postgres_server()
    if server is None:
        console.print("[yellow]PostgreSQL skipped: set ORDERGRID_BENCH_POSTGRES_URL[/yellow]")
        return []
    with scratch_postgres(server) as url:
        return measure(backend, url, file, rows, shape)


def report(records: list[dict[str, Any]]) -> None:
    table = Table(title="Snapshot import (rows/s; target ≥ 50,000)")
    for column in ("backend", "phase", "rows", "seconds", "rows/s", "raw rows/s", "ratio"):
        table.add_column(column, justify="right")
    for r in records:
        table.add_row(
            r["backend"],
            r["phase"],
            f"{r['rows']:,}",
            f"{r['seconds']:.1f}",
            f"{r['rows_per_s']:,}",
            f"{r['raw_rows_per_s']:,}",
            f"{r['ratio']:.2f}",
        )
    console.print(table)
    console.print(
        "first: positions created; reimport: every position updated with a later as_of; "
        "cli: `ordergrid import inventory`, wall time including process start. raw: the "
        "same rows written once into a bare keyed table in the same run (a machine "
        "baseline: the machine is shared, so compare ratios across runs)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 locations x 1,000 SKUs")
    parser.add_argument("--locations", type=int, default=None)
    parser.add_argument("--skus", type=int, default=1_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    locations = args.locations or (100 if args.quick else 1_000)
    console.print(f"seed {args.seed}: {locations:,} locations x {args.skus:,} SKUs")
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ordergrid-import-") as tmp:
        workdir = Path(tmp)
        file = workdir / "counts.csv"
        rows = write_counts(file, locations, args.skus, args.seed)
        console.print(f"{rows:,} rows, {file.stat().st_size / 1e6:.0f} MB of CSV")
        for backend in args.backends.split(","):
            records += run_backend(backend.strip(), workdir, file, rows, (locations, args.skus))
    report(records)
    print_bench_lines(records)


if __name__ == "__main__":
    main()
