"""What handlers depend on, wired once by the composition root."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ordergrid.domain.reservations import ReservationLimits
from ordergrid.service.attempt_pool import AttemptPool
from ordergrid.service.ports import (
    Clock,
    Geocoder,
    HostResolver,
    IdSource,
    Jitter,
    Observer,
    UnitOfWork,
    WebhookSender,
)
from ordergrid.service.scarcity_book import ScarcityBook


class UnitOfWorkFactory(Protocol):
    """A new unit of work; read-only ones never block writers (and may not commit)."""

    def __call__(self, readonly: bool = False) -> UnitOfWork: ...


class NullObserver:
    def decision_made(self, outcome: str, elapsed_ms: float) -> None:
        del outcome, elapsed_ms


class PendingObservations(threading.local):
    """Telemetry of the command running on this thread, reported only once it commits:
    an attempt that is rolled back and retried must not be counted twice."""

    def __init__(self) -> None:
        self.decisions: list[tuple[str, float]] = []

    def decision_made(self, outcome: str, elapsed_ms: float) -> None:
        self.decisions.append((outcome, elapsed_ms))

    def discard(self) -> None:
        self.decisions.clear()

    def report(self, observer: Observer) -> None:
        for outcome, elapsed_ms in self.decisions:
            observer.decision_made(outcome, elapsed_ms)
        self.decisions.clear()


class NoSender:
    """Where no sender is wired (service tests that do not deliver), nothing arrives."""

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        del url, body, headers
        return "no webhook sender is configured"


class NoResolver:
    """Resolves nothing, so only IP literals pass; the composition root wires DNS."""

    def addresses(self, host: str) -> list[str]:
        del host
        return []


class MiddleJitter:
    def fraction(self) -> float:
        return 0.5


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """How webhooks are delivered, and what they may point at."""

    sender: WebhookSender = field(default_factory=NoSender)
    resolver: HostResolver = field(default_factory=NoResolver)
    jitter: Jitter = field(default_factory=MiddleJitter)
    max_attempts: int = 8
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 3600.0
    #: How long a claimed delivery is left to its worker before another may try it; the
    #: worker renews it every `renew_seconds` while it works on the delivery, for at
    #: most `attempt_seconds` of sending (the sender's timeout bounds an attempt).
    lease_seconds: float = 6.0
    renew_seconds: float = 2.0
    attempt_seconds: float = 15.0
    allow_private: bool = False
    #: Deliveries sent at once in a round; a slow receiver holds up one of them only.
    concurrency: int = 8
    #: The threads they are sent on, kept between rounds.
    attempts: AttemptPool = field(default_factory=AttemptPool)


def _nobody_listens() -> None:
    """Without an embedded worker, workers find due work by polling."""


@dataclass(frozen=True, slots=True)
class Context:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdSource
    geocoder: Geocoder
    observer: Observer = field(default_factory=NullObserver)
    pending: PendingObservations = field(default_factory=PendingObservations)
    #: Called after a commit that made work due now (a re-sourcing): wakes the worker of
    #: this process instead of letting it sleep out its poll interval.
    wake: Callable[[], None] = _nobody_listens
    #: Shadow prices of stock for this process's decisions (empty when not refreshed).
    scarcity: ScarcityBook = field(default_factory=ScarcityBook)
    webhooks: WebhookOptions = field(default_factory=WebhookOptions)
    #: How long carts may hold stock.
    reservations: ReservationLimits = field(default_factory=ReservationLimits)

    def id_stream(self) -> Iterator[str]:
        while True:
            yield self.ids.new_id()
