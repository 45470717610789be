"""Order placement under load: open loop at a fixed arrival rate, then closed-loop
saturation, on network M, for embedded SQLite (1 API process) and PostgreSQL (2 and 4 API
processes); webhook delivery (and NATS relay) lag at that load; a profile of the server.

    python benchmarks/load.py [--quick] [--backend sqlite|postgresql|all]
                              [--rate-sqlite 1000] [--rate-postgresql 800]
                              [--clients 16] [--pg-processes 2,4] [--no-profile]
                              [--profile-waits]

Per configuration, on a fresh copy of a database holding network M (`networks.py`, loaded
by bulk inserts), through `ordergrid serve --workers N` with a webhook subscribed to every
event at a local receiver process (`webhook_receiver.py`):

1. open loop (`openloop.py`): Poisson arrivals at the target rate from load-generator
   processes; latency counts from each order's scheduled send time, so queueing shows;
2. the webhook receiver is waited for until every event of the run has arrived: delivery
   throughput and lag (event created -> first arrival at the receiver, de-duplicated by
   event id); with ORDERGRID_NATS_URL, the relay's lag (events not yet in JetStream) too;
3. closed loop (`loadgen.py`): `--clients` clients back to back, the saturation rate,
   with py-spy sampling the server (`server_profile.py`): the thread holding the GIL, or
   with `--profile-waits` every busy thread (waits for the database included);
4. the bare database (`bare_db.py`): the same writes straight through SQLAlchemy Core,
   as many threads as clients: the ratio is what the API costs on top.

PostgreSQL: a scratch database on the server named by ORDERGRID_BENCH_POSTGRES_URL or
ORDERGRID_TEST_POSTGRES_URL (or --postgres-url), created and dropped by the run. Targets
(this 2-core machine): SQLite >= 1,000 orders/s with p99 <= 50 ms, PostgreSQL >= 800
orders/s with p99 <= 100 ms, judged on the open-loop phase. Prints a table, then one
`BENCH {json}` line per configuration and phase, last. Nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from api_server import TOKEN, Server, api_server
from bare_db import read_samples
from common import Lockstep, Window, console, free_port, merged, print_bench_lines, split
from databases import Databases, open_databases
from load_report import TARGETS, Phase, print_phase, record, results_table
from loadgen import LoadJob, load_process
from nats_relay import delete_stream
from network_db import network, seed_network
from openloop import OpenJob, open_process
from order_bodies import network_bodies
from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.engine import make_engine
from placement import measure_raw
from report import Config
from server_profile import finish, print_profile
from server_profile import start as start_profile
from stock_check import check_stock
from sysstats import CpuSampler, cpu_percent, machine_busy_percent
from webhook_receiver import Receiver

HEADERS = {"Authorization": f"Bearer {TOKEN}"}
_PHASES = itertools.count(1)
SUSTAINABLE_SHARE = 0.5


@dataclass(frozen=True)
class Options:
    quick: bool
    backends: tuple[str, ...]
    rates: dict[str, float]
    clients: int
    seed: int
    warmup_s: float
    duration_s: float
    raw_duration_s: float
    postgres_url: str
    pg_processes: tuple[int, ...]
    loadgen_procs: int
    open_threads: int
    orders: int
    nats_url: str | None
    profile: bool
    profile_waits: bool
    profile_dir: Path | None
    drain_s: float


def _postgres_url() -> str:
    env = os.environ
    return env.get("ORDERGRID_BENCH_POSTGRES_URL") or env.get(
        "ORDERGRID_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run (about two minutes)")
    p.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    p.add_argument("--rate-sqlite", type=float, default=TARGETS["sqlite"][0])
    p.add_argument("--rate-postgresql", type=float, default=TARGETS["postgresql"][0])
    p.add_argument("--clients", type=int, default=16, help="closed-loop clients")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--duration", type=float, help="measured seconds per phase")
    p.add_argument("--postgres-url", default=_postgres_url(), help="admin URL")
    p.add_argument("--pg-processes", default="2,4", help="API processes on PostgreSQL")
    p.add_argument("--loadgen-procs", type=int, default=2, help="load generator processes")
    p.add_argument("--open-threads", type=int, default=48, help="sending threads per process")
    p.add_argument("--no-profile", action="store_true", help="do not run py-spy")
    p.add_argument("--profile-dir", type=Path, help="keep py-spy's raw stacks here")
    p.add_argument(
        "--profile-waits",
        action="store_true",
        help="sample every busy thread, not only the one holding the GIL",
    )
    # run_all.py passes every benchmark the same arguments: ignore the others' options.
    a, ignored = p.parse_known_args(argv)
    if ignored:
        console.print(f"load: ignoring arguments of other benchmarks: {' '.join(ignored)}")
    duration = a.duration or (5.0 if a.quick else 30.0)
    return Options(
        quick=a.quick,
        backends=("sqlite", "postgresql") if a.backend == "all" else (a.backend,),
        rates={"sqlite": a.rate_sqlite, "postgresql": a.rate_postgresql},
        clients=max(1, a.clients),
        seed=a.seed,
        warmup_s=1.5 if a.quick else 5.0,
        duration_s=duration,
        raw_duration_s=3.0 if a.quick else 10.0,
        postgres_url=a.postgres_url,
        pg_processes=tuple(int(n) for n in a.pg_processes.split(",") if n.strip()),
        loadgen_procs=max(1, a.loadgen_procs),
        open_threads=max(1, a.open_threads),
        orders=20_000 if a.quick else 60_000,
        nats_url=os.environ.get("ORDERGRID_NATS_URL"),
        profile=not a.no_profile,
        profile_waits=a.profile_waits,
        profile_dir=a.profile_dir,
        drain_s=30.0 if a.quick else 120.0,
    )


def configurations(opts: Options) -> list[Config]:
    configs = [Config("sqlite", 1)] if "sqlite" in opts.backends else []
    if "postgresql" in opts.backends:
        configs += [Config("postgresql", n) for n in opts.pg_processes]
    return configs


def nats_stream(config: Config) -> str:
    """A stream of this run's own, deleted after the configuration."""
    return f"LOADBENCH_{os.getpid()}_{config.backend.upper()}_{config.processes}"


