"""Webhook subscriptions and their deliveries (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api import schemas_webhooks as sw
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service import webhooks
from ordergrid.service.commands import Actor
from ordergrid.service.ports import Webhook, WebhookDelivery
from ordergrid.service.webhook_replay import Replay, ReplayRequest, replay

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Admin = Annotated[Actor, Depends(require(Right.ADMIN))]
WebhookId = Annotated[str, Path(min_length=1, max_length=64, pattern=s.ID_PATTERN)]
DeliveryId = Annotated[str, Path(min_length=1, max_length=64, pattern=s.ID_PATTERN)]


def webhook_json(w: Webhook) -> dict[str, Any]:
    return {"id": w.id, "url": w.url, "events": list(w.events), "created_at": w.created_at}


def delivery_json(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "webhook_id": d.webhook_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "next_attempt_at": d.next_attempt_at,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
        "replay_id": d.replay_id or None,
    }


def replay_json(r: Replay) -> dict[str, Any]:
    return {
        "replay_id": r.id,
        "webhook_id": r.webhook_id,
        "queued": r.queued,
        "first_event_id": r.first_event.id if r.first_event else None,
        "last_event_id": r.last_event.id if r.last_event else None,
        "last_event_at": r.last_event.at if r.last_event else None,
        "next_event_id": r.next_event_id,
        "complete": r.next_event_id is None,
    }


@router.post("", status_code=201, response_model=sw.WebhookOut)
def create_webhook(body: sw.WebhookIn, app: App, _: Admin) -> dict[str, Any]:
    """Subscribe a receiver; 422 `webhook_url_scheme`, `webhook_url_private` or
    `webhook_url_unresolvable` (field `url`) for a URL it may not call."""
    return webhook_json(webhooks.subscribe(app.ctx, body.url, body.events, body.secret))


@router.get("", response_model=sw.WebhookList)
def list_webhooks(app: App, _: Admin) -> dict[str, Any]:
    return {"items": [webhook_json(w) for w in webhooks.subscriptions(app.ctx)]}


@router.get("/{webhook_id}", response_model=sw.WebhookOut)
def get_webhook(webhook_id: WebhookId, app: App, _: Admin) -> dict[str, Any]:
    return webhook_json(webhooks.subscription(app.ctx, webhook_id))


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
def delete_webhook(webhook_id: WebhookId, app: App, _: Admin) -> Response:
    """Unsubscribe; its deliveries, sent or not, go with it."""
    webhooks.unsubscribe(app.ctx, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=sw.DeliveryList)
def list_deliveries(
    webhook_id: WebhookId,
    app: App,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64, pattern=s.QUERY_TEXT)] = None,
) -> dict[str, Any]:
    """Deliveries oldest first, each with its state, attempts and next attempt."""
    page = webhooks.deliveries(app.ctx, webhook_id, limit, cursor)
    return {"items": [delivery_json(d) for d in page.items], "next_cursor": page.next_cursor}


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", response_model=sw.DeliveryOut)
def redeliver(webhook_id: WebhookId, delivery_id: DeliveryId, app: App, _: Admin) -> dict[str, Any]:
    """Queue a delivery again now (delivered or dead alike) with a fresh set of attempts."""
    return delivery_json(webhooks.redeliver(app.ctx, webhook_id, delivery_id))


@router.post(
    "/{webhook_id}/replay",
    status_code=202,
    response_model=sw.ReplayOut,
    responses={409: {"description": "`events_pruned`: the range starts before the outbox"}},
)
def replay_events(
    webhook_id: WebhookId,
    body: sw.ReplayIn,
    app: App,
    _: Admin,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=256)
    ] = None,
) -> dict[str, Any]:
    """Queue again, as new deliveries of the same events (same ids and bodies), every
    event from `from_event_id` or `since` on that the subscription's filters select, in
    outbox order. With the same `Idempotency-Key` an event is queued at most once for
    the subscription (repeat a replay that failed half-way safely); without one each
    call queues again. 422 `replay_start_missing` / `replay_start_ambiguous`,
    `replay_event_not_found`; 409 `events_pruned`."""
    request = ReplayRequest(body.from_event_id, body.since, body.until, body.limit, idempotency_key)
    return replay_json(replay(app.ctx, webhook_id, request))
