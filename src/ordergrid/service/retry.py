"""Running a transaction again when it lost a race."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ordergrid.domain.errors import StockConflict, Unavailable
from ordergrid.service.ports import ConcurrentUpdate

T = TypeVar("T")
ATTEMPTS = 10


def retrying(work: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run `work` until it does not lose a race: a reservation another transaction took
    first (`StockConflict`) or a concurrent write to the same row (`ConcurrentUpdate`).
    Each attempt reads fresh data; after `attempts` the caller gets a retryable 503."""
    for _ in range(attempts):
        try:
            return work()
        except (StockConflict, ConcurrentUpdate):
            continue
    raise Unavailable("too much contention on the same stock or order; retry", code="contention")
