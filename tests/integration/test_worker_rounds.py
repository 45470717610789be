"""The worker's loops: timers run on a thread of their own, so a rejection's re-sourcing
starts while the relay is still busy (a long pass over back-orders), and a wake reaches
every loop."""

from __future__ import annotations

import threading
from unittest.mock import patch

from tests.integration.conftest import wire

from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints import worker as worker_module
from ordergrid.entrypoints.worker import Worker
from ordergrid.service.commands import RunDueTimers
from ordergrid.settings import Settings

WAIT_S = 5.0


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

    worker = Worker(app)
    try:
        with (
            patch.object(worker_module, "relay_once", slow_relay),
            patch.object(worker_module, "queue_deliveries", lambda ctx: 0),
            patch.object(app.bus, "handle", handle),
        ):
            worker.start()
            timers_ran.wait(2 * WAIT_S)
    finally:
        worker.stop()
        app.close()
    assert first_batch_saw_timers == [True]


def test_a_wake_reaches_both_the_timers_and_the_relay(sqlite_url: str) -> None:
    app = wire(sqlite_url)
    try:
        app.ctx.wake()  # what a rejection or a new webhook subscription calls
        assert app.work_due.timers.is_set()
        assert app.work_due.relay.is_set()
    finally:
        app.close()


def test_a_wake_ends_the_timer_loops_sleep_early(sqlite_url: str) -> None:
    # Only a wake can end the sleep within the test.
    app = bootstrap(Settings(database_url=sqlite_url, auto_migrate=True, worker_poll_seconds=60))
    rounds: list[int] = []
    second = threading.Event()

    def handle(command: object) -> int:
        if isinstance(command, RunDueTimers):
            rounds.append(1)
            if len(rounds) == 2:
                second.set()
        return 0

    worker = Worker(app)
    try:
        with (
            patch.object(worker_module, "relay_once", lambda bus: 0),
            patch.object(worker_module, "queue_deliveries", lambda ctx: 0),
            patch.object(app.bus, "handle", handle),
        ):
            worker.start()
            assert not second.wait(0.3)  # asleep after a round with nothing due
            app.ctx.wake()
            assert second.wait(WAIT_S)
    finally:
        worker.stop()
        app.close()


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

    worker = Worker(app)
    try:
        with (
            patch.object(worker_module, "relay_once", lambda bus: 0),
            patch.object(worker_module, "queue_deliveries", lambda ctx: 0),
            patch.object(app.bus, "handle", handle),
        ):
            worker.start()
            assert ran.wait(WAIT_S)
    finally:
        worker.stop()
        app.close()
    assert seen[0] is True
    assert not app.write_gate.is_urgent()  # this thread, like the API's, is not
