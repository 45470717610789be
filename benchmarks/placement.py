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
"""

from __future__ import annotations

import argparse
import io
import itertools
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, Protocol, Self

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine, bindparam, create_engine, delete, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from common import (
    cpu_percent,
    cpu_seconds_by_pid,
    cpu_used_between,
    free_port,
    latency_ms,
    machine_busy_seconds,
    pids_named,
    print_bench_lines,
    process_tree,
    wait_until,
)
from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.engine import make_engine
from ordergrid.adapters.db.upsert import upsert
from ordergrid.demo.sample import OrderStream, build_network

BENCH = "placement"
TOKEN = "placement-benchmark-admin-token"
MAX_LINES = 3
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SPAWN = multiprocessing.get_context("spawn")
# Wide enough for the table when the output goes to a file or a pipe.
console = Console(highlight=False, width=max(150, shutil.get_terminal_size((150, 40)).columns))


@dataclass(frozen=True)
class Options:
    quick: bool
    backends: tuple[str, ...]
    clients: int
    seed: int
    warmup_s: float
    duration_s: float
    raw_duration_s: float
    postgres_url: str
    pg_processes: tuple[int, ...]
    loadgen_procs: int
    samples: int


@dataclass(frozen=True)
class Config:
    backend: str
    processes: int

    @property
    def label(self) -> str:
        return f"{self.backend} x{self.processes}"


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


# --------------------------------------------------------------------------- databases


class Databases(Protocol):
    """A seeded base database per backend and throw-away copies of it."""

    base_url: str

    def copy(self) -> str: ...

    def drop(self, url: str) -> None: ...

    def close(self) -> None: ...

    def sessions(self, url: str) -> int | None:
        """Connections ever opened to that database (PostgreSQL 14+), else None."""
        ...


class SqliteDatabases:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.base = workdir / "base.db"
        self.base_url = f"sqlite:///{self.base}"
        self._copies = 0

    def copy(self) -> str:
        self._copies += 1
        target = self.dir / f"copy{self._copies}.db"
        for suffix in ("", "-wal"):
            source = Path(f"{self.base}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{target}{suffix}")
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        path = make_url(url).database or ""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def sessions(self, url: str) -> int | None:
        del url  # SQLite has no server connections to count
        return None


class PostgresDatabases:
    """Fresh databases on the server: a seeded base, copies made with CREATE ... TEMPLATE."""

    def __init__(self, admin: Engine, admin_url: str) -> None:
        self.admin, self.admin_url = admin, admin_url
        self.prefix = f"ordergrid_bench_{uuid.uuid4().hex[:10]}"
        self._copies = 0
        self._created: list[str] = []
        self.base_url = self._create(f"{self.prefix}_base", template=None)

    def _url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None) -> str:
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with self.admin.connect() as conn:
            conn.execute(text(sql))
        self._created.append(name)
        return self._url(name)

    def copy(self) -> str:
        self._copies += 1
        return self._create(f"{self.prefix}_c{self._copies}", template=f"{self.prefix}_base")

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self._created:
            self._created.remove(name)

    def close(self) -> None:
        for name in list(self._created):
            self.drop(self._url(name))
        self.admin.dispose()

    def sessions(self, url: str) -> int | None:
        query = text("SELECT sessions FROM pg_stat_database WHERE datname = :name")
        try:
            with self.admin.connect() as conn:
                value = conn.execute(query, {"name": make_url(url).database}).scalar()
        except SQLAlchemyError:  # before PostgreSQL 14 the column does not exist
            return None
        return None if value is None else int(value)


def connect_postgres(admin_url: str) -> PostgresDatabases | None:
    """The PostgreSQL side, or None (with the reason printed) when it cannot be used."""
    host = make_url(admin_url).host or "localhost"
    if host not in LOOPBACK:
        console.print(f"[yellow]PostgreSQL host {host!r} is not loopback; skipping it[/yellow]")
        return None
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]
        console.print(f"[yellow]PostgreSQL unreachable at {host} ({reason}); skipping it[/yellow]")
        admin.dispose()
        return None
    return PostgresDatabases(admin, admin_url)


def seed_database(url: str, seed: int) -> float:
    """Migrate and load the demo network through the service layer; seconds taken."""
    # Imported here: the load and DB processes, which import this module, need none of it.
    from ordergrid.bootstrap import bootstrap  # noqa: PLC0415
    from ordergrid.entrypoints.cli.demo import load_network  # noqa: PLC0415
    from ordergrid.settings import Settings  # noqa: PLC0415

    started = time.perf_counter()
    app = bootstrap(Settings(database_url=url, admin_token=TOKEN, auto_migrate=True))
    try:
        load_network(app, build_network(seed=seed), Console(file=io.StringIO()))
    finally:
        app.close()
    return time.perf_counter() - started


def seed_all(dbs: dict[str, Databases], seed: int) -> None:
    """Seed every backend's base database, in parallel processes."""
    console.print(f"seeding the demo network (seed {seed}) into: {', '.join(dbs)} ...")
    with ProcessPoolExecutor(max_workers=len(dbs), mp_context=SPAWN) as pool:
        futures = {name: pool.submit(seed_database, db.base_url, seed) for name, db in dbs.items()}
        for name, future in futures.items():
            console.print(f"  {name}: seeded in {future.result():.1f} s")


