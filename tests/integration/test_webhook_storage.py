"""The webhook repository contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.conftest import wire

from ordergrid.bootstrap import Application
from ordergrid.service.ports import Webhook, WebhookDelivery

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def a_webhook(webhook_id: str = "W1") -> Webhook:
    return Webhook(webhook_id, "https://example.com/hook", ("order.*", "*"), "secret-1", T0)


def a_delivery(
    delivery_id: str, event_id: str, due: datetime = T0, webhook_id: str = "W1"
) -> WebhookDelivery:
    return WebhookDelivery(
        id=delivery_id,
        webhook_id=webhook_id,
        event_id=event_id,
        event_type="order.received",
        body=json.dumps({"id": event_id}),
        status="pending",
        attempts=0,
        created_at=T0,
        next_attempt_at=due,
    )


def test_subscriptions_round_trip_and_removal_drops_deliveries(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.webhooks.add(a_webhook("W1"))
        uow.webhooks.add(a_webhook("W2"))
        uow.webhooks.enqueue([a_delivery("D1", "E1")])
        uow.commit()
    with application.ctx.uow() as uow:
        assert uow.webhooks.get("W1") == a_webhook("W1")
        assert [w.id for w in uow.webhooks.all()] == ["W1", "W2"]
        assert uow.webhooks.remove("W1")
        assert not uow.webhooks.remove("W1")
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        assert uow.webhooks.get("W1") is None
        assert uow.webhooks.delivery("D1") is None


def test_an_event_is_queued_once_per_subscription(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.webhooks.add(a_webhook())
        uow.webhooks.enqueue([a_delivery("D1", "E1"), a_delivery("D2", "E2")])
        uow.commit()
    with application.ctx.uow() as uow:
        uow.webhooks.enqueue([a_delivery("D3", "E1"), a_delivery("D4", "E3")])
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        page = uow.webhooks.deliveries("W1", 2, None)
        assert [d.id for d in page.items] == ["D1", "D2"]
        assert page.next_cursor == "D2"
        rest = uow.webhooks.deliveries("W1", 2, page.next_cursor)
        assert [d.id for d in rest.items] == ["D4"]
        assert rest.next_cursor is None
        assert uow.webhooks.delivery("D1") == a_delivery("D1", "E1")


def test_due_deliveries_are_claimed_earliest_first_and_leased(application: Application) -> None:
    lease = T0 + timedelta(minutes=1)
    with application.ctx.uow() as uow:
        uow.webhooks.add(a_webhook())
        uow.webhooks.enqueue(
            [
                a_delivery("D1", "E1", T0 + timedelta(seconds=5)),
                a_delivery("D2", "E2", T0),
                a_delivery("D3", "E3", T0 + timedelta(hours=1)),
            ]
        )
        uow.commit()
    with application.ctx.uow() as uow:
        claimed = uow.webhooks.claim_due(T0 + timedelta(seconds=10), 10, lease, "C1")
        assert [d.id for d in claimed] == ["D2", "D1"]
        assert claimed[0].next_attempt_at == T0
        uow.commit()
    with application.ctx.uow() as uow:
        assert uow.webhooks.claim_due(T0 + timedelta(seconds=10), 10, lease, "C2") == []
        failed = replace(claimed[0], status="failed", attempts=1, last_error="HTTP 500")
        uow.webhooks.save_delivery(failed)
        delivered = replace(claimed[1], status="delivered", attempts=1, delivered_at=T0)
        uow.webhooks.save_delivery(replace(delivered, next_attempt_at=None))
        uow.commit()
    with application.ctx.uow() as uow:
        assert uow.webhooks.delivery("D2") == failed
        again = uow.webhooks.claim_due(lease, 10, lease + timedelta(minutes=1), "C3")
        assert [d.id for d in again] == ["D2"]  # failed is retried; delivered is not


@pytest.mark.postgres
def test_concurrent_workers_claim_disjoint_deliveries(postgres_url: str) -> None:
    app = wire(postgres_url)
    try:
        with app.ctx.uow() as uow:
            uow.webhooks.add(a_webhook())
            uow.webhooks.enqueue([a_delivery(f"D{i}", f"E{i}") for i in range(4)])
            uow.commit()
        first_claimed, release = threading.Event(), threading.Event()
        seen: dict[str, list[str]] = {}

        def holder() -> None:
            with app.ctx.uow() as uow:
                seen["first"] = [d.id for d in uow.webhooks.claim_due(T0, 2, T0, "C1")]
                first_claimed.set()
                release.wait(5)
                uow.commit()

        thread = threading.Thread(target=holder)
        thread.start()
        assert first_claimed.wait(5)
        with app.ctx.uow() as uow:
            # The first claim is still open: its rows are skipped, not waited for.
            seen["second"] = [d.id for d in uow.webhooks.claim_due(T0, 10, T0, "C2")]
            uow.commit()
        release.set()
        thread.join(5)
        assert seen["first"] == ["D0", "D1"]
        assert seen["second"] == ["D2", "D3"]
    finally:
        app.close()
