"""Webhook delivery: outbox events become deliveries, and due deliveries are sent.

Both run in the worker, apart from order processing: queueing is a short transaction of
its own, and every HTTP call happens outside any transaction, several at once, so a slow
or dead receiver holds up only its own deliveries."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.webhooks import (
    SIGNATURE_HEADER,
    DeliveryStatus,
    matches,
    next_attempt,
    payload,
    signature,
)
from ordergrid.service.context import Context
from ordergrid.service.ports import StoredEvent, Webhook, WebhookDelivery
from ordergrid.service.webhook_leases import LeaseKeeper
from ordergrid.service.webhooks import check_url

CONSUMER = "webhooks"
#: Names the replay that queued an event again (absent on live deliveries).
REPLAY_HEADER = "X-Ordergrid-Replay"
#: Outbox events turned into deliveries per round.
QUEUE_BATCH = 500
#: Deliveries claimed per round.
SEND_BATCH = 50


def delivery_of(
    ctx: Context, webhook_id: str, event: StoredEvent, now: datetime, replay_id: str = ""
) -> WebhookDelivery:
    """A new delivery of an event, due now; its body is the event as it was written."""
    return WebhookDelivery(
        id=ctx.ids.new_id(),
        webhook_id=webhook_id,
        event_id=event.id,
        event_type=event.type,
        body=payload(event.id, event.type, event.at, event.data),
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        replay_id=replay_id,
    )


def _deliveries_of(
    ctx: Context, events: list[StoredEvent], webhooks: list[Webhook]
) -> list[WebhookDelivery]:
    now = ctx.clock.now()
    return [
        delivery_of(ctx, w.id, e, now)
        for e in events
        for w in webhooks
        if matches(list(w.events), e.type)
    ]


def queue_deliveries(ctx: Context, batch: int = QUEUE_BATCH) -> int:
    """Turn the next batch of outbox events into deliveries; returns how many events
    were read. The deliveries and the consumer position commit together."""
    with ctx.uow(readonly=True) as uow:
        position = uow.outbox.consumer_position(CONSUMER)
        events = uow.outbox.after(position, batch)
        webhooks = uow.webhooks.all() if events else []
    if not events:
        return 0
    with ctx.uow() as uow:
        uow.webhooks.enqueue(_deliveries_of(ctx, events, webhooks))
        uow.outbox.set_consumer_position(CONSUMER, events[-1].cursor)
        uow.commit()
    return len(events)


def _attempt(ctx: Context, delivery: WebhookDelivery, webhook: Webhook | None) -> str | None:
    if webhook is None:
        return "the subscription was removed"
    try:
        # Again at each attempt: the name may have moved to a private address since.
        check_url(ctx, webhook.url)
    except InvalidInput as refused:
        return f"refused: {refused.message}"
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(webhook.secret, body),
        "X-Ordergrid-Event": delivery.event_type,
        "X-Ordergrid-Delivery": delivery.id,
    }
    if delivery.replay_id:
        headers[REPLAY_HEADER] = delivery.replay_id
    try:
        return ctx.webhooks.sender.send(webhook.url, body, headers)
    except Exception as exc:  # a broken sender fails this delivery, never the round
        return f"{type(exc).__name__}: {exc}"


def _outcome(ctx: Context, d: WebhookDelivery, error: str | None, now: datetime) -> WebhookDelivery:
    attempts = d.attempts + 1
    if error is None:
        return replace(
            d,
            status=DeliveryStatus.DELIVERED.value,
            attempts=attempts,
            next_attempt_at=None,
            last_error=None,
            delivered_at=now,
        )
    opts = ctx.webhooks
    if attempts >= opts.max_attempts:
        return replace(
            d,
            status=DeliveryStatus.DEAD.value,
            attempts=attempts,
            next_attempt_at=None,
            last_error=error[:512],
        )
    due = next_attempt(
        now, attempts, opts.backoff_seconds, opts.backoff_max_seconds, opts.jitter.fraction()
    )
    return replace(
        d,
        status=DeliveryStatus.FAILED.value,
        attempts=attempts,
        next_attempt_at=due,
        last_error=error[:512],
    )


def _send(
    ctx: Context, claim: str, claimed: list[WebhookDelivery], webhooks: dict[str, Webhook]
) -> list[str | None]:
    """Attempt every claimed delivery, several at once, their leases kept meanwhile."""
    with LeaseKeeper(ctx, claim, [d.id for d in claimed]) as leases:

        def attempt(d: WebhookDelivery) -> str | None:
            return leases.attempt(d.id, lambda: _attempt(ctx, d, webhooks.get(d.webhook_id)))

        options = ctx.webhooks
        return options.attempts.map(attempt, claimed, max(1, options.concurrency))


def send_due(ctx: Context, limit: int = SEND_BATCH) -> int:
    """Send the deliveries due now; returns how many were attempted. They are held by a
    claim of this round, under short leases renewed while they are sent; an outcome is
    recorded only while the claim still holds its delivery."""
    now = ctx.clock.now()
    claim = ctx.ids.new_id()
    lease = now + timedelta(seconds=ctx.webhooks.lease_seconds)
    with ctx.uow() as uow:
        claimed = uow.webhooks.claim_due(now, limit, lease, claim)
        webhooks = {w.id: w for w in uow.webhooks.all()} if claimed else {}
        uow.commit()
    if not claimed:
        return 0
    errors = _send(ctx, claim, claimed, webhooks)
    done = ctx.clock.now()
    outcomes = [_outcome(ctx, d, error, done) for d, error in zip(claimed, errors, strict=True)]
    with ctx.uow() as uow:
        uow.webhooks.settle_all(outcomes, claim)
        uow.commit()
    return len(claimed)
