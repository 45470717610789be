"""The NATS relay's state as shown by `/readyz`."""

from __future__ import annotations

from typing import Any

from ordergrid.service.nats_relay import StreamRelay


def stream_relay_status(relay: StreamRelay) -> dict[str, Any]:
    h = relay.health
    return {
        "lag": relay.lag(),
        "published": h.published,
        "consecutive_failures": h.consecutive_failures,
        "last_error": h.last_error,
        "last_error_at": h.last_error_at.isoformat() if h.last_error_at else None,
        "retry_at": h.retry_at.isoformat() if h.retry_at else None,
    }
