"""Webhook I/O: the HTTP sender (httpx), host resolution and the jitter of retries."""

from __future__ import annotations

import random
import socket

import httpx


class HttpxSender:
    """POSTs with a short timeout and without following redirects (a redirect could lead
    to an address the subscription check refused)."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = httpx.Timeout(timeout_seconds)

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        try:
            r = httpx.post(
                url, content=body, headers=headers, timeout=self.timeout, follow_redirects=False
            )
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