def open_databases(opts: Options, stack: ExitStack) -> dict[str, Databases]:
    dbs: dict[str, Databases] = {}
    if "sqlite" in opts.backends:
        dbs["sqlite"] = SqliteDatabases(Path(tempfile.mkdtemp(prefix="ordergrid-bench-")))
    if "postgresql" in opts.backends and (pg := connect_postgres(opts.postgres_url)):
        dbs["postgresql"] = pg
    for db in dbs.values():
        stack.callback(db.close)
    return dbs


# ------------------------------------------------------------------------- API server


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


def _ready(base_url: str, log: Path, processes: int) -> bool:
    try:
        ok = httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
    started = log.read_text(errors="replace").count("Application startup complete")
    return ok and started >= processes


@contextmanager
def api_server(url: str, port: int, processes: int, log: Path) -> Iterator[Server]:
    """`ordergrid serve` in a subprocess on a loopback port, until the block ends."""
    base_url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "ordergrid.entrypoints.cli.main", "serve"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(processes)]
    cmd += ["--database-url", url]
    env = {**os.environ, "ORDERGRID_ADMIN_TOKEN": TOKEN}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        up = wait_until(lambda: proc.poll() is not None or _ready(base_url, log, processes), 60)
        if not up or proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"the API did not start:\n{tail}")
        yield Server(base_url, proc.pid)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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


Work = Callable[[Tally, float], None]


def _threads_in_window(count: int, work: Work, start: float, end: float) -> ChildResult:
    """Run `work(tally, end)` on `count` threads; CPU of this process inside the window."""
    tallies = [Tally() for _ in range(count)]
    threads = [threading.Thread(target=work, args=(tally, end)) for tally in tallies]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, start - time.monotonic()))
    cpu_start = time.process_time()
    time.sleep(max(0.0, end - time.monotonic()))
    cpu_s = time.process_time() - cpu_start
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return ChildResult(total, cpu_s)


# ----------------------------------------------------------------------- HTTP clients


@dataclass(frozen=True)
class LoadJob:
    base_url: str
    seed: int
    index: int
    clients: int
    window: Window


class OrderBodies:
    """The seeded demo order stream, limited to 1-3 lines, shared by a process's clients.

    Each load process draws from its own stream (seed + 1000 x index) and tags the
    external ids with its index, so ids never collide between processes.
    """

    def __init__(self, seed: int, index: int) -> None:
        self._stream = OrderStream(build_network(seed=seed), seed=seed + 1000 * index)
        self._suffix = f"-L{index}"
        self._lock = threading.Lock()

    def next(self) -> dict[str, Any]:
        with self._lock:
            body = self._stream.next_order()
            while len(body["lines"]) > MAX_LINES:
                body = self._stream.next_order()
        body["external_id"] += self._suffix
        return body


