"""The worker's round: timers a command makes due while the relay works run before the
round goes on to its next batch (a rejection's re-sourcing does not wait a whole round)."""

from __future__ import annotations

from unittest.mock import patch

from tests.integration.conftest import wire

from ordergrid.entrypoints import worker as worker_module
from ordergrid.entrypoints.worker import Worker


def test_timers_made_due_during_the_relay_run_before_webhook_queueing(sqlite_url: str) -> None:
    app = wire(sqlite_url)
    steps: list[str] = []

    def relay(bus: object) -> int:
        steps.append("relay")
        app.work_due.set()  # a command handled meanwhile made a timer due
        return 0

    def timers(command: object) -> int:
        steps.append("timers")
        return 0

    def queue(ctx: object) -> int:
        steps.append("queue")
        return 0

    try:
        with (
            patch.object(worker_module, "relay_once", relay),
            patch.object(worker_module, "queue_deliveries", queue),
            patch.object(app.bus, "handle", timers),
        ):
            Worker(app)._round()
    finally:
        app.close()
    assert steps == ["timers", "relay", "timers", "queue"]
    assert not app.work_due.is_set()  # the wake was used, not left to end a sleep early


def test_a_round_without_new_work_runs_timers_once(sqlite_url: str) -> None:
    app = wire(sqlite_url)
    steps: list[str] = []
    try:
        with (
            patch.object(worker_module, "relay_once", lambda bus: steps.append("relay") or 0),
            patch.object(worker_module, "queue_deliveries", lambda ctx: steps.append("queue") or 0),
            patch.object(app.bus, "handle", lambda command: steps.append("timers") or 0),
        ):
            Worker(app)._round()
    finally:
        app.close()
    assert steps == ["timers", "relay", "queue"]
