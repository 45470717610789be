"""The worker: relays outbox events to internal reactions (back-order re-sourcing)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ordergrid.bootstrap import Application
from ordergrid.service.commands import SweepBackorders
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
        settings = self.application.settings
        next_sweep = time.monotonic() + settings.backorder_sweep_seconds
        while not self._stop.is_set():
            busy = self._round()
            if time.monotonic() >= next_sweep:
                self._guarded(lambda: self.application.bus.handle(SweepBackorders()))
                next_sweep = time.monotonic() + settings.backorder_sweep_seconds
            if not busy:
                self._stop.wait(settings.worker_poll_seconds)

    def _round(self) -> bool:
        """One relay round; True when a full batch came back (more is waiting)."""
        read = self._guarded(lambda: relay_once(self.application.bus))
        return read is not None and read >= BATCH

    def _guarded(self, work: Callable[[], int]) -> int | None:
        # Whatever goes wrong (database down, a bug), the worker logs it, waits, and goes
        # on: a dead worker would stop back-order re-sourcing without anyone noticing.
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
        if self._thread is not None:
            self._thread.join(timeout=10)
