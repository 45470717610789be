"""Bearer tokens and roles: who may do what (401 without a valid token, 403 without the right)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ordergrid.bootstrap import Application
from ordergrid.service.commands import Actor
from ordergrid.service.ports import Role
from ordergrid.service.tokens import hash_token


class Right(StrEnum):
    READ = "read"
    NETWORK = "network"  # locations and products
    INVENTORY = "inventory"
    ORDERS = "orders"
    FULFIL = "fulfil"
    POLICIES = "policies"
    ADMIN = "admin"


RIGHTS: dict[Role, frozenset[Right]] = {
    Role.ADMIN: frozenset(Right),
    Role.INTEGRATOR: frozenset({Right.READ, Right.INVENTORY, Right.ORDERS, Right.FULFIL}),
    Role.ASSOCIATE: frozenset({Right.READ, Right.FULFIL}),
    Role.VIEWER: frozenset({Right.READ}),
}

_bearer = HTTPBearer(auto_error=False, description="API token")


async def application(request: Request) -> Application:
    # Dependencies that do no I/O are coroutines: FastAPI runs plain functions on a
    # worker thread, and that hand-off costs more than the work.
    app: Application = request.app.state.ordergrid
    return app


async def _identify(app: Application, token: str) -> tuple[Role, Actor] | None:
    admin = app.settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return Role.ADMIN, Actor("admin")
    return await run_in_threadpool(_stored_token, app, token)


def _stored_token(app: Application, token: str) -> tuple[Role, Actor] | None:
    with app.ctx.uow(readonly=True) as uow:
        found = uow.tokens.by_hash(hash_token(token))
    if found is None:
        return None
    return found.role, Actor(
        f"token:{found.name}",
        channels=found.channels or None,
        locations=found.locations or None,
    )


def require(right: Right) -> Callable[..., Awaitable[Actor]]:
    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise HTTPException(401, "missing bearer token", headers=challenge)
        found = await _identify(await application(request), credentials.credentials)
        if found is None:
            raise HTTPException(401, "unknown or revoked token", headers=challenge)
        role, actor = found
        if right not in RIGHTS[role]:
            raise HTTPException(403, f"role {role.value!r} may not {right.value}")
        return actor

    return dependency
