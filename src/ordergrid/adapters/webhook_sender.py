"""Webhook I/O: the HTTP sender (httpx), host resolution and the jitter of retries."""

from __future__ import annotations

import random
import socket
import threading

import httpx


class HttpxSender:
    """POSTs with a short timeout and without following redirects (a redirect could lead
    to an address the subscription check refused).

    One client for every delivery, made on first use: its connections are kept alive
    between deliveries to the same receiver, and its TLS context (loading the CA bundle
    costs milliseconds of CPU) is built once, not per event.
    """

    def __init__(self, timeout_seconds: float, connections: int = 16) -> None:
        self.timeout = httpx.Timeout(timeout_seconds)
        self._limits = httpx.Limits(max_connections=connections)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _shared(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self.timeout, limits=self._limits, follow_redirects=False
                )
            return self._client

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        try:
            r = self._shared().post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return "timeout"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= r.status_code < 300:
            return None
        return f"HTTP {r.status_code}"


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
