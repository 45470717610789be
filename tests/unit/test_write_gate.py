"""The SQLite write gate: one holder at a time, re-entrant, and urgent threads (the
worker's timers) served before every other waiting thread."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from ordergrid.adapters.db.write_gate import WriteGate

WAIT_S = 5.0


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the threads never got there"
        time.sleep(0.001)


def writer(gate: WriteGate, name: str, order: list[str], *, urgent: bool) -> threading.Thread:
    def run() -> None:
        if urgent:
            gate.mark_urgent()
        gate.acquire()
        order.append(name)
        gate.release()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def test_the_holder_may_enter_again_and_others_wait_for_the_last_release() -> None:
    gate, order = WriteGate(), []
    gate.acquire()
    gate.acquire()
    other = writer(gate, "other", order, urgent=False)
    wait_for(lambda: gate.waiting() == (1, 0))
    gate.release()
    time.sleep(0.05)
    assert order == []  # still held once
    gate.release()
    other.join(WAIT_S)
    assert order == ["other"]


def test_only_the_holder_may_release() -> None:
    gate = WriteGate()
    with pytest.raises(RuntimeError):
        gate.release()


def queue_up(gate: WriteGate, names: list[str], order: list[str]) -> list[threading.Thread]:
    """Writers that wait for the gate, each known to be queued before the next comes."""
    threads = []
    for name in names:
        queued = gate.waiting()[0]
        threads.append(writer(gate, name, order, urgent=False))
        wait_for(lambda n=queued: gate.waiting()[0] == n + 1)
    return threads


def test_waiting_writers_take_their_turns_in_the_order_they_came() -> None:
    gate, order = WriteGate(), []
    gate.acquire()
    names = [f"order-{n}" for n in range(8)]
    threads = queue_up(gate, names, order)
    gate.release()
    for thread in threads:
        thread.join(WAIT_S)
    assert order == names


def test_an_urgent_waiter_goes_before_threads_that_waited_longer() -> None:
    gate, order = WriteGate(), []
    gate.acquire()
    names = [f"order-{n}" for n in range(8)]
    normal = queue_up(gate, names, order)
    urgent = writer(gate, "re-sourcing", order, urgent=True)
    wait_for(lambda: gate.waiting() == (9, 1))
    gate.release()
    for thread in [urgent, *normal]:
        thread.join(WAIT_S)
    assert order == ["re-sourcing", *names]


class Interrupted(Exception):
    pass


@contextmanager
def interrupted_after(seconds: float) -> Iterator[None]:
    """Raise `Interrupted` in this (the main) thread after a while, as Ctrl+C would."""

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_wait_cut_short_leaves_the_queue_and_blocks_nobody() -> None:
    gate, order, holding, done = WriteGate(), [], threading.Event(), threading.Event()

    def holder() -> None:
        gate.acquire()
        holding.set()
        done.wait(WAIT_S)
        gate.release()

    first = threading.Thread(target=holder)
    first.start()
    holding.wait(WAIT_S)
    with pytest.raises(Interrupted), interrupted_after(0.05):
        gate.acquire()
    assert gate.waiting() == (0, 0)
    done.set()
    first.join(WAIT_S)
    later = writer(gate, "next writer", order, urgent=False)
    later.join(WAIT_S)
    assert order == ["next writer"]


def test_a_thread_arriving_while_an_urgent_one_waits_goes_after_it() -> None:
    gate, order = WriteGate(), []
    gate.acquire()
    urgent = writer(gate, "re-sourcing", order, urgent=True)
    wait_for(lambda: gate.waiting() == (1, 1))
    late = writer(gate, "new order", order, urgent=False)
    wait_for(lambda: gate.waiting() == (2, 1))
    gate.release()
    urgent.join(WAIT_S)
    late.join(WAIT_S)
    assert order == ["re-sourcing", "new order"]


def test_many_threads_each_hold_the_gate_alone() -> None:
    gate, inside, most = WriteGate(), [0], [0]
    lock = threading.Lock()

    def work(urgent: bool) -> None:
        if urgent:
            gate.mark_urgent()
        for _ in range(200):
            gate.acquire()
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0)  # let any other thread in that the gate would let in
            with lock:
                inside[0] -= 1
            gate.release()

    threads = [threading.Thread(target=work, args=(n % 4 == 0,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S * 4)
    assert not any(thread.is_alive() for thread in threads)
    assert most[0] == 1
    assert gate.waiting() == (0, 0)


def test_a_wait_longer_than_the_bound_gives_up_and_leaves_the_queue() -> None:
    gate, order, done = WriteGate(wait_s=0.05), [], threading.Event()
    gate.acquire()
    outcome: list[bool] = []

    def impatient() -> None:
        outcome.append(gate.acquire())
        done.set()

    thread = threading.Thread(target=impatient)
    thread.start()
    assert done.wait(WAIT_S)
    assert outcome == [False]
    assert gate.waiting() == (0, 0)
    gate.release()
    writer(gate, "next writer", order, urgent=False).join(WAIT_S)
    assert order == ["next writer"]
