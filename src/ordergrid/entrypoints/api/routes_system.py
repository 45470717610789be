"""Health, readiness, metrics and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.errors import error_body
from ordergrid.entrypoints.api.presenters import token_json
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.entrypoints.api.stream_status import stream_relay_status
from ordergrid.service.commands import Actor, CreateToken

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "database unreachable"}})
def readyz(app: App, response: Response) -> dict[str, Any]:
    """The database answers. With NATS configured, also how far the relay is behind and
    its last error; NATS being down does not make the API unready (events wait)."""
    try:
        with app.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        response.status_code = 503
        response.headers["Retry-After"] = "1"
        return error_body("database_unavailable", "the database does not answer")
    ready: dict[str, Any] = {"status": "ready", "database": app.engine.dialect.name}
    if app.stream_relay is not None:
        ready["nats"] = stream_relay_status(app.stream_relay)
    return ready


@router.get("/metrics", response_class=Response)
def metrics(app: App) -> Response:
    """Prometheus text format: requests, latencies, orders by status, sourcing decisions."""
    return Response(app.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.post("/v1/tokens", response_model=s.TokenOut, status_code=201, tags=["tokens"])
def create_token(
    body: s.TokenIn, app: App, _: Annotated[Actor, Depends(require(Right.ADMIN))]
) -> dict[str, Any]:
    """Create a token with a role; integrators may be scoped to channels, associates to
    locations. The secret is in the response once and never again."""
    secret, token = app.bus.handle(
        CreateToken(body.name, body.role, frozenset(body.channels), frozenset(body.locations))
    )
    return token_json(token, secret)


@router.get("/v1/tokens", response_model=list[s.TokenOut], tags=["tokens"])
def list_tokens(
    app: App, _: Annotated[Actor, Depends(require(Right.ADMIN))]
) -> list[dict[str, Any]]:
    with app.ctx.uow(readonly=True) as uow:
        return [token_json(t) for t in uow.tokens.all()]
