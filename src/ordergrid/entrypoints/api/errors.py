"""One place that turns every failure into the contract's error body."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ordergrid.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("ordergrid.api")

_STATUS: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (InvalidInput, 422),
    (Conflict, 409),
    (Forbidden, 403),
    (Unauthenticated, 401),
    (Unavailable, 503),
]
_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def field_path(loc: Sequence[int | str]) -> str:
    """("body", "lines", 0, "sku") -> "lines.0.sku"; query and header names kept as is."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            # A body that is not JSON at all has no field; the parser's offset is not one.
            "field": "body" if e["type"] == "json_invalid" else field_path(e["loc"]),
            "code": e["type"],
            "message": e["msg"],
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "code": "invalid", "message": "invalid"}
    message = f"{first['field']}: {first['message']}"
    return JSONResponse(
        error_body("validation_error", message, {"field": first["field"], "errors": errors}), 422
    )


def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((s for kind, s in _STATUS if isinstance(exc, kind)), 400)
    headers = {"Retry-After": "1"} if status == 503 else None
    return JSONResponse(error_body(exc.code, exc.message, exc.details), status, headers=headers)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        # FastAPI answers 400 for a body it cannot decode (bad UTF-8, nesting beyond the
        # JSON parser); to a client that is invalid input like any other.
        errors = [{"field": "body", "code": "json_invalid", "message": str(exc.detail)}]
        return JSONResponse(
            error_body(
                "validation_error", f"body: {exc.detail}", {"field": "body", "errors": errors}
            ),
            422,
        )
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), exc.status_code, headers=getattr(exc, "headers", None)
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Outside the edge middleware, so its request id comes from the request's state.
    rid = getattr(request.state, "request_id", None)
    log.exception("unhandled error", exc_info=exc, extra={"request_id": rid})
    headers = None if rid is None else {"X-Request-Id": rid}
    body = error_body("internal_error", "unexpected server error")
    return JSONResponse(body, 500, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