def server_env(opts: Options, config: Config) -> dict[str, str]:
    # The product's defaults otherwise: embedded workers polling every 0.2 s.
    env = {"ORDERGRID_WEBHOOK_ALLOW_PRIVATE": "1"}
    if config.backend == "postgresql":
        # Every process's pool plus its embedded worker stays well inside max_connections.
        env["ORDERGRID_DB_POOL_SIZE"] = str(max(4, 40 // config.processes))
    if opts.nats_url:
        stream = nats_stream(config)
        env |= {"ORDERGRID_NATS_URL": opts.nats_url, "ORDERGRID_NATS_STREAM": stream}
        env["ORDERGRID_NATS_SUBJECT_PREFIX"] = stream.lower()
    return env


# ------------------------------------------------------------------------------ phases


def open_phase(
    config: Config, server: Server, bodies: list[dict[str, Any]], opts: Options, rate: float
) -> tuple[Phase, float, float]:
    """Poisson arrivals at `rate` a second; also the measured window in Unix time."""
    window = Window(opts.warmup_s, opts.duration_s)
    shares = split(1000, opts.loadgen_procs)  # thousandths of the rate, per process
    # External ids of their own: an id sent in an earlier phase would be a replay (200).
    first = 10 * next(_PHASES)
    jobs = [
        OpenJob(
            server.base_url,
            bodies,
            first + i,
            rate * n / 1000,
            opts.open_threads,
            window,
            opts.seed,
        )
        for i, n in enumerate(shares)
    ]
    with Lockstep(open_process, jobs) as load:
        cpu = CpuSampler(server.pid, window, lambda: None)
        wall: list[float] = []
        results = load.release(
            opts.duration_s + 180, lambda now: (wall.append(time.time()), cpu.start(now))
        )
        cpu.join()
    since = wall[0] + opts.warmup_s
    phase = Phase(config, "open", merged(results), opts.duration_s, offered_per_s=rate)
    phase.late_sends = sum(r.late_sends for r in results)
    phase.served_per_s = sum(r.served for r in results) / opts.duration_s
    _cpu(phase, cpu, sum(r.cpu_s for r in results))
    return phase, since, since + opts.duration_s


def closed_phase(
    config: Config, server: Server, bodies: list[dict[str, Any]], opts: Options, logs: Path
) -> Phase:
    """`opts.clients` clients back to back; py-spy samples the server meanwhile."""
    window = Window(opts.warmup_s, opts.duration_s)
    jobs = [
        LoadJob(server.base_url, opts.seed, 100 + i, n, window, tuple(bodies))
        for i, n in enumerate(split(opts.clients, opts.loadgen_procs))
    ]
    out = (opts.profile_dir or logs) / f"profile-{config.backend}-{config.processes}.txt"
    profiler: list[subprocess.Popen[bytes] | None] = [None]

    def sample_the_window() -> None:
        profiler[0] = start_profile(server.pid, opts.duration_s, out, opts.profile_waits)

    def on_release(now: float) -> None:
        cpu.start(now)
        if opts.profile:
            threading.Timer(opts.warmup_s, sample_the_window).start()

    with Lockstep(load_process, jobs) as load:
        cpu = CpuSampler(server.pid, window, lambda: None)
        results = load.release(opts.duration_s + 120, on_release)
        cpu.join()
    phase = Phase(config, "closed", merged(results), opts.duration_s)
    _cpu(phase, cpu, sum(r.cpu_s for r in results))
    phase.profile = finish(profiler[0], out)
    return phase


def _cpu(phase: Phase, cpu: CpuSampler, loadgen_s: float) -> None:
    wall = phase.duration_s
    phase.server_cpu_pct = cpu_percent(cpu.server_s, wall)
    phase.db_cpu_pct = cpu_percent(cpu.db_s, wall) if phase.config.backend != "sqlite" else None
    phase.loadgen_cpu_pct = cpu_percent(loadgen_s, wall)
    phase.machine_busy_pct = machine_busy_percent(cpu.machine_s, wall)


# ------------------------------------------------------------------- events delivered


def subscribe(server: Server, receiver: Receiver) -> None:
    body = {"url": receiver.url, "events": ["*"], "secret": "load-benchmark-secret"}
    r = httpx.post(f"{server.base_url}/v1/webhooks", json=body, headers=HEADERS, timeout=10)
    r.raise_for_status()


def events_written(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.events)).scalar() or 0)
    finally:
        engine.dispose()


