"""Deterministic clock, ids and geocoder for tests, demos and the simulator."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta


class FixedClock:
    """A clock that moves only when told to; always timezone-aware UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _utc(start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = _utc(when)

    def advance(self, delta: timedelta | None = None, *, seconds: float = 0) -> datetime:
        """Move forward by `delta` plus `seconds`; returns the new time."""
        with self._lock:
            self._now += (delta or timedelta()) + timedelta(seconds=seconds)
            return self._now


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    return when.astimezone(UTC)


class SequentialIds:
    """Ids `000000000001`, `000000000002`, …: deterministic and ordered like creation."""

    def __init__(self, start: int = 1, prefix: str = "") -> None:
        self._counter: Iterator[int] = itertools.count(start)
        self._prefix = prefix
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            return f"{self._prefix}{next(self._counter):012d}"


class StaticGeocoder(dict[tuple[str, str], tuple[float, float]]):
    """Geocoder from a fixed table `{(country, postal_code): (lat, lon)}`.

    A key with an empty country matches that postal code in any country.
    """

    def locate(self, country: str | None, postal_code: str | None) -> tuple[float, float] | None:
        if not postal_code:
            return None
        code = postal_code.strip()
        return self.get(((country or "").strip().upper(), code)) or self.get(("", code))
