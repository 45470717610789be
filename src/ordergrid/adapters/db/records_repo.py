"""Decisions, idempotency keys and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.driver import write
from ordergrid.domain.sourcing.decision import explanation_of_record
from ordergrid.service.ports import ApiToken, Role, StoredDecision

#: Built once (a statement costs more to build than to run).
_INSERT_DECISION = t.decisions.insert()


class SqlDecisions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, decision: StoredDecision) -> None:
        write(
            self.conn,
            _INSERT_DECISION,
            {
                "id": decision.id,
                "order_id": decision.order_id,
                "at": decision.at,
                "explanation": decision.explanation,
            },
        )

    def for_order(self, order_id: str) -> list[StoredDecision]:
        D = t.decisions  # noqa: N806 - table alias
        rows = self.conn.execute(select(D).where(D.c.order_id == order_id).order_by(D.c.at, D.c.id))
        return [
            StoredDecision(r.id, r.order_id, r.at, explanation_of_record(r.explanation))
            for r in rows
        ]


class SqlIdempotency:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> tuple[str, str] | None:
        K = t.idempotency_keys  # noqa: N806 - table alias
        r = self.conn.execute(select(K.c.fingerprint, K.c.order_id).where(K.c.key == key)).first()
        return None if r is None else (r.fingerprint, r.order_id)

    def put(self, key: str, fingerprint: str, order_id: str, at: datetime) -> None:
        self.conn.execute(
            t.idempotency_keys.insert().values(
                key=key, fingerprint=fingerprint, order_id=order_id, created_at=at
            )
        )


class SqlTokens:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _token(self, r: Any) -> ApiToken:  # a SQLAlchemy Row
        return ApiToken(
            r.id,
            r.name,
            Role(r.role),
            r.token_hash,
            r.created_at,
            frozenset(r.channels),
            frozenset(r.locations),
        )

    def by_hash(self, token_hash: str) -> ApiToken | None:
        T = t.api_tokens  # noqa: N806 - table alias
        r = self.conn.execute(select(T).where(T.c.token_hash == token_hash)).first()
        return None if r is None else self._token(r)

    def add(self, token: ApiToken) -> None:
        self.conn.execute(
            t.api_tokens.insert().values(
                id=token.id,
                name=token.name,
                role=token.role.value,
                token_hash=token.token_hash,
                channels=sorted(token.channels),
                locations=sorted(token.locations),
                created_at=token.created_at,
            )
        )

    def all(self) -> list[ApiToken]:
        rows = self.conn.execute(select(t.api_tokens).order_by(t.api_tokens.c.created_at))
        return [self._token(r) for r in rows]
