"""The worker: runs due timers (deadlines, re-sourcing after failures), relays outbox
events to internal reactions (back-order re-sourcing) and to webhook deliveries, sends
those deliveries, and relays events to NATS, each on a thread of its own: a long pass of
one (back-orders woken by a burst of stock) never holds up another (a rejection's
re-sourcing)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ordergrid.bootstrap import Application
from ordergrid.service import queries
from ordergrid.service.commands import RunDueTimers, SweepBackorders
from ordergrid.service.nats_relay import BATCH as STREAM_BATCH
from ordergrid.service.relay import BATCH, relay_once
from ordergrid.service.webhook_delivery import QUEUE_BATCH, SEND_BATCH, queue_deliveries, send_due

log = logging.getLogger("ordergrid.worker")

#: Timers run (each in its own transaction) before the timer loop looks up again.
TIMER_BATCH = 100
#: The shortest sleep of the timer loop between rounds.
MIN_TIMER_WAIT_S = 0.005
#: How long stopping waits for each of the worker's threads to end its current step.
HELPER_JOIN_S = 10.0
#: How long `stop` waits for the whole worker: its relay step, then each thread in turn.
STOP_WAIT_S = 4 * HELPER_JOIN_S


class Worker:
    """Runs its loops until stopped; each sleeps only when it had nothing to do, and wakes
    early when a command of this process made work due."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_until_idle(self) -> int:
        """Handle everything that is due now; returns how many timers, events and webhook
        deliveries ran."""
        total = 0
        while True:
            ran = int(self.application.bus.handle(RunDueTimers(TIMER_BATCH)))
            read = relay_once(self.application.bus)
            queued = queue_deliveries(self.application.ctx)
            sent = send_due(self.application.ctx)
            streamed = self._stream_once()
            total += ran + read + queued + sent + streamed
            if not (ran or read or queued or sent or streamed):
                return total

    def _stream_once(self) -> int:
        relay = self.application.stream_relay
        return 0 if relay is None else relay.relay_once()

    def stream_events(self) -> None:
        """Relay events to NATS until stopped: apart from the rest, so NATS being slow or
        down delays nothing else (its events wait in the outbox)."""
        poll = self.application.settings.worker_poll_seconds
        while not self._stop.is_set():
            published = self._guarded(self._stream_once)
            if published is None or published < STREAM_BATCH:
                self._stop.wait(poll)

    def send_webhooks(self) -> None:
        """Send due webhook deliveries until stopped: apart from the timers and the relay,
        so a slow receiver never delays order processing."""
        due, poll = (
            self.application.work_due.webhooks,
            self.application.settings.worker_poll_seconds,
        )
        while not self._stop.is_set():
            due.clear()
            sent = self._guarded(lambda: send_due(self.application.ctx))
            if sent is None or sent < SEND_BATCH:
                due.wait(poll)

    def run_timers(self) -> None:
        """Run due timers until stopped: apart from the relay, so a rejection's re-sourcing
        starts at once even while the relay re-sources a long queue of back-orders."""
        due, poll = self.application.work_due.timers, self.application.settings.worker_poll_seconds
        if self.application.write_gate is not None:
            # Their writes are already late (a location failed, a deadline passed): on
            # SQLite they go before new orders waiting for the one writer.
            self.application.write_gate.mark_urgent()
        while not self._stop.is_set():
            due.clear()
            ran = self._guarded(lambda: self.application.bus.handle(RunDueTimers(TIMER_BATCH)))
            if ran is None or ran < TIMER_BATCH:
                due.wait(self._until_next_timer(poll))

    def _until_next_timer(self, poll: float) -> float:
        """Sleep until the next timer is due, so a deadline is acted on when it passes and
        not at the next poll; at most `poll` (another process may add an earlier one)."""
        ctx = self.application.ctx
        try:
            due_at = queries.next_timer_due(ctx)
        except Exception:
            return poll  # the next round meets the same trouble and logs it
        if due_at is None:
            return poll
        # A floor: a due timer another worker holds is not spun on.
        return min(poll, max(MIN_TIMER_WAIT_S, (due_at - ctx.clock.now()).total_seconds()))

    def run(self) -> None:
        """The relay loop on this thread, the others on threads of their own, until
        stopped; returns once they all ended."""
        helpers = [
            self._thread_of(self.run_timers, "ordergrid-timers"),
            self._thread_of(self.send_webhooks, "ordergrid-webhooks"),
        ]
        if self.application.stream_relay is not None:
            helpers.append(self._thread_of(self.stream_events, "ordergrid-nats-relay"))
        try:
            self._relay_until_stopped()
        finally:
            self.request_stop()
            for thread in helpers:
                thread.join(timeout=HELPER_JOIN_S)

    def _relay_until_stopped(self) -> None:
        settings = self.application.settings
        due = self.application.work_due.relay
        next_sweep = time.monotonic() + settings.backorder_sweep_seconds
        while not self._stop.is_set():
            due.clear()
            busy = self._round()
            if time.monotonic() >= next_sweep:
                self._guarded(lambda: self.application.bus.handle(SweepBackorders()))
                next_sweep = time.monotonic() + settings.backorder_sweep_seconds
            if not busy:
                due.wait(settings.worker_poll_seconds)

    @staticmethod
    def _thread_of(target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _round(self) -> bool:
        """One batch of the relay and one of webhook queueing (the sender is told at once
        when there is something to send); True when either had more waiting."""
        read = self._guarded(lambda: relay_once(self.application.bus))
        queued = self._guarded(lambda: queue_deliveries(self.application.ctx))
        if queued:
            self.application.work_due.webhooks.set()
        return any(
            n is not None and n >= limit for n, limit in ((read, BATCH), (queued, QUEUE_BATCH))
        )

    def _guarded(self, work: Callable[[], int]) -> int | None:
        # Whatever goes wrong (database down, a bug), the worker logs it, waits, and goes
        # on: a dead worker would stop deadlines and re-sourcing without anyone noticing.
        try:
            return work()
        except Exception:
            log.exception("worker round failed; retrying")
            self._stop.wait(min(5.0, self.application.settings.worker_poll_seconds * 10))
            return None

    def start(self) -> None:
        self._thread = self._thread_of(self.run, "ordergrid-worker")

    def request_stop(self) -> None:
        """Ask every loop to end after its current step; waits for nothing (safe in a
        signal handler, which may interrupt a loop holding the write turn)."""
        self._stop.set()
        self.application.work_due.set()

    def stop(self) -> None:
        """End the worker started with `start` and wait for its threads."""
        self.request_stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=STOP_WAIT_S)
