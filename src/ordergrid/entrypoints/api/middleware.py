"""ASGI middleware: request metrics and the request body size limit."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordergrid.adapters.metrics import Metrics
from ordergrid.entrypoints.api.errors import error_body


class BodyTooLarge(Exception):
    pass


class EdgeMiddleware:
    """Counts and times every request by route template; refuses oversized bodies with 413
    before the application reads them."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body: int) -> None:
        self.app, self.metrics, self.max_body = app, metrics, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(send)
            self._observe(scope, 413, started)
            return

        seen = {"bytes": 0}

        async def counting_receive() -> Message:
            message = await receive()
            seen["bytes"] += len(message.get("body", b""))
            if seen["bytes"] > self.max_body:
                raise BodyTooLarge
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, counting_receive, recording_send)
        except BodyTooLarge:
            await self._too_large(send)
            status["code"] = 413
        self._observe(scope, status["code"], started)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            error_body("body_too_large", f"request body over {self.max_body} bytes")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.observe_request(
            scope["method"], template, status, time.perf_counter() - started
        )