def _place_orders(job: LoadJob, bodies: OrderBodies, window_start: float) -> Work:
    """Closed loop per client. Clients connect one after the other over the first half of
    the warm-up, as real ones would not all in the same millisecond: a burst of connects
    lands mostly on one API process when several share the listening socket."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    arrivals = itertools.count()
    ramp_s = job.window.warmup_s / 2 / max(1, job.clients)

    def work(tally: Tally, end: float) -> None:
        time.sleep(ramp_s * next(arrivals))
        with httpx.Client(base_url=job.base_url, headers=headers, timeout=30) as client:
            while time.monotonic() < end:
                body = bodies.next()
                sent = time.monotonic()
                outcome, status = _post_order(client, body)
                done = time.monotonic()
                if window_start <= done <= end:
                    _count(tally, body, done - sent, outcome, status)

    return work


def _post_order(client: httpx.Client, body: dict[str, Any]) -> tuple[str | None, str]:
    """(error label or None, order status) for one POST /v1/orders."""
    try:
        response = client.post("/v1/orders", json=body)
    except httpx.HTTPError as exc:
        return type(exc).__name__, ""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 201:
        error = answer.get("error") if isinstance(answer, dict) else None
        code = error.get("code", "") if isinstance(error, dict) else ""
        return f"{response.status_code} {code}".strip(), ""
    return None, str(answer.get("status", "")) if isinstance(answer, dict) else ""


def _count(
    tally: Tally, body: dict[str, Any], latency: float, error: str | None, status: str
) -> None:
    if error is not None:
        tally.errors[error] += 1
        return
    tally.latencies.append(latency)
    tally.statuses[status] += 1
    tally.lines[len(body["lines"])] += 1
    tally.methods[body["delivery"]["method"]] += 1


def load_process(job: LoadJob, barrier: Barrier, results: Any) -> None:
    """One load generator process: `job.clients` threads, one httpx.Client each."""
    bodies = OrderBodies(job.seed, job.index)
    barrier.wait()
    start, end = job.window.bounds(time.monotonic())
    results.put(_threads_in_window(job.clients, _place_orders(job, bodies, start), start, end))


# ------------------------------------------------------------------ the bare DB writes


@dataclass(frozen=True)
class Sample:
    """The writes one real placement made, read back from the database it went to."""

    channel: str
    status: str
    doc: dict[str, Any]
    explanation: dict[str, Any]
    reservations: tuple[tuple[str, str, int], ...]  # (location, sku, quantity), sorted
    fulfilments: tuple[str, ...]  # location of each fulfilment
    backorders: tuple[tuple[str, str, int], ...]  # (line_id, sku, quantity)
    events: tuple[tuple[str, str | None, dict[str, Any]], ...]  # (type, actor, data)


def read_samples(url: str, limit: int) -> list[Sample]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(t.orders).order_by(t.orders.c.id).limit(limit)).all()
            return [_sample(conn, row) for row in rows]
    finally:
        engine.dispose()


def _sample(conn: Connection, row: Any) -> Sample:
    decision = conn.execute(
        select(t.decisions.c.explanation).where(t.decisions.c.order_id == row.id).limit(1)
    ).scalar()
    events = conn.execute(
        select(t.events.c.type, t.events.c.actor, t.events.c.data)
        .where(t.events.c.order_id == row.id)
        .order_by(t.events.c.position)
    ).all()
    doc = row.doc
    reservations = sorted(
        (f["location_id"], line["sku"], line["quantity"])
        for f in doc["fulfilments"]
        for line in f["lines"]
    )
    return Sample(
        channel=row.channel,
        status=row.status,
        doc=doc,
        explanation=decision or {},
        reservations=tuple(reservations),
        fulfilments=tuple(f["location_id"] for f in doc["fulfilments"]),
        backorders=tuple(
            (x["line_id"], x["sku"], x["backordered"]) for x in doc["lines"] if x["backordered"]
        ),
        events=tuple((e.type, e.actor, e.data) for e in events),
    )


P = t.positions
_RESERVE = (
    update(P)
    .where(P.c.location_id == bindparam("loc"), P.c.sku == bindparam("b_sku"))
    .where(P.c.on_hand - P.c.reserved - P.c.safety_stock >= bindparam("q"))
    .values(reserved=P.c.reserved + bindparam("q"))
    .returning(P.c.on_hand, P.c.reserved)
)
_DELETE_BACKORDERS = delete(t.backorders).where(t.backorders.c.order_id == bindparam("oid"))


def replay_placement(conn: Connection, s: Sample) -> bool:
    """The writes of one placement, in the product's order; False if a reservation missed."""
    now = datetime.now(UTC)
    order_id = uuid.uuid4().hex
    fulfilment_ids = {loc: uuid.uuid4().hex for loc in s.fulfilments}
    ledger, missed = [], False
    for loc, sku, quantity in s.reservations:
        row = conn.execute(_RESERVE, {"loc": loc, "b_sku": sku, "q": quantity}).first()
        if row is None:
            missed = True
            continue
        ledger.append(_ledger_row(loc, sku, quantity, row, now, fulfilment_ids[loc]))
    if ledger:
        conn.execute(t.ledger.insert(), ledger)
    conn.execute(
        t.decisions.insert(),
        {"id": uuid.uuid4().hex, "order_id": order_id, "at": now, "explanation": s.explanation},
    )
    conn.execute(
        t.orders.insert(),
        {
            "id": order_id,
            "channel": s.channel,
            "external_id": f"RAW-{order_id}",
            "status": s.status,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "doc": s.doc,
        },
    )
    _index_rows(conn, s, order_id, fulfilment_ids, now)
    return not missed


