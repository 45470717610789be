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
    at once."""

    def __init__(self) -> None:
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

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None and not self._urgent and not self._others:
                self._owner, self._depth = me, 1
                return
            turn = threading.Lock()
            turn.acquire()
            waiter = (me, turn)
            (self._urgent if self.is_urgent() else self._others).append(waiter)
        try:
            turn.acquire()  # released once the gate is ours (see `release`)
        except BaseException:
            self._give_up(waiter)
            raise

    def _give_up(self, waiter: tuple[int, threading.Lock]) -> None:
        """A wait cut short (Ctrl+C): leave the queue, or pass on a turn handed over in
        the meantime, so no writer waits for a thread that will never write."""
        with self._mutex:
            for queue in (self._urgent, self._others):
                if waiter in queue:
                    queue.remove(waiter)
                    return
        self.release()

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
