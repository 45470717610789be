"""The worker: runs due timers (deadlines, re-sourcing after failures), relays outbox
events to internal reactions (back-order re-sourcing) and to webhook deliveries, and
sends those deliveries, and relays events to NATS, on threads of their own."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ordergrid.bootstrap import Application
from ordergrid.service.commands import RunDueTimers, SweepBackorders
from ordergrid.service.nats_relay import BATCH as STREAM_BATCH
from ordergrid.service.relay import BATCH, relay_once
from ordergrid.service.webhook_delivery import QUEUE_BATCH, SEND_BATCH, queue_deliveries, send_due

log = logging.getLogger("ordergrid.worker")

#: Timers run per round before the relay gets its turn.
TIMER_BATCH = 100


class Worker:
    """Runs rounds of timers and relay until stopped; sleeps only when there was nothing
    to do, and wakes early when a command of this process made work due."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sender: threading.Thread | None = None
        self._streamer: threading.Thread | None = None

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
        poll = self.application.settings.worker_poll_seconds
        while not self._stop.is_set():
            sent = self._guarded(lambda: send_due(self.application.ctx))
            if sent is None or sent < SEND_BATCH:
                self._stop.wait(poll)

    def run(self) -> None:
        settings = self.application.settings
        due = self.application.work_due
        next_sweep = time.monotonic() + settings.backorder_sweep_seconds
        self._sender = threading.Thread(
            target=self.send_webhooks, name="ordergrid-webhooks", daemon=True
        )
        self._sender.start()
        if self.application.stream_relay is not None:
            self._streamer = threading.Thread(
                target=self.stream_events, name="ordergrid-nats-relay", daemon=True
            )
            self._streamer.start()
        while not self._stop.is_set():
            due.clear()
            busy = self._round()
            if time.monotonic() >= next_sweep:
                self._guarded(lambda: self.application.bus.handle(SweepBackorders()))
                next_sweep = time.monotonic() + settings.backorder_sweep_seconds
            if not busy:
                due.wait(settings.worker_poll_seconds)

    def _round(self) -> bool:
        """Timers, then one batch of the relay and one of webhook queueing; True when any
        of them had more waiting. Timers a command made due meanwhile (a rejection's
        re-sourcing) run before the next batch, not after the whole round."""
        ran = self._timers()
        read = self._guarded(lambda: relay_once(self.application.bus))
        self._timers_made_due()
        queued = self._guarded(lambda: queue_deliveries(self.application.ctx))
        self._timers_made_due()
        return any(
            n is not None and n >= limit
            for n, limit in ((ran, TIMER_BATCH), (read, BATCH), (queued, QUEUE_BATCH))
        )

    def _timers(self) -> int | None:
        return self._guarded(lambda: self.application.bus.handle(RunDueTimers(TIMER_BATCH)))

    def _timers_made_due(self) -> None:
        due = self.application.work_due
        if due.is_set():
            due.clear()
            self._timers()

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
        self._thread = threading.Thread(target=self.run, name="ordergrid-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.application.work_due.set()
        for thread in (self._thread, self._sender, self._streamer):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=10)
