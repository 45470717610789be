"""The webhook attempt pool: threads kept between rounds, a bound on attempts at once,
results in order, and threads ended on close."""

from __future__ import annotations

import threading
import time

from ordergrid.service.attempt_pool import AttemptPool


def test_rounds_reuse_the_threads_of_the_first_round() -> None:
    pool = AttemptPool()
    try:
        first = set(pool.map(lambda _: threading.get_ident(), range(20), 2))
        second = set(pool.map(lambda _: threading.get_ident(), range(20), 2))
    finally:
        pool.close()
    assert len(first | second) <= 2  # no round starts threads of its own


def test_no_more_attempts_run_at_once_than_the_size() -> None:
    pool = AttemptPool()
    running, most, lock = [0], [0], threading.Lock()

    def attempt(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return n * 2

    try:
        results = pool.map(attempt, list(range(12)), 3)
    finally:
        pool.close()
    assert results == [n * 2 for n in range(12)]
    assert most[0] == 3


def test_close_ends_the_threads_and_a_later_round_starts_new_ones() -> None:
    pool = AttemptPool()
    threads = set(pool.map(lambda _: threading.current_thread(), range(4), 2))
    pool.close()
    assert not any(t.is_alive() for t in threads)
    assert pool.map(lambda n: n + 1, [1, 2], 2) == [2, 3]
    pool.close()