def nats_lag(server: Server) -> int | None:
    try:
        ready = httpx.get(f"{server.base_url}/readyz", headers=HEADERS, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return None
    nats = ready.get("nats") if isinstance(ready, dict) else None
    return int(nats["lag"]) if isinstance(nats, dict) and nats.get("lag") is not None else None


def drain(server: Server, receiver: Receiver, url: str, opts: Options) -> dict[str, Any]:
    """Wait until every event written so far reached the receiver (and NATS); how long
    that took after the load stopped, and what was left when giving up."""
    written = events_written(url)
    started = time.monotonic()
    hooks_done = nats_done = None
    while time.monotonic() - started < opts.drain_s:
        elapsed = round(time.monotonic() - started, 2)
        if hooks_done is None and receiver.received() >= written:
            hooks_done = elapsed
        if nats_done is None and (not opts.nats_url or nats_lag(server) == 0):
            nats_done = elapsed
        if hooks_done is not None and nats_done is not None:
            break
        time.sleep(0.2)
    left = {"webhook_undelivered": max(0, written - receiver.received())}
    if opts.nats_url:
        left["nats_lag_left"] = nats_lag(server)
    return (
        {"events_written": written, "webhook_drain_s": hooks_done}
        | ({"nats_drain_s": nats_done} if opts.nats_url else {})
        | left
    )


class LagSampler:
    """The NATS relay's lag (events not yet in JetStream), polled while a phase runs."""

    def __init__(self, server: Server, enabled: bool) -> None:
        self.samples: list[int] = []
        self._server, self._stop = server, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True) if enabled else None

    def __enter__(self) -> LagSampler:
        if self._thread is not None:
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            lag = nats_lag(self._server)
            if lag is not None:
                self.samples.append(lag)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


# ------------------------------------------------------------------------ configuration


