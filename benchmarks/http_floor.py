"""What a request costs the server before any work: a bare FastAPI application against
ordergrid's API, CPU per request and the most requests one core can answer.

    python benchmarks/http_floor.py [--quick] [--duration S] [--clients 8] [--seed 7]

Each server runs in its own process, as `ordergrid serve` runs (uvicorn with its default
event loop and HTTP parser, one access-log line per request, one process: the bare
application writes uvicorn's, ordergrid its own); a load process of `--clients`
threads, one `httpx.Client` each, sends requests back to back. The server's CPU time
over the measured span divided by the requests it answered is its cost per request;
1,000 ms over that is the most one core (one API process: a Python process runs its
code on one core at a time) could answer were it only answering these. The load process
shares the machine's two cores with the server and is itself Python, so the server is
seldom saturated; a server that is not wakes up for fewer requests at a time, so read the
cost per request as an upper bound (a native load generator such as wrk, saturating the
server, finds it lower).

Measured, in this order:

1. bare FastAPI, `GET /healthz`;
2. bare FastAPI, `POST /v1/orders` with an order body (1-3 lines of the network's
   order stream), validated by pydantic and answered 201 from the thread pool;
3. ordergrid, `GET /healthz` (no authentication, no database);
4. ordergrid, `GET /v1/orders/{id}` of an unknown order with an admin token: the
   middleware, authentication, one read unit of work, the 404 document.

Placing an order costs its placement on top of (4): compare with
`placement_profile.py` (CPU per order in process) and `load.py` (API CPU per order).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

from api_server import TOKEN, Server, api_server
from common import (
    Lockstep,
    Tally,
    Window,
    console,
    free_port,
    latency_ms,
    merged,
    print_bench_lines,
    threads_in_window,
    wait_until,
)
from networks import NETWORKS, build_network
from order_bodies import CycledBodies, network_bodies
from sysstats import cpu_seconds_by_pid, cpu_used_between, process_tree

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Target:
    label: str
    app: str  # "bare" | "ordergrid"
    method: str
    path: str
    authenticated: bool = False


TARGETS = (
    Target("bare FastAPI, GET /healthz", "bare", "GET", "/healthz"),
    Target("bare FastAPI, POST /v1/orders (validated body)", "bare", "POST", "/v1/orders"),
    Target("ordergrid, GET /healthz", "ordergrid", "GET", "/healthz"),
    Target(
        "ordergrid, GET /v1/orders/{unknown} (admin token)",
        "ordergrid",
        "GET",
        "/v1/orders/ord-does-not-exist",
        authenticated=True,
    ),
)


@dataclass(frozen=True)
class Options:
    duration_s: float
    warmup_s: float
    clients: int
    seed: int
    quick: bool


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 s per target")
    p.add_argument("--duration", type=float, default=None, help="measured seconds per target")
    p.add_argument("--clients", type=int, default=8, help="sending threads")
    p.add_argument("--seed", type=int, default=7, help="seed of the order bodies")
    a, _ = p.parse_known_args(argv)
    duration = a.duration or (3.0 if a.quick else 10.0)
    return Options(duration, 1.0 if a.quick else 2.0, a.clients, a.seed, a.quick)


# ---------------------------------------------------------------------------- servers


@contextmanager
def bare_server(log: Path) -> Iterator[Server]:
    """`bare_api.py` under uvicorn with its defaults, as `ordergrid serve` runs."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "bare_api:app", "--app-dir", str(HERE)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "info"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until(lambda: proc.poll() is not None or _answers(base_url), 60):
            raise RuntimeError(f"the bare API did not start: {log.read_text()[-2000:]}")
        yield Server(base_url, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def ordergrid_server(workdir: Path) -> Iterator[Server]:
    url = f"sqlite:///{workdir / 'floor.db'}"
    with api_server(url, free_port(), 1, workdir / "ordergrid.log") as server:
        yield server


# ------------------------------------------------------------------------------ load


@dataclass(frozen=True)
class LoadJob:
    base_url: str
    target: Target
    clients: int
    window: Window
    bodies: tuple[dict[str, Any], ...]


def _sender(job: LoadJob, start: float) -> Callable[[Tally, float], None]:
    bodies = CycledBodies(list(job.bodies), 0)
    headers = {"Authorization": f"Bearer {TOKEN}"} if job.target.authenticated else {}

    def work(tally: Tally, end: float) -> None:
        with httpx.Client(base_url=job.base_url, headers=headers, timeout=30) as client:
            while (now := time.monotonic()) < end:
                body = bodies.next() if job.target.method == "POST" else None
                t0 = time.perf_counter()
                try:
                    r = client.request(job.target.method, job.target.path, json=body)
                except httpx.HTTPError as exc:
                    tally.errors[type(exc).__name__] += 1
                    continue
                if now >= start:
                    tally.latencies.append(time.perf_counter() - t0)
                    tally.statuses[str(r.status_code)] += 1

    return work


def load_process(job: LoadJob, barrier: Any, results: Any) -> None:
    barrier.wait()
    start, end = job.window.bounds(time.monotonic())
    results.put(threads_in_window(job.clients, _sender(job, start), start, end))


def measure(
    target: Target, server: Server, opts: Options, bodies: list[dict[str, Any]]
) -> dict[str, Any]:
    window = Window(opts.warmup_s, opts.duration_s)
    job = LoadJob(server.base_url, target, opts.clients, window, tuple(bodies))
    readings: dict[str, Any] = {}

    def on_release(released: float) -> None:
        start, end = window.bounds(released)
        time.sleep(max(0.0, start - time.monotonic()))
        pids = process_tree(server.pid)
        readings["before"] = cpu_seconds_by_pid(pids)
        time.sleep(max(0.0, end - time.monotonic()))
        readings["after"] = cpu_seconds_by_pid(pids)

    with Lockstep(load_process, [job]) as load:
        results = load.release(timeout_s=opts.duration_s + 120, on_release=on_release)
    tally = merged(results)
    answered = len(tally.latencies)
    server_s = cpu_used_between(readings["before"], readings["after"])
    cpu_ms = None if server_s is None or not answered else server_s * 1000 / answered
    return {
        "target": target.label,
        "app": target.app,
        "method": target.method,
        "path": target.path,
        "requests": answered,
        "requests_per_s": round(answered / opts.duration_s, 1),
        **latency_ms(tally.latencies),
        "statuses": dict(tally.statuses),
        "errors": sum(tally.errors.values()),
        "server_cpu_pct": None if server_s is None else round(100 * server_s / opts.duration_s, 1),
        "server_cpu_ms_per_request": None if cpu_ms is None else round(cpu_ms, 3),
        "one_core_requests_per_s": None if not cpu_ms else round(1000 / cpu_ms),
        "client_cpu_pct": round(100 * sum(r.cpu_s for r in results) / opts.duration_s, 1),
    }


# ---------------------------------------------------------------------------- report


def report(records: list[dict[str, Any]]) -> None:
    table = Table(title="What a request costs the server (one API process)")
    for col in (
        "target",
        "answered/s",
        "server CPU",
        "CPU ms/request",
        "one core at most/s",
        "p50 ms",
        "p99 ms",
        "statuses",
    ):
        table.add_column(col, justify="left" if col in ("target", "statuses") else "right")
    for r in records:
        cpu_ms = r["server_cpu_ms_per_request"]
        table.add_row(
            r["target"],
            f"{r['requests_per_s']:.0f}",
            "-" if r["server_cpu_pct"] is None else f"{r['server_cpu_pct']:.0f}%",
            "-" if cpu_ms is None else f"{cpu_ms:.3f}",
            "-" if r["one_core_requests_per_s"] is None else f"{r['one_core_requests_per_s']:,}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())),
        )
    console.print(table)
    by = {(r["app"], r["path"]): r["server_cpu_ms_per_request"] for r in records}
    bare, ours = by.get(("bare", "/healthz")), by.get(("ordergrid", "/healthz"))
    if bare and ours:
        console.print(f"ordergrid's /healthz costs {ours / bare:.2f} x the bare framework's")


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse_args(argv)
    net = build_network(NETWORKS["M"], opts.seed)
    bodies = network_bodies(net, 500, opts.seed)
    console.print(
        f"seed {opts.seed}; {opts.clients} sending threads in one load process; "
        f"{opts.warmup_s:.0f} s warm-up, {opts.duration_s:.0f} s measured per target"
    )
    records = []
    with tempfile.TemporaryDirectory(prefix="og-floor-") as tmp:
        workdir = Path(tmp)
        for app in ("bare", "ordergrid"):
            started = (
                bare_server(workdir / "bare.log") if app == "bare" else ordergrid_server(workdir)
            )
            with started as server:
                for target in (t for t in TARGETS if t.app == app):
                    record = measure(target, server, opts, bodies)
                    records.append(
                        {
                            "bench": "http_floor",
                            "seed": opts.seed,
                            "clients": opts.clients,
                            "quick": opts.quick,
                        }
                        | record
                    )
    report(records)
    console.print(
        "The load process is Python and shares the machine with the server, which is "
        "seldom saturated: read CPU per request as an upper bound."
    )
    print_bench_lines(records)


if __name__ == "__main__":
    main()
