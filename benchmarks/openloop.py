"""The open-loop load generator: orders arrive at a fixed mean rate (Poisson), whatever
the server's speed, in their own process.

Each arrival has a scheduled send time; a pool of threads sends each one when it is due
(or as soon as a thread is free, when all are busy). Latency counts from the *scheduled*
time, not from when the request went out, so a server that falls behind shows its queue in
the latency instead of slowing the generator down (no coordinated omission).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from typing import Any

import httpx

from api_server import TOKEN
from common import ChildResult, Tally, Window, merged_tallies, run_in_window
from loadgen import count_answer, post_order
from order_bodies import CycledBodies

#: Arrivals scheduled inside the window and not sent this long after it ended are given up
#: (and counted as errors): the generator does not wait forever on a server far behind.
DRAIN_S = 2.0
GIVEN_UP = "never sent: the server was too far behind"
#: A send starting later than this after its scheduled time means every thread was busy.
LATE_S = 0.005


@dataclass(frozen=True)
class OpenJob:
    base_url: str
    bodies: list[dict[str, Any]]
    index: int
    rate_per_s: float
    threads: int
    window: Window
    seed: int


@dataclass
class OpenResult(ChildResult):
    scheduled: int = 0
    late_sends: int = 0
    #: Answers (of any arrival) that came back inside the window: what the server served.
    served: int = 0


class Schedule:
    """Poisson arrivals from `start` on, handed out one at a time to the sending threads."""

    def __init__(self, rate_per_s: float, first: float, stop: float, seed: int) -> None:
        self._rng = random.Random(seed)
        self._rate, self._next, self._stop = rate_per_s, first, stop
        self._lock = threading.Lock()

    def take(self) -> float | None:
        with self._lock:
            if self._next >= self._stop:
                return None
            due = self._next
            self._next += self._rng.expovariate(self._rate)
            return due


def _clients(job: OpenJob) -> list[httpx.Client]:
    """One client per sending thread, made before the arrivals start: making one takes
    about 45 ms of CPU (its TLS context), and 48 made at the first arrival delayed every
    arrival of the first seconds."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return [
        httpx.Client(base_url=job.base_url, headers=headers, timeout=30) for _ in range(job.threads)
    ]


def _sender(
    bodies: CycledBodies, schedule: Schedule, start: float, end: float
) -> Callable[[httpx.Client, Tally, list[float], list[int]], None]:
    def send(client: httpx.Client, tally: Tally, lags: list[float], served: list[int]) -> None:
        with client:
            while (due := schedule.take()) is not None:
                time.sleep(max(0.0, due - time.monotonic()))
                measured = start <= due < end
                if time.monotonic() > end + DRAIN_S:
                    if measured:
                        tally.errors[GIVEN_UP] += 1
                    continue
                lags.append(time.monotonic() - due)
                body = bodies.next()
                error, status = post_order(client, body)
                done = time.monotonic()
                served[0] += start <= done < end
                if measured:
                    count_answer(tally, body, done - due, error, status)

    return send


def open_process(job: OpenJob, barrier: Barrier, results: Any) -> None:
    """One open-loop process: `job.rate_per_s` arrivals a second on `job.threads` threads,
    from the barrier's release (warm-up included) to the end of the window."""
    bodies = CycledBodies(job.bodies, job.index)
    clients = _clients(job)
    barrier.wait()
    released = time.monotonic()
    start, end = job.window.bounds(released)
    schedule = Schedule(job.rate_per_s, released, end, job.seed * 1009 + job.index)
    send = _sender(bodies, schedule, start, end)
    tallies = [Tally() for _ in range(job.threads)]
    lags: list[list[float]] = [[] for _ in range(job.threads)]
    served = [[0] for _ in range(job.threads)]
    threads = [
        threading.Thread(target=send, args=(client, tally, lag, count))
        for client, tally, lag, count in zip(clients, tallies, lags, served, strict=True)
    ]
    cpu_s = run_in_window(threads, start, end)
    total = merged_tallies(tallies)
    all_lags = [x for lag in lags for x in lag]
    late = sum(1 for x in all_lags if x > LATE_S)
    results.put(OpenResult(total, cpu_s, len(all_lags), late, sum(c[0] for c in served)))