def measure(
    config: Config, db: Databases, bodies: list[dict[str, Any]], opts: Options, logs: Path
) -> list[Phase]:
    """Closed loop (the saturation rate), open loop at the target rate and, when that is
    more than the server answered closed-loop, at half of what it did; then the bare DB."""
    console.print(f"[bold]{config.label}[/bold]")
    url = db.copy()
    try:
        log = logs / f"{config.backend}-{config.processes}.log"
        env = server_env(opts, config)
        with (
            Receiver() as receiver,
            api_server(url, free_port(), config.processes, log, env) as server,
        ):
            subscribe(server, receiver)
            closed = closed_phase(config, server, bodies, opts, logs)
            print_phase(closed)
            target = opts.rates[config.backend]
            # Half the saturation rate: headroom, as a sustained rate needs, for the
            # webhook and relay work the closed loop left behind and for bursts.
            sustained = round(SUSTAINABLE_SHARE * closed.orders_per_s)
            rates = [target] + ([sustained] * (closed.orders_per_s < target))
            opened = [
                open_with_events(config, server, receiver, url, bodies, opts, r) for r in rates
            ]
            arrivals = receiver.stop()
        for phase, (since, until) in opened:
            phase.webhooks |= arrivals.summary(since, until)
            _print_events(phase)
        if opts.profile:
            print_profile(config.label, closed.profile, opts.profile_waits)
        stock = check_stock(url)  # before the bare-DB replay tops the stock up
        closed.stock = asdict(stock) | {"ok": stock.ok}
        console.print(
            f"  no oversell: {stock.orders} orders, {stock.positions} positions with "
            f"reservations: {stock.oversold} oversold, {stock.drifting} whose reserved units "
            f"differ from what open fulfilments hold"
        )
        samples = read_samples(url, 500)
        raw = measure_raw(config, url, samples, opts.clients, opts.raw_duration_s, opts.quick)
    finally:
        db.drop(url)
        if opts.nats_url:
            asyncio.run(delete_stream(opts.nats_url, nats_stream(config)))
    phases = [closed, *(phase for phase, _ in opened)]
    for phase in phases:
        phase.raw_per_s = len(raw.tally.latencies) / raw.duration_s
    console.print(f"  bare database, same writes: {phases[0].raw_per_s:.0f} txn/s")
    return phases


def open_with_events(
    config: Config,
    server: Server,
    receiver: Receiver,
    url: str,
    bodies: list[dict[str, Any]],
    opts: Options,
    rate: float,
) -> tuple[Phase, tuple[float, float]]:
    """One open-loop phase, then every event so far delivered (waited for)."""
    with LagSampler(server, bool(opts.nats_url)) as lag:
        phase, since, until = open_phase(config, server, bodies, opts, rate)
    print_phase(phase)
    phase.webhooks = drain(server, receiver, url, opts)
    if opts.nats_url:
        phase.nats = {
            "lag_max": max(lag.samples, default=None),
            "drain_s": phase.webhooks.pop("nats_drain_s"),
            "lag_left": phase.webhooks.pop("nats_lag_left"),
        }
    return phase, (since, until)


def _print_events(phase: Phase) -> None:
    w, rate = phase.webhooks, f"{phase.offered_per_s:.0f}/s"
    console.print(
        f"  webhooks at {rate}: {w['events']} events of the window delivered "
        f"({w['per_s']}/s, {w['repeats']} repeats in the run), lag p50 {w['lag_p50_ms']} ms, "
        f"p99 {w['lag_p99_ms']} ms, max {w['lag_max_ms']} ms; all {w['events_written']} "
        f"events so far delivered {w['webhook_drain_s']} s after the load stopped "
        f"({w['webhook_undelivered']} left)"
    )
    if phase.nats:
        n = phase.nats
        console.print(
            f"  NATS relay at {rate}: up to {n['lag_max']} events behind during the load, "
            f"caught up {n['drain_s']} s after it ({n['lag_left']} left)"
        )


def seed_bases(dbs: dict[str, Databases], opts: Options) -> None:
    for name, db in dbs.items():
        seconds, skus, rows = seed_network(db.base_url, opts.seed, opts.orders, opts.quick)
        console.print(f"  {name}: network M, {skus} SKUs, {rows} rows in {seconds:.1f} s")


def main(argv: Sequence[str] | None = None) -> None:
    started = time.monotonic()
    opts = parse_args(argv)
    console.print(
        f"load benchmark: network M, seed {opts.seed}, {opts.duration_s:.0f} s per phase, "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        + (", quick mode" if opts.quick else "")
    )
    bodies = network_bodies(network(opts.seed), opts.orders, opts.seed)
    phases: list[Phase] = []
    with ExitStack() as stack:
        dbs = open_databases(opts.backends, opts.postgres_url, stack)
        logs = Path(tempfile.mkdtemp(prefix="ordergrid-load-"))
        if opts.profile_dir:
            opts.profile_dir.mkdir(parents=True, exist_ok=True)
        stack.callback(shutil.rmtree, logs, True)
        seed_bases(dbs, opts)
        for config in configurations(opts):
            if config.backend in dbs:
                phases += measure(config, dbs[config.backend], bodies, opts, logs)
    if not phases:
        console.print("nothing was measured")
        return
    records = [record(p, opts.seed, opts.quick) for p in phases]
    console.print(results_table(records))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    console.print(f"load average now {load}; total time {time.monotonic() - started:.0f} s")
    print_bench_lines(records)


if __name__ == "__main__":
    main()