def _ledger_row(
    loc: str, sku: str, quantity: int, after: Any, now: datetime, ref: str
) -> dict[str, Any]:
    return {
        "location_id": loc,
        "sku": sku,
        "at": now,
        "on_hand_delta": 0,
        "reserved_delta": quantity,
        "on_hand_after": after.on_hand,
        "reserved_after": after.reserved,
        "reason": "reservation",
        "ref": ref,
        "actor": "admin",
    }


def _index_rows(
    conn: Connection, s: Sample, order_id: str, fulfilment_ids: dict[str, str], now: datetime
) -> None:
    """Fulfilment index, back-order rows and outbox events, as `SqlOrders.add` writes them."""
    rows = [
        {"id": fid, "order_id": order_id, "location_id": loc, "status": "released"}
        | {"updated_at": now}
        for loc, fid in fulfilment_ids.items()
    ]
    upsert(conn, t.fulfilments, rows, ["id"], ["status", "updated_at"])
    conn.execute(_DELETE_BACKORDERS, {"oid": order_id})
    if s.backorders:
        conn.execute(
            t.backorders.insert(),
            [
                {"order_id": order_id, "line_id": line, "sku": sku, "quantity": qty}
                | {"order_created_at": now}
                for line, sku, qty in s.backorders
            ],
        )
    if s.events:
        txid = (
            text("pg_current_xact_id()::text::bigint") if conn.dialect.name == "postgresql" else 0
        )
        conn.execute(
            t.events.insert().values(txid=txid),
            [
                {"id": uuid.uuid4().hex, "type": kind, "order_id": order_id, "at": now}
                | {"actor": actor, "data": data}
                for kind, actor, data in s.events
            ],
        )


@dataclass(frozen=True)
class RawJob:
    url: str
    samples: list[Sample]
    index: int
    threads: int
    window: Window


def _replay_loop(job: RawJob, engine: Engine, window_start: float) -> Work:
    # One sequence per process, shared by its threads: each transaction replays the next
    # placement, so concurrent threads touch different orders' rows, as the clients do.
    picks = itertools.count(job.index * 7919)

    def work(tally: Tally, end: float) -> None:
        while (sent := time.monotonic()) < end:
            sample = job.samples[next(picks) % len(job.samples)]
            try:
                with engine.begin() as conn:
                    complete = replay_placement(conn, sample)
                error = None if complete else "reservation missed"
            except SQLAlchemyError as exc:
                error = type(exc).__name__
            done = time.monotonic()
            if window_start <= done <= end:
                if error is not None:
                    tally.errors[error] += 1
                if error in {None, "reservation missed"}:
                    tally.latencies.append(done - sent)

    return work


def raw_process(job: RawJob, barrier: Barrier, results: Any) -> None:
    """One bare-DB process: `job.threads` threads replaying placements on one engine."""
    engine = make_engine(job.url, pool_size=job.threads)
    with engine.connect() as conn:
        conn.execute(select(1))
    barrier.wait()
    start, end = job.window.bounds(time.monotonic())
    try:
        results.put(_threads_in_window(job.threads, _replay_loop(job, engine, start), start, end))
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- measurements


