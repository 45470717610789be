"""Keeps this process's shadow prices of stock fresh (when the settings turn it on):
every process that decides orders (`serve`, `worker`) refreshes its own."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from ordergrid.bootstrap import Application
from ordergrid.service.commands import RefreshScarcity

log = logging.getLogger("ordergrid.scarcity")


class ScarcityRefresher:
    def __init__(self, application: Application) -> None:
        self.application = application
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.application.settings.scarcity_refresh_seconds > 0

    def refresh(self) -> int:
        s = self.application.settings
        cmd = RefreshScarcity(
            lookback=timedelta(hours=s.scarcity_lookback_hours),
            horizon=timedelta(hours=s.scarcity_horizon_hours),
        )
        return int(self.application.bus.handle(cmd))

    def run(self) -> None:
        while not self._stop.is_set():
            # A failed refresh keeps the last prices; the next period tries again.
            try:
                priced = self.refresh()
                log.info("shadow prices refreshed: %d (location, SKU) priced", priced)
            except Exception:
                log.exception("shadow price refresh failed; keeping the last prices")
            self._stop.wait(self.application.settings.scarcity_refresh_seconds)

    def start(self) -> None:
        if not self.enabled:
            return
        self._thread = threading.Thread(target=self.run, name="ordergrid-scarcity", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
