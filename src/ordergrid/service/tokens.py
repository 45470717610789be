"""API tokens: only a hash is stored; the secret is shown once, at creation."""

from __future__ import annotations

import hashlib
import secrets

from ordergrid.service.commands import CreateToken
from ordergrid.service.context import Context
from ordergrid.service.ports import ApiToken, Role


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(cmd: CreateToken, ctx: Context) -> tuple[str, ApiToken]:
    secret = "og_" + secrets.token_urlsafe(32)
    token = ApiToken(
        id=ctx.ids.new_id(),
        name=cmd.name,
        role=Role(cmd.role),
        token_hash=hash_token(secret),
        created_at=ctx.clock.now(),
        channels=cmd.channels,
        locations=cmd.locations,
    )
    with ctx.uow() as uow:
        uow.tokens.add(token)
        uow.commit()
    return secret, token
