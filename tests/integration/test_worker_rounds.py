"""The worker's loops: timers run on a thread of their own, so a rejection's re-sourcing
starts while the relay is still busy (a long pass over back-orders); a wake reaches every
loop; the timer thread goes first at the SQLite write gate; and stopping from inside the
relay loop (a signal handler) does not wait on it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from tests.integration.conftest import wire

from ordergrid.bootstrap import Application, bootstrap
from ordergrid.entrypoints import worker as worker_module
from ordergrid.entrypoints.worker import HELPER_JOIN_S, Worker
from ordergrid.service.commands import RunDueTimers
from ordergrid.service.ports import Timer
from ordergrid.service.timer_kinds import REALLOCATE
from ordergrid.settings import Settings

WAIT_S = 5.0


def nothing(_: object) -> int:
    return 0


@contextmanager
def patched(
    app: Application,
    relay: Callable[[object], int],
    handle: Callable[[object], int],
    queue: Callable[[object], int] = nothing,
    send: Callable[[object], int] = nothing,
) -> Iterator[Worker]:
    """A worker whose relay, webhook queueing and sending, and command handling are the
    test's, stopped before the patches end (so no real work runs afterwards)."""
    worker = Worker(app)
    with (
        patch.object(worker_module, "relay_once", relay),
        patch.object(worker_module, "queue_deliveries", queue),
        patch.object(worker_module, "send_due", send),
        patch.object(app.bus, "handle", handle),
    ):
        try:
            yield worker
        finally:
            worker.stop()


@contextmanager
def running(app: Application, *hooks: Callable[[object], int]) -> Iterator[Worker]:
    """The worker `patched` with these hooks, started; stopped, and the application
    closed, at the end."""
    try:
        with patched(app, *hooks) as worker:
            worker.start()
            yield worker
    finally:
        app.close()


def idle_app(sqlite_url: str) -> Application:
    """An application whose worker loops sleep a minute when idle: within a test, only a
    wake or a due timer can end that sleep."""
    return bootstrap(Settings(database_url=sqlite_url, auto_migrate=True, worker_poll_seconds=60))


def test_timers_run_while_the_relay_is_still_busy(sqlite_url: str) -> None:
    app = wire(sqlite_url)
    relay_busy, timers_ran = threading.Event(), threading.Event()
    first_batch_saw_timers: list[bool] = []

    def slow_relay(bus: object) -> int:
        # A rejection arrives during a long relay batch; the batch lasts until a timer
        # round ran (or gives up): with one loop for both, that round would come after.
        if not relay_busy.is_set():
            relay_busy.set()
            app.ctx.wake()
            first_batch_saw_timers.append(timers_ran.wait(WAIT_S))
        return 0

    def handle(command: object) -> int:
        if isinstance(command, RunDueTimers) and relay_busy.is_set():
            timers_ran.set()
        return 0

    with running(app, slow_relay, handle):
        timers_ran.wait(2 * WAIT_S)
    assert first_batch_saw_timers == [True]


def test_a_wake_reaches_both_the_timers_and_the_relay(sqlite_url: str) -> None:
    app = wire(sqlite_url)
    try:
        app.ctx.wake()  # what a rejection or a new webhook subscription calls
        assert app.work_due.timers.is_set()
        assert app.work_due.relay.is_set()
        assert app.work_due.webhooks.is_set()
    finally:
        app.close()


def test_a_wake_ends_the_timer_loops_sleep_early(sqlite_url: str) -> None:
    app = idle_app(sqlite_url)
    rounds = [threading.Event(), threading.Event()]
    ran: list[int] = []

    def handle(command: object) -> int:
        if isinstance(command, RunDueTimers) and len(ran) < len(rounds):
            rounds[len(ran)].set()
            ran.append(1)
        return 0

    with running(app, nothing, handle):
        assert rounds[0].wait(WAIT_S)
        assert not rounds[1].wait(0.3)  # asleep after a round with nothing due
        app.ctx.wake()
        assert rounds[1].wait(WAIT_S)


def test_the_timer_loop_wakes_when_the_next_timer_is_due(sqlite_url: str) -> None:
    app = idle_app(sqlite_url)
    due_in = 0.3
    with app.ctx.uow() as uow:
        due_at = app.ctx.clock.now() + timedelta(seconds=due_in)
        uow.timers.add(Timer("timer-1", REALLOCATE, due_at, order_id="order-1"))
        uow.commit()
    rounds: list[float] = []
    second = threading.Event()

    def handle(command: object) -> int:
        if isinstance(command, RunDueTimers):
            rounds.append(time.monotonic())
            if len(rounds) == 2:
                second.set()
        return 0

    with running(app, nothing, handle):
        assert second.wait(WAIT_S)
    assert rounds[1] - rounds[0] >= due_in / 2  # it slept, rather than spun


def test_queued_deliveries_wake_the_webhook_sender(sqlite_url: str) -> None:
    app = idle_app(sqlite_url)
    sends = [threading.Event(), threading.Event()]
    sent: list[int] = []

    def send(ctx: object) -> int:
        if len(sent) < len(sends):
            sends[len(sent)].set()
            sent.append(1)
        return 0

    def queue(ctx: object) -> int:
        # Deliveries queued once the sender went to sleep after its first look.
        return int(sends[0].wait(WAIT_S) and len(sent) == 1)

    with running(app, nothing, nothing, queue, send):
        assert sends[1].wait(WAIT_S)


def test_the_timer_thread_goes_first_at_the_sqlite_write_gate(sqlite_url: str) -> None:
    app = wire(sqlite_url)
    assert app.write_gate is not None
    seen: list[bool] = []
    ran = threading.Event()

    def handle(command: object) -> int:
        if isinstance(command, RunDueTimers) and app.write_gate is not None:
            seen.append(app.write_gate.is_urgent())
            ran.set()
        return 0

    with running(app, nothing, handle):
        assert ran.wait(WAIT_S)
    assert seen[0] is True
    assert not app.write_gate.is_urgent()  # this thread, like the API's, is not


def test_a_stop_asked_from_inside_the_relay_loop_waits_for_nothing(sqlite_url: str) -> None:
    # `ordergrid worker` runs the relay loop on the main thread, where SIGTERM's handler
    # runs too, possibly while that loop holds the write turn the timer thread waits for.
    app = wire(sqlite_url)

    def relay(bus: object) -> int:
        with app.ctx.uow():  # holds the SQLite write turn
            worker.request_stop()
            time.sleep(0.1)  # the timer thread is now waiting for the turn
        return 0

    def handle(command: object) -> int:
        if isinstance(command, RunDueTimers):
            with app.ctx.uow():
                pass
        return 0

    before = set(threading.enumerate())
    try:
        with patched(app, relay, handle) as worker:
            started = time.monotonic()
            worker.run()  # on this thread, as the command runs it
            stopped_in = time.monotonic() - started
    finally:
        app.close()
    assert stopped_in < HELPER_JOIN_S  # no join timed out on a thread waiting for the turn
    assert not set(threading.enumerate()) - before  # its threads ended before it returned
