"""Short leases on the webhook deliveries a worker is sending, renewed while it sends.

A claimed delivery is leased for a few seconds only (`lease_seconds`). While the claiming
process lives, a heartbeat renews the leases of the deliveries it still holds: those
waiting for a sending thread, and those being sent, each for no longer than its attempt
may take (`attempt_seconds`, bounded by the sender's own timeout). So the deliveries of
a process killed mid-send are free again within one lease, while a slow receiver is not
sent the same delivery by another live process meanwhile."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self, TypeVar

from ordergrid.service.context import Context

T = TypeVar("T")
log = logging.getLogger("ordergrid.webhooks")


class LeaseKeeper:
    """Renews `claim`'s leases on a batch of deliveries until the batch is done."""

    def __init__(self, ctx: Context, claim: str, delivery_ids: Iterable[str]) -> None:
        self._ctx, self._claim = ctx, claim
        self._waiting = set(delivery_ids)
        #: delivery id -> when its running attempt must be over
        self._running: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._heart = threading.Thread(
            target=self._beat, name="ordergrid-webhook-leases", daemon=True
        )

    def __enter__(self) -> Self:
        self._heart.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._heart.join()

    def attempt(self, delivery_id: str, send: Callable[[], T]) -> T:
        """Run `send` as the attempt of a delivery, its lease renewed meanwhile."""
        must_end = self._ctx.clock.now() + timedelta(seconds=self._ctx.webhooks.attempt_seconds)
        with self._lock:
            self._waiting.discard(delivery_id)
            self._running[delivery_id] = must_end
        try:
            return send()
        finally:
            with self._lock:
                del self._running[delivery_id]

    def renew(self) -> None:
        """One heartbeat: extend the lease of every delivery still being worked on. An
        attempt past its bound is presumed stuck and left to lapse."""
        now = self._ctx.clock.now()
        with self._lock:
            ids = self._waiting | {i for i, end in self._running.items() if end > now}
        if not ids:
            return
        until = now + timedelta(seconds=self._ctx.webhooks.lease_seconds)
        with self._ctx.uow() as uow:
            # A delivery this claim lost is someone else's now: its outcome here will not
            # be recorded (`settle`), so nothing more to do about it.
            uow.webhooks.renew(self._claim, ids, until)
            uow.commit()

    def _beat(self) -> None:
        while not self._stop.wait(self._ctx.webhooks.renew_seconds):
            try:
                self.renew()
            except Exception:  # the database may be away for a moment; try next beat
                log.warning("renewing webhook delivery leases failed", exc_info=True)
