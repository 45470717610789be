"""The turn of this process's writers at a SQLite database, which allows one at a time.

Writers queue here rather than sleep-poll on the database's busy timeout. A plain lock
hands the turn to whichever thread happens to be running when it is released, so under a
steady stream of new orders a thread that went to sleep waiting (the worker re-sourcing
after a rejection) could wait for seconds. Here waiting threads take their turns in the
order they came, and threads marked urgent go before all of them: what they write (new
allocations for units a location failed, deadlines that passed) is already late, and
there are few of them.
"""

from __future__ import annotations

import threading
from collections import deque


class WriteGate:
    """A re-entrant lock that hands itself to the longest-waiting urgent thread, else to
    the longest-waiting other one; a thread finding it free with nobody waiting takes it
    at once. A wait longer than `wait_s` gives up (the caller answers "busy, retry"
    rather than leave a request hanging)."""

    def __init__(self, wait_s: float | None = None) -> None:
        self.wait_s = wait_s
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        #: Waiting threads and the lock each sleeps on until the gate is handed to it.
        self._urgent: deque[tuple[int, threading.Lock]] = deque()
        self._others: deque[tuple[int, threading.Lock]] = deque()
        self._marks = threading.local()

    def mark_urgent(self) -> None:
        """From now on the calling thread goes before threads that are not urgent."""
        self._marks.urgent = True

    def is_urgent(self) -> bool:
        """Whether the calling thread was marked urgent."""
        return bool(getattr(self._marks, "urgent", False))

    def waiting(self) -> tuple[int, int]:
        """Threads waiting for their turn: (all, of which urgent)."""
        with self._mutex:
            return len(self._urgent) + len(self._others), len(self._urgent)

    def acquire(self) -> bool:
        """Take the gate; False when `wait_s` passed first (the gate is not held then)."""
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return True
            if self._owner is None and not self._urgent and not self._others:
                self._owner, self._depth = me, 1
                return True
            turn = threading.Lock()
            turn.acquire()
            waiter = (me, turn)
            (self._urgent if self.is_urgent() else self._others).append(waiter)
        try:
            # Released once the gate is ours (see `release`).
            if turn.acquire(timeout=-1 if self.wait_s is None else self.wait_s):
                return True
        except BaseException:
            if self._left_queue(waiter):
                raise
            self.release()  # handed over meanwhile: pass it on to the next writer
            raise
        # Out of time, unless the gate was handed over just now.
        return not self._left_queue(waiter)

    def _left_queue(self, waiter: tuple[int, threading.Lock]) -> bool:
        """Take a waiter that stops waiting out of the queue; False when it is no longer
        there because the gate was handed to it."""
        with self._mutex:
            for queue in (self._urgent, self._others):
                if waiter in queue:
                    queue.remove(waiter)
                    return True
        return False

    def release(self) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("the write gate is released by a thread that does not hold it")
            self._depth -= 1
            if self._depth:
                return
            queue = self._urgent or self._others
            if not queue:
                self._owner = None
                return
            # Handed over, not just freed: a running thread cannot take the turn of one
            # that is still waking up.
            self._owner, turn = queue[0][0], queue.popleft()[1]
            self._depth = 1
            turn.release()
