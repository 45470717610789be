"""Outbox events to the event stream (NATS JetStream): at least once, in outbox order.

The relay leases its consumer for a batch, reads the events after the consumer's durable
position, publishes them, and moves the position only past what the stream confirmed.
A crash between publishing and moving the position publishes the batch again; the
stream drops the repeats by event id. When the stream is unreachable the relay backs
off and retries, and events wait in the outbox meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ordergrid.service.context import Context
from ordergrid.service.ports import EventPublisher, PublishFailed, StoredEvent

CONSUMER = "nats"
BATCH = 500
#: The lag is counted up to this many events.
LAG_COUNTED_UP_TO = 1_000_000


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retrying after consecutive failures: doubling, capped."""

    first_seconds: float = 0.5
    max_seconds: float = 30.0

    def delay(self, failures: int) -> timedelta:
        return timedelta(seconds=min(self.max_seconds, self.first_seconds * 2 ** (failures - 1)))


@dataclass(slots=True)
class RelayHealth:
    """What this process's relay has done; read by readiness checks and metrics."""

    published: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_published_at: datetime | None = None
    retry_at: datetime | None = None

    def succeeded(self, count: int, now: datetime) -> None:
        self.published += count
        self.consecutive_failures = 0
        self.retry_at = None
        self.last_published_at = now

    def failed(self, error: str, now: datetime, backoff: Backoff) -> None:
        self.failures += 1
        self.consecutive_failures += 1
        self.last_error, self.last_error_at = error[:512], now
        self.retry_at = now + backoff.delay(self.consecutive_failures)


class StreamRelay:
    """Relays the outbox to one publisher under one durable consumer name."""

    def __init__(
        self,
        ctx: Context,
        publisher: EventPublisher,
        consumer: str = CONSUMER,
        batch: int = BATCH,
        backoff: Backoff | None = None,
    ) -> None:
        self.ctx, self.publisher = ctx, publisher
        self.consumer, self.batch = consumer, batch
        self.backoff = backoff or Backoff()
        self.health = RelayHealth()

    def relay_once(self) -> int:
        """Publish the next batch; returns how many events the stream confirmed (0 while
        backing off, when another relay holds the lease, or when nothing is waiting)."""
        if self.health.retry_at is not None and self.ctx.clock.now() < self.health.retry_at:
            return 0
        with self.ctx.uow(readonly=True) as lease:
            if not lease.outbox.hold_consumer(self.consumer):
                return 0
            events = lease.outbox.after(lease.outbox.consumer_position(self.consumer), self.batch)
            if not events:
                return 0
            # Still inside the lease: no other relay publishes this batch meanwhile.
            return self._publish(events)

    def _publish(self, events: list[StoredEvent]) -> int:
        try:
            self.publisher.publish(events)
            confirmed, error = len(events), None
        except PublishFailed as exc:
            confirmed = max(0, min(exc.confirmed, len(events)))
            error = str(exc) or type(exc).__name__
        if confirmed:
            self._move_to(events[confirmed - 1])
        now = self.ctx.clock.now()
        if error is None:
            self.health.succeeded(confirmed, now)
        else:
            self.health.published += confirmed
            self.health.failed(error, now, self.backoff)
        return confirmed

    def _move_to(self, last: StoredEvent) -> None:
        with self.ctx.uow() as uow:
            uow.outbox.set_consumer_position(self.consumer, last.cursor)
            uow.commit()

    def lag(self) -> int:
        """Events written after the consumer's position, whichever relay moves it (at
        most `LAG_COUNTED_UP_TO`)."""
        with self.ctx.uow(readonly=True) as uow:
            position = uow.outbox.consumer_position(self.consumer)
            return uow.outbox.backlog(position, LAG_COUNTED_UP_TO)
