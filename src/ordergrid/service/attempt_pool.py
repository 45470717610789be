"""The threads a process sends webhook attempts on."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class AttemptPool:
    """Started on first use and kept for the rounds after: a round of its own threads
    started and joined them every time, which cost more than sending a round to a fast
    receiver. Idle threads wait on a queue; `close` (or the interpreter's exit) ends
    them.

    A process forked after the first round starts threads of its own (it inherits the
    executor, not its threads), and a new size starts a new executor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._made: tuple[int, int] = (0, 0)  # (process id, size) of the executor
        self._closed = False
        if hasattr(os, "register_at_fork"):
            # A child forked while another thread held the lock would find it held.
            pool = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _after_fork(pool))

    def _reset_lock(self) -> None:
        self._lock = threading.Lock()

    def map(self, attempt: Callable[[T], R], items: Sequence[T], size: int) -> list[R]:
        """`attempt` for every item, at most `size` at once, results in order. Once the
        pool is closed, a round still running elsewhere (a worker stopping late) sends
        its items one after another on the calling thread rather than start threads."""
        with self._lock:
            # Submitted under the lock: `close` cannot shut the executor in between.
            running = None if self._closed else self._executor_of(size).map(attempt, items)
        if running is None:
            return [attempt(item) for item in items]
        return list(running)

    def _executor_of(self, size: int) -> ThreadPoolExecutor:
        made = (os.getpid(), size)
        if self._executor is None or self._made != made:
            if self._executor is not None and self._made[0] == made[0]:
                self._executor.shutdown(wait=False)
            self._executor = ThreadPoolExecutor(size, thread_name_prefix="ordergrid-webhook")
            self._made = made
        return self._executor

    def close(self) -> None:
        """End the threads without waiting for attempts under way (they finish on their
        own; attempts not begun are cancelled, and their round fails, leaving its
        deliveries to come due again when their lease lapses)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def _after_fork(pool: weakref.ref[AttemptPool]) -> None:
    found = pool()
    if found is not None:
        found._reset_lock()