@dataclass
class Measurement:
    config: Config
    http: Tally
    duration_s: float
    server_cpu_pct: float | None
    per_process_cpu_pct: list[float]
    loadgen_cpu_pct: float | None
    db_cpu_pct: float | None
    other_cpu_pct: float | None
    machine_busy_pct: float | None
    db_connects_per_s: float | None = None
    raw: RawRun | None = None

    @property
    def orders_per_s(self) -> float:
        return len(self.http.latencies) / self.duration_s

    @property
    def raw_per_s(self) -> float | None:
        return None if self.raw is None else len(self.raw.tally.latencies) / self.raw.duration_s


@dataclass(frozen=True)
class RawRun:
    """The bare-database replay: what it did, and the CPU its Python client and
    PostgreSQL used (100% = one core)."""

    tally: Tally
    duration_s: float
    client_cpu_pct: float | None
    db_cpu_pct: float | None


def split(total: int, parts: int) -> list[int]:
    """`total` spread over `parts` as evenly as possible, none empty."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def measure_http(config: Config, url: str, db: Databases, opts: Options, log: Path) -> Measurement:
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
    tally = Tally()
    for result in results:
        tally.merge(result.tally)
    loadgen_s = sum(r.cpu_s for r in results)
    return Measurement(
        config,
        tally,
        opts.duration_s,
        server_cpu_pct=cpu_percent(cpu.server_s, opts.duration_s),
        per_process_cpu_pct=[
            cpu_percent(s, opts.duration_s) or 0.0 for s in cpu.per_process_s[: config.processes]
        ],
        loadgen_cpu_pct=cpu_percent(loadgen_s, opts.duration_s),
        db_cpu_pct=cpu_percent(cpu.db_s, opts.duration_s) if config.backend != "sqlite" else None,
        other_cpu_pct=cpu_percent(_other(cpu, loadgen_s), opts.duration_s),
        machine_busy_pct=_busy_pct(cpu.machine_s, opts.duration_s),
        db_connects_per_s=None if cpu.counted is None else round(cpu.counted / opts.duration_s, 1),
    )


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


def _other(cpu: CpuSampler, loadgen_s: float) -> float | None:
    """CPU seconds the rest of the machine used (this script, other programs)."""
    if cpu.machine_s is None or cpu.server_s is None:
        return None
    return max(0.0, cpu.machine_s - cpu.server_s - loadgen_s - (cpu.db_s or 0.0))


def _busy_pct(machine_s: float | None, wall_s: float) -> float | None:
    cores = os.cpu_count() or 1
    pct = cpu_percent(machine_s, wall_s)
    return None if pct is None else round(pct / cores, 1)


def top_up_stock(url: str) -> None:
    """Deep stock everywhere, so replaying the same placements again and again never
    misses a reservation (the product would re-source; the replay would write less)."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(update(P).values(on_hand=P.c.on_hand + 1_000_000))
    finally:
        engine.dispose()


def measure_raw(config: Config, url: str, samples: list[Sample], opts: Options) -> RawRun:
    top_up_stock(url)
    window = Window(0.5 if opts.quick else 1.0, opts.raw_duration_s)
    jobs = [
        RawJob(url, samples, i, n, window)
        for i, n in enumerate(split(opts.clients, config.processes))
    ]
    tally = Tally()
    cpu = CpuSampler(None, window)
    with Lockstep(raw_process, jobs) as replay:
        results = replay.release(opts.raw_duration_s + 120, cpu.start)
        cpu.join()
    for result in results:
        tally.merge(result.tally)
    return RawRun(
        tally,
        opts.raw_duration_s,
        client_cpu_pct=cpu_percent(sum(r.cpu_s for r in results), opts.raw_duration_s),
        db_cpu_pct=cpu_percent(cpu.db_s, opts.raw_duration_s)
        if config.backend != "sqlite"
        else None,
    )


