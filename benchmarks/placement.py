"""Order placement over HTTP, against the bare database rate for the same writes.

C concurrent HTTP clients (closed loop) place 1-3-line orders from the seeded demo order
stream on the seeded demo network, through `ordergrid serve` on 127.0.0.1, for SQLite
(1 API process) and PostgreSQL (1 and 2 API processes). In the same run, C threads
replay the writes of the orders just placed (reservations, ledger, decision, order
document, fulfilment index, events) straight through SQLAlchemy Core on a fresh copy of
the same database: no HTTP, no sourcing. The ratio shows what the API costs on top.

    python benchmarks/placement.py [--quick] [--backend sqlite|postgresql|all]
                                   [--clients 16] [--seed 7]

The load generator runs in its own process(es) so it does not share a GIL with anything;
on a 2-core machine it still shares the CPU with the server (and PostgreSQL), so the CPU
each used is printed next to the figures. Prints a table, then one `BENCH {json}` line per
configuration, last.

Its parts, in this folder: `databases.py` (the seeded databases and their copies),
`api_server.py` (`ordergrid serve` in a subprocess), `loadgen.py` (the HTTP clients'
process), `bare_db.py` (the bare-database replay), `sysstats.py` (CPU accounting),
`report.py` (options, measurements, table, notes, BENCH records) and `common.py`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from api_server import api_server
from bare_db import RawJob, Sample, raw_process, read_samples, top_up_stock
from common import (
    Lockstep,
    Tally,
    Window,
    console,
    free_port,
    merged,
    print_bench_lines,
    split,
)
from databases import Databases, open_databases, seed_all
from loadgen import LoadJob, load_process
from report import (
    Config,
    Measurement,
    Options,
    RawRun,
    bench_record,
    pct,
    print_http,
    print_notes,
    results_table,
)
from sysstats import CpuSampler, cpu_percent, machine_busy_percent

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run (under a minute)")
    p.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    p.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    p.add_argument("--seed", type=int, default=7, help="seed of the network and orders")
    p.add_argument("--duration", type=float, help="measured seconds per configuration")
    p.add_argument("--warmup", type=float, help="unmeasured seconds before measuring")
    p.add_argument("--raw-duration", type=float, help="measured seconds of the bare DB run")
    p.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="admin URL")
    p.add_argument("--pg-processes", default="1,2", help="API processes to try on PostgreSQL")
    p.add_argument("--loadgen-procs", type=int, default=1, help="load generator processes")
    p.add_argument("--samples", type=int, default=500, help="orders replayed by the DB run")
    a = p.parse_args(argv)
    backends = ("sqlite", "postgresql") if a.backend == "all" else (a.backend,)
    return Options(
        quick=a.quick,
        backends=backends,
        clients=max(1, a.clients),
        seed=a.seed,
        warmup_s=a.warmup if a.warmup is not None else (1.0 if a.quick else 3.0),
        duration_s=a.duration if a.duration is not None else (3.0 if a.quick else 20.0),
        raw_duration_s=a.raw_duration if a.raw_duration is not None else (1.5 if a.quick else 10.0),
        postgres_url=a.postgres_url,
        pg_processes=tuple(int(n) for n in a.pg_processes.split(",") if n.strip()),
        loadgen_procs=max(1, min(a.loadgen_procs, a.clients)),
        samples=max(1, a.samples),
    )


def configurations(opts: Options) -> list[Config]:
    configs = [Config("sqlite", 1)] if "sqlite" in opts.backends else []
    if "postgresql" in opts.backends:
        configs += [Config("postgresql", n) for n in opts.pg_processes]
    return configs


# ---------------------------------------------------------------------- measurements


def measure(config: Config, db: Databases, opts: Options, logs: Path) -> Measurement:
    """Orders over HTTP on a fresh copy of the seeded database, then the bare writes on
    the same database (its stock topped up) once the API has stopped."""
    console.print(f"[bold]{config.label}[/bold]: {opts.clients} clients over HTTP ...")
    started = time.monotonic()
    url = db.copy()
    try:
        log = logs / f"{config.backend}-{config.processes}.log"
        result = measure_http(config, url, db, opts, log)
        print_http(result)
        samples = read_samples(url, opts.samples)
        if not samples:
            console.print("  no order was placed: nothing to replay on the bare database")
            return result
        console.print(f"  bare database: {opts.clients} threads replaying {len(samples)} orders")
        result.raw = measure_raw(
            config, url, samples, opts.clients, opts.raw_duration_s, opts.quick
        )
    finally:
        db.drop(url)
    raw = result.raw
    console.print(
        f"  bare database: {result.raw_per_s:.0f} txn/s; CPU: its Python client "
        f"{pct(raw.client_cpu_pct)}, PostgreSQL {pct(raw.db_cpu_pct)} "
        f"({time.monotonic() - started:.0f} s for this configuration)"
    )
    return result


def measure_http(config: Config, url: str, db: Databases, opts: Options, log: Path) -> Measurement:
    """The load generator's clients against `ordergrid serve`, and the CPU each side used."""
    window = Window(opts.warmup_s, opts.duration_s)
    port = free_port()
    jobs = [
        LoadJob(f"http://127.0.0.1:{port}", opts.seed, i, n, window)
        for i, n in enumerate(split(opts.clients, opts.loadgen_procs))
    ]
    with (
        Lockstep(load_process, jobs) as load,
        api_server(url, port, config.processes, log) as server,
    ):
        cpu = CpuSampler(server.pid, window, lambda: db.sessions(url))
        results = load.release(opts.duration_s + 120, cpu.start)
        cpu.join()
    return _http_measurement(config, opts, merged(results), sum(r.cpu_s for r in results), cpu)


