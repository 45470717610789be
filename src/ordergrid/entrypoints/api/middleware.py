"""ASGI middleware: request ids, the access log, request metrics, the bearer-token gate
and the request body size limit."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordergrid.adapters.metrics import Metrics
from ordergrid.entrypoints.api.errors import error_body
from ordergrid.entrypoints.logs import request_id

access = logging.getLogger("ordergrid.access")
#: A caller's own request id is kept when it is this tame (it goes into logs and headers).
_GIVEN_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class BodyTooLarge(HTTPException):
    """Raised while the body streams in (no Content-Length); FastAPI lets an
    HTTPException through, so the application answers 413 itself."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class EdgeMiddleware:
    """Gives every request an id (the caller's `X-Request-Id` when it sends a tame one),
    answers with it in `X-Request-Id`, logs the request when it is answered, counts and
    times it by route template; refuses oversized bodies with 413 before the application
    reads them."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body: int,
        large_bodies: dict[str, int] | None = None,
        signed_paths: frozenset[str] = frozenset(),
        access_log: bool = True,
    ) -> None:
        self.app, self.metrics, self.max_body = app, metrics, max_body
        self.access_log = access_log
        # Bulk endpoints (by exact path) that accept more than `max_body`.
        self.large_bodies = large_bodies or {}
        # Webhook receivers (by exact path) whose callers cannot send a bearer token: the
        # route checks the body's signature instead.
        self.signed_paths = signed_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"")
        rid = given.decode() if _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        # For the handler of unexpected errors, which runs outside this middleware.
        scope.setdefault("state", {})["request_id"] = rid
        try:
            await self._answer(scope, receive, _with_request_id(send, rid), headers)
        finally:
            request_id.reset(token)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes]
    ) -> None:
        started = time.perf_counter()
        status = {"code": 500}
        if (
            scope["path"].startswith("/v1/")
            and b"authorization" not in headers
            and scope["path"] not in self.signed_paths
        ):
            # Before the body is read: without credentials the answer is 401, whatever
            # the body holds.
            await _reply(
                send,
                401,
                error_body("unauthorized", "missing bearer token"),
                [(b"www-authenticate", b"Bearer")],
            )
            self._observe(scope, 401, started)
            return
        limit = self.large_bodies.get(scope["path"], self.max_body)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, limit)
            self._observe(scope, 413, started)
            return

        seen = {"bytes": 0}

        async def counting_receive() -> Message:
            message = await receive()
            seen["bytes"] += len(message.get("body", b""))
            if seen["bytes"] > limit:
                raise BodyTooLarge
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, counting_receive, recording_send)
        except BodyTooLarge:
            await self._too_large(send, limit)
            status["code"] = 413
        except Exception:
            self._observe(scope, 500, started)  # answered by the unexpected-error handler
            raise
        self._observe(scope, status["code"], started)

    async def _too_large(self, send: Send, limit: int) -> None:
        message = f"request body over {limit} bytes"
        await _reply(send, 413, error_body("body_too_large", message))

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        seconds = time.perf_counter() - started
        self.metrics.observe_request(scope["method"], template, status, seconds)
        if self.access_log:
            _log_request(scope, template, status, seconds)


def _log_request(scope: Scope, template: str, status: int, seconds: float) -> None:
    method, path, ms = scope["method"], scope["path"], round(seconds * 1000, 2)
    client = scope.get("client")
    access.info(
        "%s %s %d %.2f ms",
        method,
        path,
        status,
        ms,
        extra={
            "method": method,
            "path": path,
            "route": template,
            "status": status,
            "duration_ms": ms,
            "client": client[0] if client else None,
            "request_id": request_id.get(),
        },
    )


def _with_request_id(send: Send, rid: str) -> Send:
    header = (b"x-request-id", rid.encode())

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), header]}
        await send(message)

    return sending


async def _reply(
    send: Send, status: int, payload: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})
