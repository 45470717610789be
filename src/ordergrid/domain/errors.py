"""Structured domain errors, each with a stable code the API maps to HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: `code` is stable snake_case, `details` is JSON-serialisable."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details


class NotFound(DomainError):
    """An id that does not name anything (maps to 404)."""

    code = "not_found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} not found", code=f"{kind}_not_found", id=ident)


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a business rule (maps to 422)."""

    code = "invalid_input"

    def __init__(self, message: str, *, code: str, field: str, **details: Any) -> None:
        super().__init__(message, code=code, field=field, **details)


class Conflict(DomainError):
    """A request that conflicts with the current state (maps to 409)."""

    code = "conflict"


class InvalidTransition(Conflict):
    """A state machine refused a transition."""

    code = "invalid_transition"

    def __init__(self, entity: str, current: str, requested: str) -> None:
        super().__init__(
            f"{entity} cannot go from {current!r} to {requested!r}",
            current=current,
            requested=requested,
            entity=entity,
        )


class StockConflict(Conflict):
    """A conditional reservation lost a race: the caller re-sources with fresh numbers."""

    code = "stock_conflict"


class Forbidden(DomainError):
    """The caller's token does not cover this channel or location (maps to 403)."""

    code = "forbidden"


class Unauthenticated(DomainError):
    """Credentials (a bearer token, a webhook signature) missing or wrong (maps to 401)."""

    code = "unauthenticated"


class Unavailable(DomainError):
    """Contention or an unreachable dependency; the client may retry (maps to 503)."""

    code = "unavailable"