def measure(config: Config, db: Databases, opts: Options, logs: Path) -> Measurement:
    """Orders over HTTP on a fresh copy of the seeded database, then the bare writes on
    the same database (its stock topped up) once the API has stopped."""
    console.print(f"[bold]{config.label}[/bold]: {opts.clients} clients over HTTP ...")
    started = time.monotonic()
    url = db.copy()
    try:
        log = logs / f"{config.backend}-{config.processes}.log"
        result = measure_http(config, url, db, opts, log)
        _print_http(result)
        samples = read_samples(url, opts.samples)
        if not samples:
            console.print("  no order was placed: nothing to replay on the bare database")
            return result
        console.print(f"  bare database: {opts.clients} threads replaying {len(samples)} orders")
        result.raw = measure_raw(config, url, samples, opts)
    finally:
        db.drop(url)
    raw = result.raw
    console.print(
        f"  bare database: {result.raw_per_s:.0f} txn/s; CPU: its Python client "
        f"{_pct(raw.client_cpu_pct)}, PostgreSQL {_pct(raw.db_cpu_pct)} "
        f"({time.monotonic() - started:.0f} s for this configuration)"
    )
    return result


def _print_http(m: Measurement) -> None:
    errors = sum(m.http.errors.values())
    console.print(
        f"  {m.orders_per_s:.1f} orders/s, {errors} errors; CPU (100% = one core): API "
        f"{_pct(m.server_cpu_pct)}, load generator {_pct(m.loadgen_cpu_pct)}, PostgreSQL "
        f"{_pct(m.db_cpu_pct)}, rest of the machine {_pct(m.other_cpu_pct)}"
        + (
            f" (busiest API processes: {', '.join(_pct(v) for v in m.per_process_cpu_pct)})"
            if m.config.processes > 1
            else ""
        )
    )
    if m.db_connects_per_s is not None:
        console.print(f"  PostgreSQL connections opened: {m.db_connects_per_s:g}/s")


# ------------------------------------------------------------------------- reporting


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def bench_record(m: Measurement, opts: Options) -> dict[str, Any]:
    raw = m.raw_per_s
    return {
        "bench": BENCH,
        "backend": m.config.backend,
        "processes": m.config.processes,
        "clients": opts.clients,
        "orders": len(m.http.latencies),
        "seed": opts.seed,
        "orders_per_s": round(m.orders_per_s, 1),
        **latency_ms(m.http.latencies),
        "errors": sum(m.http.errors.values()),
        "db_raw_txn_per_s": None if raw is None else round(raw, 1),
        "ratio": round(m.orders_per_s / raw, 3) if raw else None,
        "db_raw_p50_ms": latency_ms(m.raw.tally.latencies)["p50_ms"] if m.raw else None,
        "db_raw_client_cpu_pct": m.raw.client_cpu_pct if m.raw else None,
        "db_raw_pg_cpu_pct": m.raw.db_cpu_pct if m.raw else None,
        "lines_max": MAX_LINES,
        "duration_s": opts.duration_s,
        "quick": opts.quick,
        "loadgen_procs": opts.loadgen_procs,
        "server_cpu_pct": m.server_cpu_pct,
        "server_cpu_pct_by_process": m.per_process_cpu_pct,
        "loadgen_cpu_pct": m.loadgen_cpu_pct,
        "db_cpu_pct": m.db_cpu_pct,
        "other_cpu_pct": m.other_cpu_pct,
        "machine_busy_pct": m.machine_busy_pct,
        "db_new_connections_per_s": m.db_connects_per_s,
    }


