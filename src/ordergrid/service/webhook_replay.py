"""Replaying a webhook subscription from a position in the event stream.

Every outbox event from an event (or a time) on that the subscription's filters select
is queued again as a new delivery of the same event — same id, same body — in outbox
order, up to where the worker has queued live deliveries (later events reach the
subscription anyway). Receivers de-duplicate by event id, as at-least-once delivery
asks of them already. A replay is named by its key: the same key queues each event at
most once for the subscription, so a replay that failed half-way is safely repeated;
without a key every call is a new replay and queues again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ordergrid.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ordergrid.domain.webhooks import selected_types
from ordergrid.service.context import Context
from ordergrid.service.ports import (
    EVENT_TIME_SKEW,
    EventWindow,
    PrunedEvents,
    StoredEvent,
    UnitOfWork,
    Webhook,
)
from ordergrid.service.webhook_delivery import CONSUMER, delivery_of

#: Events read and queued per transaction: a large replay never holds much in memory,
#: nor keeps a transaction open long (a long one would hold up every outbox reader).
REPLAY_BATCH = 500
#: Events one replay request queues at most; the answer says where to continue.
MAX_REPLAY = 100_000
DEFAULT_REPLAY = 10_000


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    """Where a replay starts (an event, or a time: exactly one), where it ends, how many
    events it may queue, and the key naming it."""

    from_event_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_REPLAY
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Replay:
    """What a replay queued. `next_event_id` is where to continue when `limit` stopped it
    (None when every event of the range is queued)."""

    id: str
    webhook_id: str
    queued: int
    first_event: StoredEvent | None
    last_event: StoredEvent | None
    next_event_id: str | None


def _check(request: ReplayRequest) -> None:
    if request.from_event_id is not None and request.since is not None:
        raise InvalidInput(
            "give from_event_id or since, not both", code="replay_start_ambiguous", field="since"
        )
    if request.from_event_id is None and request.since is None:
        raise InvalidInput(
            "give from_event_id or since: where the replay starts",
            code="replay_start_missing",
            field="from_event_id",
        )
    if request.since is not None and request.until is not None and request.until <= request.since:
        raise InvalidInput("until must be after since", code="replay_window_empty", field="until")
    if not 1 <= request.limit <= MAX_REPLAY:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_REPLAY}", code="replay_limit", field="limit"
        )


def _pruned(pruned: PrunedEvents, field: str) -> Conflict:
    return Conflict(
        f"events written up to {pruned.at.isoformat()} were pruned from the outbox; "
        "replay from a later event or time",
        code="events_pruned",
        field=field,
        pruned_through_at=pruned.at.isoformat(),
    )


def _unknown_event(
    uow: UnitOfWork, webhook_id: str, event_id: str, pruned: PrunedEvents | None
) -> DomainError:
    # An event the subscription was once sent existed: it can only have been pruned.
    if pruned is not None and uow.webhooks.knows_event(webhook_id, event_id):
        return _pruned(pruned, "from_event_id")
    extra = {} if pruned is None else {"pruned_through_at": pruned.at.isoformat()}
    return InvalidInput(
        f"event {event_id!r} is not in the outbox",
        code="replay_event_not_found",
        field="from_event_id",
        **extra,
    )


def _window(uow: UnitOfWork, webhook: Webhook, request: ReplayRequest) -> EventWindow:
    pruned = uow.outbox.pruned()
    if request.from_event_id is not None:
        start = uow.outbox.locate(request.from_event_id)
        if start is None:
            raise _unknown_event(uow, webhook.id, request.from_event_id, pruned)
        after = (start.txid, start.position - 1)
    else:
        assert request.since is not None
        if pruned is not None and request.since <= pruned.at:
            raise _pruned(pruned, "since")
        after = uow.outbox.start_of(request.since)
    through = uow.outbox.consumer_position(CONSUMER)
    if request.until is not None:
        # Every event written before `until` comes before those written a skew later.
        through = min(through, uow.outbox.start_of(_skew_after(request.until)))
    types = selected_types(list(webhook.events))
    return EventWindow(after, through, types, request.since, request.until)


def _skew_after(moment: datetime) -> datetime:
    try:
        return moment + EVENT_TIME_SKEW
    except OverflowError:  # the end of time: nothing is written after it anyway
        return moment


def _queue_batch(
    ctx: Context, webhook_id: str, window: EventWindow, limit: int, replay_id: str
) -> list[StoredEvent]:
    with ctx.uow() as uow:
        if uow.webhooks.get(webhook_id) is None:  # removed while replaying
            raise NotFound("webhook", webhook_id)
        events = uow.outbox.window(window, limit)
        now = ctx.clock.now()
        uow.webhooks.enqueue([delivery_of(ctx, webhook_id, e, now, replay_id) for e in events])
        uow.commit()
    return events


def _next_event_id(ctx: Context, window: EventWindow) -> str | None:
    with ctx.uow(readonly=True) as uow:
        following = uow.outbox.window(window, 1)
    return following[0].id if following else None


def replay(ctx: Context, webhook_id: str, request: ReplayRequest) -> Replay:
    """Queue the subscription's events of the requested range again, oldest first, one
    batch per transaction. 404 for an unknown subscription; 409 `events_pruned` when the
    range starts before what the outbox still holds."""
    _check(request)
    with ctx.uow(readonly=True) as uow:
        webhook = uow.webhooks.get(webhook_id)
        if webhook is None:
            raise NotFound("webhook", webhook_id)
        window = _window(uow, webhook, request)
    replay_id = request.key or ctx.ids.new_id()
    queued: list[StoredEvent] = []  # the first and last of each batch only
    count = 0
    while count < request.limit:
        asked = min(REPLAY_BATCH, request.limit - count)
        batch = _queue_batch(ctx, webhook_id, window, asked, replay_id)
        if batch:
            count += len(batch)
            queued = [queued[0] if queued else batch[0], batch[-1]]
            window = replace(window, after=batch[-1].cursor)
        if len(batch) < asked:  # the window holds no more
            break
    following = _next_event_id(ctx, window) if count >= request.limit else None
    if count:
        ctx.wake()
    first, last = (queued[0], queued[-1]) if queued else (None, None)
    return Replay(replay_id, webhook_id, count, first, last, following)
