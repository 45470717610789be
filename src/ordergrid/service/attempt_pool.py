"""The threads a process sends webhook attempts on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class AttemptPool:
    """Started on first use and kept for the rounds after: a round of its own threads
    started and joined them every time, which cost more than sending a round to a fast
    receiver. Idle threads wait on a queue; `close` (or the interpreter's exit) ends
    them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def map(self, attempt: Callable[[T], R], items: Sequence[T], size: int) -> list[R]:
        """`attempt` for every item, at most `size` at once (the size of the first
        call), results in order."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(size, thread_name_prefix="ordergrid-webhook")
            executor = self._executor
        return list(executor.map(attempt, items))

    def close(self) -> None:
        """Let running attempts finish, then end the threads; a later round starts new
        ones."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
