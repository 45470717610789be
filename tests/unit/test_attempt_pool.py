"""The webhook attempt pool: threads kept between rounds, a bound on attempts at once,
results in order, threads ended on close, and a forked process's rounds on threads of
its own."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

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


def test_close_ends_the_threads_and_a_round_after_it_starts_none() -> None:
    pool = AttemptPool()
    threads = set(pool.map(lambda _: threading.current_thread(), range(4), 2))
    pool.close()
    for thread in threads:
        thread.join(5)
    assert not any(t.is_alive() for t in threads)
    late = pool.map(lambda _: threading.current_thread(), range(3), 2)
    assert late == [threading.current_thread()] * 3


def test_a_new_size_starts_threads_of_that_size() -> None:
    pool = AttemptPool()
    try:
        pool.map(lambda _: None, range(4), 1)
        used = set(pool.map(lambda _: threading.get_ident(), range(40), 3))
    finally:
        pool.close()
    assert len(used) <= 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")
def test_a_process_forked_after_a_round_sends_on_threads_of_its_own() -> None:
    pool = AttemptPool()
    pool.map(lambda n: n, range(4), 2)  # the parent's threads exist now
    child = multiprocessing.get_context("fork").Process(target=_round_in_child, args=(pool,))
    child.start()
    child.join(20)
    pool.close()
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the child's round hung"
    assert child.exitcode == 0


def _round_in_child(pool: AttemptPool) -> None:
    ok = pool.map(lambda n: n * 2, range(6), 2) == [n * 2 for n in range(6)]
    os._exit(0 if ok else 1)