def _http_measurement(
    config: Config, opts: Options, tally: Tally, loadgen_s: float, cpu: CpuSampler
) -> Measurement:
    wall_s = opts.duration_s
    return Measurement(
        config,
        tally,
        wall_s,
        server_cpu_pct=cpu_percent(cpu.server_s, wall_s),
        per_process_cpu_pct=[
            cpu_percent(s, wall_s) or 0.0 for s in cpu.per_process_s[: config.processes]
        ],
        loadgen_cpu_pct=cpu_percent(loadgen_s, wall_s),
        db_cpu_pct=cpu_percent(cpu.db_s, wall_s) if config.backend != "sqlite" else None,
        other_cpu_pct=cpu_percent(cpu.other_s(loadgen_s), wall_s),
        machine_busy_pct=machine_busy_percent(cpu.machine_s, wall_s),
        db_connects_per_s=None if cpu.counted is None else round(cpu.counted / wall_s, 1),
    )


def measure_raw(
    config: Config, url: str, samples: list[Sample], threads: int, duration_s: float, quick: bool
) -> RawRun:
    """The same writes straight on the database, `threads` threads spread over as many
    processes as API processes, and the CPU the client and PostgreSQL used."""
    top_up_stock(url)
    window = Window(0.5 if quick else 1.0, duration_s)
    jobs = [
        RawJob(url, samples, i, n, window) for i, n in enumerate(split(threads, config.processes))
    ]
    cpu = CpuSampler(None, window)
    with Lockstep(raw_process, jobs) as replay:
        results = replay.release(duration_s + 120, cpu.start)
        cpu.join()
    return RawRun(
        merged(results),
        duration_s,
        client_cpu_pct=cpu_percent(sum(r.cpu_s for r in results), duration_s),
        db_cpu_pct=cpu_percent(cpu.db_s, duration_s) if config.backend != "sqlite" else None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    started = time.monotonic()
    opts = parse_args(argv)
    console.print(
        f"placement benchmark: seed {opts.seed}, {opts.clients} clients"
        + (", quick mode" if opts.quick else "")
    )
    measurements: list[Measurement] = []
    with ExitStack() as stack:
        dbs = open_databases(opts.backends, opts.postgres_url, stack)
        if dbs:
            logs = Path(tempfile.mkdtemp(prefix="ordergrid-bench-logs-"))
            stack.callback(shutil.rmtree, logs, True)
            seed_all(dbs, opts.seed)
            measurements = [
                measure(config, dbs[config.backend], opts, logs)
                for config in configurations(opts)
                if config.backend in dbs
            ]
    if not measurements:
        console.print("nothing was measured")
        return
    records = [bench_record(m, opts) for m in measurements]
    console.print(results_table(records))
    print_notes(measurements, opts)
    console.print(f"total time {time.monotonic() - started:.0f} s")
    print_bench_lines(records)


if __name__ == "__main__":
    main()
