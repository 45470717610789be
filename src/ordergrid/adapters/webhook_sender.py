"""Webhook I/O: the HTTP sender (urllib3), host resolution and the jitter of retries."""

from __future__ import annotations

import random
import socket

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as Timeout

#: Bytes of a receiver's answer read; a longer answer closes the connection instead.
MAX_ANSWER_BYTES = 64 * 1024


class PooledSender:
    """POSTs with a short timeout, without following redirects (a redirect could lead to
    an address the subscription check refused) and without retrying (the delivery
    schedule does that).

    One connection pool per receiver, shared by every delivery: connections are kept
    alive between deliveries, and the TLS context is built once, not per event. The
    sender runs once per event and subscription, so its CPU per request counts: urllib3
    is the leanest well-kept client for blocking calls.
    """

    def __init__(self, timeout_seconds: float, connections: int = 16) -> None:
        self._pool = urllib3.PoolManager(
            maxsize=connections,
            timeout=urllib3.Timeout(connect=timeout_seconds, read=timeout_seconds),
            retries=False,
        )

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        try:
            r = self._pool.request(
                "POST", url, body=body, headers=headers, redirect=False, preload_content=False
            )
        except NewConnectionError as exc:  # before Timeout: urllib3 derives it from that
            return f"connection failed: {exc}"
        except Timeout:
            return "timeout"
        except (HTTPError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
        _finish(r)
        if 200 <= r.status < 300:
            return None
        return f"HTTP {r.status}"


def _finish(r: urllib3.BaseHTTPResponse) -> None:
    """Read the answer (it is not used) so the connection can serve the next delivery;
    one that goes on past the limit, or breaks off, is closed instead."""
    try:
        whole = len(r.read(MAX_ANSWER_BYTES + 1)) <= MAX_ANSWER_BYTES
    except (HTTPError, OSError, ProtocolError):
        whole = False
    if whole:
        r.release_conn()
    else:
        r.close()


class SocketResolver:
    def addresses(self, host: str) -> list[str]:
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return []
        return sorted({str(info[4][0]) for info in found})


class RandomJitter:
    def fraction(self) -> float:
        return random.random()
