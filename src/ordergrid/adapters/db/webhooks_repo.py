"""Webhook subscriptions and deliveries; due deliveries are claimed like timers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.upsert import insert_on
from ordergrid.domain.webhooks import DeliveryStatus
from ordergrid.service.ports import Page, Webhook, WebhookDelivery

W = t.webhooks
D = t.webhook_deliveries
#: An attempt's outcome, recorded while the claim still holds the delivery: only what an
#: attempt changes (the body, often the largest column, is never written again), by one
#: statement built once, run for a whole round's outcomes at a time (`settle_all`).
_SETTLE = (
    update(D)
    .where(D.c.id == bindparam("b_id"), D.c.claim_id == bindparam("b_claim"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next", type_=D.c.next_attempt_at.type),
        last_error=bindparam("b_error"),
        delivered_at=bindparam("b_delivered", type_=D.c.delivered_at.type),
        claim_id=None,
    )
)
_WAITING = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)


def _outcome(d: WebhookDelivery, claim: str) -> dict[str, Any]:
    """`_SETTLE`'s parameters: what an attempt changes, for the claim that made it."""
    return {
        "b_id": d.id,
        "b_claim": claim,
        "b_status": d.status,
        "b_attempts": d.attempts,
        "b_next": d.next_attempt_at,
        "b_error": d.last_error,
        "b_delivered": d.delivered_at,
    }


def _webhook(r: Any) -> Webhook:
    return Webhook(r.id, r.url, tuple(r.events), r.secret, r.created_at)


def _delivery(r: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=r.id,
        webhook_id=r.webhook_id,
        event_id=r.event_id,
        event_type=r.event_type,
        body=r.body,
        status=r.status,
        attempts=r.attempts,
        created_at=r.created_at,
        next_attempt_at=r.next_attempt_at,
        last_error=r.last_error,
        delivered_at=r.delivered_at,
        replay_id=r.replay_id,
    )


def _row(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "webhook_id": d.webhook_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "body": d.body,
        "status": d.status,
        "attempts": d.attempts,
        "created_at": d.created_at,
        "next_attempt_at": d.next_attempt_at,
        "last_error": d.last_error,
        "delivered_at": d.delivered_at,
        "replay_id": d.replay_id,
    }


class SqlWebhooks:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def add(self, webhook: Webhook) -> None:
        self.conn.execute(
            W.insert().values(
                id=webhook.id,
                url=webhook.url,
                events=list(webhook.events),
                secret=webhook.secret,
                created_at=webhook.created_at,
            )
        )

    def get(self, webhook_id: str) -> Webhook | None:
        r = self.conn.execute(select(W).where(W.c.id == webhook_id)).first()
        return None if r is None else _webhook(r)

    def all(self) -> list[Webhook]:
        return [_webhook(r) for r in self.conn.execute(select(W).order_by(W.c.id))]

    def remove(self, webhook_id: str) -> bool:
        self.conn.execute(delete(D).where(D.c.webhook_id == webhook_id))
        return self.conn.execute(delete(W).where(W.c.id == webhook_id)).rowcount > 0

    def enqueue(self, deliveries: Sequence[WebhookDelivery]) -> None:
        if not deliveries:
            return
        stmt = insert_on(self.conn.dialect.name, D).on_conflict_do_nothing(
            index_elements=["webhook_id", "event_id", "replay_id"]
        )
        self.conn.execute(stmt, [_row(d) for d in deliveries])

    def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        r = self.conn.execute(select(D).where(D.c.id == delivery_id)).first()
        return None if r is None else _delivery(r)

    def deliveries(self, webhook_id: str, limit: int, cursor: str | None) -> Page[WebhookDelivery]:
        q = select(D).where(D.c.webhook_id == webhook_id).order_by(D.c.id).limit(limit + 1)
        if cursor:
            q = q.where(D.c.id > cursor)
        rows = [_delivery(r) for r in self.conn.execute(q)]
        items = rows[:limit]
        return Page(items, items[-1].id if len(rows) > limit and items else None)

    def knows_event(self, webhook_id: str, event_id: str) -> bool:
        q = select(D.c.id).where(D.c.webhook_id == webhook_id, D.c.event_id == event_id)
        return self.conn.execute(q.limit(1)).first() is not None

    def claim_due(
        self, now: datetime, limit: int, lease_until: datetime, claim: str
    ) -> list[WebhookDelivery]:
        q = (
            select(D)
            .where(D.c.status.in_(_WAITING), D.c.next_attempt_at <= now)
            .order_by(D.c.next_attempt_at, D.c.id)
            .limit(limit)
        )
        if self.postgres:
            # Another worker's claim is skipped, not waited for; once this transaction
            # commits the lease keeps it away until the attempt is recorded.
            q = q.with_for_update(skip_locked=True)
        # SQLite: this runs inside the single write transaction (BEGIN IMMEDIATE).
        claimed = [_delivery(r) for r in self.conn.execute(q)]
        if claimed:
            self.conn.execute(
                update(D)
                .where(D.c.id.in_([d.id for d in claimed]))
                .values(next_attempt_at=lease_until, claim_id=claim)
            )
        return claimed

    def renew(self, claim: str, delivery_ids: Collection[str], lease_until: datetime) -> set[str]:
        if not delivery_ids:
            return set()
        renewed = (
            update(D)
            .where(D.c.id.in_(list(delivery_ids)), D.c.claim_id == claim)
            .values(next_attempt_at=lease_until)
            .returning(D.c.id)
        )
        return {str(r.id) for r in self.conn.execute(renewed)}

    def settle(self, delivery: WebhookDelivery, claim: str) -> bool:
        return self.conn.execute(_SETTLE, _outcome(delivery, claim)).rowcount > 0

    def settle_all(self, deliveries: Sequence[WebhookDelivery], claim: str) -> None:
        if deliveries:
            # One executemany: a statement per delivery cost more than its row.
            self.conn.execute(_SETTLE, [_outcome(d, claim) for d in deliveries])

    def save_delivery(self, delivery: WebhookDelivery) -> None:
        row = _row(delivery) | {"claim_id": None}
        del row["id"]
        self.conn.execute(update(D).where(D.c.id == delivery.id).values(**row))
