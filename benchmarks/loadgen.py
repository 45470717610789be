"""The load generator: closed-loop HTTP clients placing orders, in their own process.

Each process runs `LoadJob.clients` threads, one `httpx.Client` each, drawing 1-3-line
orders from the seeded demo order stream, and reports what it saw inside the window.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from typing import Any

import httpx

from api_server import TOKEN
from common import Tally, Window, Work, threads_in_window
from order_bodies import CycledBodies
from ordergrid.demo.sample import OrderStream, build_network

MAX_LINES = 3


@dataclass(frozen=True)
class LoadJob:
    base_url: str
    seed: int
    index: int
    clients: int
    window: Window
    #: Bodies to cycle through (`order_bodies.py`); none: the seeded demo order stream.
    bodies: tuple[dict[str, Any], ...] = ()


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


def _place_orders(job: LoadJob, bodies: OrderBodies | CycledBodies, window_start: float) -> Work:
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
                outcome, status = post_order(client, body)
                done = time.monotonic()
                if window_start <= done <= end:
                    count_answer(tally, body, done - sent, outcome, status)

    return work


def post_order(client: httpx.Client, body: dict[str, Any]) -> tuple[str | None, str]:
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


def count_answer(
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
    bodies = (
        CycledBodies(list(job.bodies), job.index)
        if job.bodies
        else OrderBodies(job.seed, job.index)
    )
    barrier.wait()
    start, end = job.window.bounds(time.monotonic())
    results.put(threads_in_window(job.clients, _place_orders(job, bodies, start), start, end))
