"""The SQLite write gate: one holder at a time, re-entrant, and urgent threads (the
worker's timers) served before every other waiting thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

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


def test_an_urgent_waiter_goes_before_threads_that_waited_longer() -> None:
    gate, order = WriteGate(), []
    gate.acquire()
    normal = [writer(gate, f"order-{n}", order, urgent=False) for n in range(8)]
    wait_for(lambda: gate.waiting() == (8, 0))
    urgent = writer(gate, "re-sourcing", order, urgent=True)
    wait_for(lambda: gate.waiting() == (9, 1))
    gate.release()
    for thread in [urgent, *normal]:
        thread.join(WAIT_S)
    assert order[0] == "re-sourcing"
    assert sorted(order[1:]) == sorted(f"order-{n}" for n in range(8))


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
