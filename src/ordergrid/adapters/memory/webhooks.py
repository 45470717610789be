"""In-memory webhook subscriptions and deliveries (values are frozen: no copies needed)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.webhooks import DeliveryStatus
from ordergrid.service.ports import ConcurrentUpdate, Page, Webhook, WebhookDelivery

_WAITING = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)


class InMemoryWebhooks(_Repo):
    """Writers are serialised by the store's lock, so claimed deliveries are this
    transaction's alone until it commits."""

    def add(self, webhook: Webhook) -> None:
        if webhook.id in self._t.webhooks:
            raise ConcurrentUpdate(f"webhook {webhook.id!r} already exists")
        self._t.webhooks[webhook.id] = webhook

    def get(self, webhook_id: str) -> Webhook | None:
        return self._t.webhooks.get(webhook_id)

    def all(self) -> list[Webhook]:
        return [self._t.webhooks[k] for k in sorted(self._t.webhooks)]

    def remove(self, webhook_id: str) -> bool:
        if self._t.webhooks.pop(webhook_id, None) is None:
            return False
        for k in [k for k, d in self._t.deliveries.items() if d.webhook_id == webhook_id]:
            del self._t.deliveries[k]
            self._t.claims.pop(k, None)
        return True

    def enqueue(self, deliveries: Sequence[WebhookDelivery]) -> None:
        queued = {(d.webhook_id, d.event_id, d.replay_id) for d in self._t.deliveries.values()}
        for d in deliveries:
            key = (d.webhook_id, d.event_id, d.replay_id)
            if key not in queued:
                self._t.deliveries[d.id] = d
                queued.add(key)

    def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        return self._t.deliveries.get(delivery_id)

    def deliveries(self, webhook_id: str, limit: int, cursor: str | None) -> Page[WebhookDelivery]:
        ids = sorted(
            k
            for k, d in self._t.deliveries.items()
            if d.webhook_id == webhook_id and (not cursor or k > cursor)
        )
        items = [self._t.deliveries[k] for k in ids[:limit]]
        return Page(items, items[-1].id if len(ids) > limit and items else None)

    def knows_event(self, webhook_id: str, event_id: str) -> bool:
        return any(
            d.webhook_id == webhook_id and d.event_id == event_id
            for d in self._t.deliveries.values()
        )

    def claim_due(
        self, now: datetime, limit: int, lease_until: datetime, claim: str
    ) -> list[WebhookDelivery]:
        due = sorted(
            (
                d
                for d in self._t.deliveries.values()
                if d.status in _WAITING
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
            ),
            key=lambda d: (d.next_attempt_at, d.id),
        )[:limit]
        for d in due:
            self._t.deliveries[d.id] = replace(d, next_attempt_at=lease_until)
            self._t.claims[d.id] = claim
        return due

    def renew(self, claim: str, delivery_ids: Collection[str], lease_until: datetime) -> set[str]:
        held = {i for i in delivery_ids if self._t.claims.get(i) == claim}
        for i in held:
            self._t.deliveries[i] = replace(self._t.deliveries[i], next_attempt_at=lease_until)
        return held

    def settle(self, delivery: WebhookDelivery, claim: str) -> bool:
        if self._t.claims.get(delivery.id) != claim:
            return False
        del self._t.claims[delivery.id]
        self._t.deliveries[delivery.id] = delivery
        return True

    def settle_all(self, deliveries: Sequence[WebhookDelivery], claim: str) -> None:
        for d in deliveries:
            self.settle(d, claim)

    def save_delivery(self, delivery: WebhookDelivery) -> None:
        if delivery.id in self._t.deliveries:
            self._t.deliveries[delivery.id] = delivery
            self._t.claims.pop(delivery.id, None)