def results_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="Order placement over HTTP vs the bare database (same writes)")
    columns = [
        ("backend", "backend"),
        ("API procs", "processes"),
        ("clients", "clients"),
        ("orders", "orders"),
        ("orders/s", "orders_per_s"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("p99.9 ms", "p999_ms"),
        ("errors", "errors"),
        ("DB txn/s", "db_raw_txn_per_s"),
        ("ratio", "ratio"),
        ("API CPU", "server_cpu_pct"),
        ("loadgen CPU", "loadgen_cpu_pct"),
        ("PG CPU", "db_cpu_pct"),
        ("other CPU", "other_cpu_pct"),
    ]
    for title, _ in columns:
        table.add_column(title, justify="left" if title == "backend" else "right")
    for r in records:
        table.add_row(*(_cell(key, r.get(key)) for _, key in columns))
    return table


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key.endswith("_pct"):
        return f"{value:.0f}%"
    return str(value)


def print_notes(measurements: list[Measurement], opts: Options) -> None:
    mix = Tally()
    for m in measurements:
        mix.merge(m.http)
    placed = max(1, len(mix.latencies))
    console.print(
        f"seed {opts.seed}; demo network build_network({opts.seed}); orders from "
        f"OrderStream(seed {opts.seed} + 1000 x load process), 1-{MAX_LINES} lines; "
        f"warm-up {opts.warmup_s:g} s, measured {opts.duration_s:g} s per configuration, "
        f"bare DB {opts.raw_duration_s:g} s; {opts.loadgen_procs} load generator process(es)."
    )
    console.print("lines per order: " + _shares(mix.lines, placed))
    console.print("delivery methods: " + _shares(mix.methods, placed))
    console.print("order status after placement: " + _shares(mix.statuses, placed))
    for m in measurements:
        if m.http.errors:
            console.print(f"errors {m.config.label}: {dict(m.http.errors)}")
        if m.raw is not None and m.raw.tally.errors:
            console.print(f"bare DB {m.config.label}: {dict(m.raw.tally.errors)}")
    console.print(
        "Bare DB = per transaction the same writes as the placements just made (conditional "
        "reservation UPDATE per line, ledger rows, decision, order document, fulfilment "
        "index, back-orders, events) through SQLAlchemy Core, same clients as threads in as "
        "many processes as API processes; no HTTP, no reads, no sourcing."
    )
    _print_cpu_warnings(measurements)


def _print_cpu_warnings(measurements: list[Measurement]) -> None:
    for m in measurements:
        shares = m.per_process_cpu_pct
        if m.config.processes > 1 and len(shares) > 1 and shares[0] > 2 * max(shares[-1], 1):
            console.print(
                f"[yellow]{m.config.label}: the API processes were loaded unevenly "
                f"({', '.join(_pct(v) for v in shares)} CPU): they share one listening socket "
                "and the kernel handed most of the clients' keep-alive connections to one "
                "of them, which then bounds the rate.[/yellow]"
            )
    bound = [
        m.config.label
        for m in measurements
        if m.raw is not None
        and m.raw.db_cpu_pct is not None
        and (m.raw.client_cpu_pct or 0) > 2 * m.raw.db_cpu_pct
    ]
    if bound:
        console.print(
            f"The bare-DB client used more than twice PostgreSQL's CPU ({', '.join(bound)}): "
            "Python and SQLAlchemy issuing the statements, more than the database, set that "
            "rate, so DB txn/s is a floor for PostgreSQL itself and the ratio an upper bound."
        )
    busy = [m.machine_busy_pct for m in measurements if m.machine_busy_pct is not None]
    cores = os.cpu_count() or 1
    if busy and max(busy) >= 90:
        console.print(
            f"[yellow]The machine's {cores} CPUs were (nearly) saturated "
            f"({max(busy):.0f}% busy at most): the load generator, the API and the database "
            "share them, so the figures are a floor for the API on its own hardware; the "
            "CPU columns show who used what (100% = one core).[/yellow]"
        )
    noisy = [m for m in measurements if (m.other_cpu_pct or 0) > 25]
    if noisy:
        worst = max(m.other_cpu_pct or 0 for m in noisy)
        console.print(
            f"[yellow]Processes not followed through the window used up to {worst:.0f}% of a "
            f"core ({', '.join(m.config.label for m in noisy)}): other programs, or "
            "PostgreSQL backends that connected and went away inside it (see connections "
            "opened/s). If other programs, the figures are perturbed.[/yellow]"
        )


def _shares(counts: Counter[Any], total: int) -> str:
    return ", ".join(f"{k}: {100 * v / total:.1f}%" for k, v in sorted(counts.items()))


def main(argv: Sequence[str] | None = None) -> None:
    started = time.monotonic()
    opts = parse_args(argv)
    console.print(
        f"placement benchmark: seed {opts.seed}, {opts.clients} clients"
        + (", quick mode" if opts.quick else "")
    )
    measurements: list[Measurement] = []
    with ExitStack() as stack:
        dbs = open_databases(opts, stack)
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
