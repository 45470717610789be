"""The worker: relays outbox events to internal reactions (back-order re-sourcing)."""

from __future__ import annotations

import logging
import threading

from ordergrid.bootstrap import Application
from ordergrid.domain.errors import DomainError
from ordergrid.service.relay import BATCH, relay_once

log = logging.getLogger("ordergrid.worker")


class Worker:
    """Runs `relay_once` until stopped; sleeps only when there was nothing to do."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_until_idle(self) -> int:
        """Handle everything that is waiting now; returns how many events were read."""
        total = 0
        while n := relay_once(self.application.bus):
            total += n
        return total

    def run(self) -> None:
        poll = self.application.settings.worker_poll_seconds
        while not self._stop.is_set():
            try:
                # A full batch means more is waiting; otherwise wait for new events.
                busy = relay_once(self.application.bus) >= BATCH
            except DomainError as exc:  # contention or database down: retried next round
                log.warning("worker round failed: %s", exc.message)
                busy = False
            if not busy:
                self._stop.wait(poll)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="ordergrid-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
