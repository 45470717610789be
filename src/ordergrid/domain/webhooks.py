"""Webhook rules without I/O: which events a subscription wants, how a body is signed,
and when a failed delivery is tried again."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ordergrid.domain.errors import InvalidInput

SIGNATURE_HEADER = "X-Ordergrid-Signature"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the last attempt failed; another one is scheduled
    DEAD = "dead"  # every attempt failed; only a redelivery tries again


def check_filters(filters: list[str]) -> None:
    """An exact event type (`order.allocated`), a prefix wildcard (`order.*`) or `*`."""
    if not filters:
        raise InvalidInput("subscribe to at least one event type", code="no_events", field="events")
    for i, f in enumerate(filters):
        stem = f.removesuffix("*")
        wildcard = stem != f
        if not f or "*" in stem or (wildcard and stem and not stem.endswith(".")):
            raise InvalidInput(
                f"{f!r} is not an event type or a prefix wildcard such as 'order.*'",
                code="invalid_event_filter",
                field=f"events.{i}",
            )


def matches(filters: list[str], event_type: str) -> bool:
    for f in filters:
        if f == event_type or (f.endswith("*") and event_type.startswith(f[:-1])):
            return True
    return False


@dataclass(frozen=True, slots=True)
class EventTypes:
    """The event types a subscription's filters select, in a form a storage query can
    use: exact types and type prefixes, or every type."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    every: bool = False

    def __contains__(self, event_type: object) -> bool:
        if not isinstance(event_type, str):
            return False
        return (
            self.every
            or event_type in self.exact
            or any(event_type.startswith(p) for p in self.prefixes)
        )


def selected_types(filters: list[str]) -> EventTypes:
    """What `matches` accepts for these filters, as exact types and prefixes."""
    prefixes = tuple(sorted({f[:-1] for f in filters if f.endswith("*")}))
    if "" in prefixes:
        return EventTypes(every=True)
    return EventTypes(frozenset(f for f in filters if not f.endswith("*")), prefixes)


def payload(event_id: str, event_type: str, at: datetime, data: dict[str, Any]) -> str:
    """The exact body POSTed (and signed): `{"id", "type", "at", "data"}`."""
    body = {"id": event_id, "type": event_type, "at": at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


def signature(secret: str, body: bytes) -> str:
    """The value of the signature header: `sha256=<hex HMAC-SHA256 of the body>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def next_attempt(
    now: datetime, attempts: int, base_seconds: float, cap_seconds: float, jitter: float
) -> datetime:
    """Exponential back-off after `attempts` failed attempts, with jitter in [0, 1):
    the delay is between half and all of `base · 2^(attempts-1)` (at most `cap`), so
    receivers coming back from an outage are not hit by every sender at once."""
    full = min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))
    return now + timedelta(seconds=full * (0.5 + 0.5 * jitter))
