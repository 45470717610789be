"""Webhook replay, short delivery claims and outbox pruning: one contract, run on the
in-memory adapters, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.service.factories import GEOCODER, World
from tests.service.test_webhook_service import SECRET, Receiver, wired

from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import bootstrap
from ordergrid.domain.errors import Conflict, InvalidInput, NotFound
from ordergrid.domain.events import Event
from ordergrid.domain.webhooks import selected_types
from ordergrid.service import webhook_replay, webhooks
from ordergrid.service.context import Context
from ordergrid.service.outbox_pruning import prune_events
from ordergrid.service.ports import EventWindow, StoredEvent, WebhookDelivery
from ordergrid.service.webhook_delivery import CONSUMER, queue_deliveries, send_due
from ordergrid.service.webhook_replay import ReplayRequest, replay
from ordergrid.settings import Settings

ORDERS = "https://public.example/orders"
STOCK = "https://public.example/stock"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "memory":
        yield World()
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    clock = FixedClock(datetime.fromisoformat("2026-03-02T09:00:00+00:00"))
    app = bootstrap(Settings(database_url=url, auto_migrate=True), clock=clock, geocoder=GEOCODER)
    yield World(uow=app.ctx.uow, clock=clock)
    app.close()


def queue_all(ctx: Context) -> None:
    """Queue live deliveries of every event written so far. PostgreSQL shows an event to
    outbox readers once every older transaction on the server ended: wait for that."""
    deadline = time.monotonic() + 10
    while True:
        queue_deliveries(ctx)
        with ctx.uow(readonly=True) as uow:
            if uow.outbox.backlog(uow.outbox.consumer_position(CONSUMER), 1) == 0:
                return
        assert time.monotonic() < deadline, "events stayed invisible"
        time.sleep(0.05)


def send_all(ctx: Context) -> None:
    while send_due(ctx):
        pass


def events_of(ctx: Context, prefix: str) -> list[StoredEvent]:
    with ctx.uow(readonly=True) as uow:
        return [e for e in uow.outbox.after((0, 0), 10_000) if e.type.startswith(prefix)]


def in_view(world: World, types: list[str]) -> list[StoredEvent]:
    """The events of these types (one each), once outbox readers see them all: on
    PostgreSQL, when every older transaction on the server has ended."""
    deadline = time.monotonic() + 10
    while True:
        with world.uow() as uow:
            found = [e for e in uow.outbox.after((0, 0), 1000) if e.type in types]
        if len(found) == len(types):
            return found
        assert time.monotonic() < deadline, "events stayed invisible"
        time.sleep(0.05)


def all_deliveries(ctx: Context, webhook_id: str) -> list[WebhookDelivery]:
    return webhooks.deliveries(ctx, webhook_id, 500, None).items


def stock_events(world: World, count: int) -> list[datetime]:
    """`count` inventory changes a second apart; the time each was written."""
    times = []
    for n in range(count):
        times.append(world.clock.now())
        world.stock("DC-ATL", "A", n + 1)
    return times


def test_a_replay_queues_the_matching_events_again_in_outbox_order(world: World) -> None:
    receiver = Receiver()
    ctx = wired(world, receiver)
    orders = webhooks.subscribe(ctx, ORDERS, ["order.*"], SECRET)
    stock = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    world.stock("DC-ATL", "A", 5)
    world.place(("A", 1))
    queue_all(ctx)
    send_all(ctx)
    original = [(b["id"], b["type"]) for b in receiver.bodies(ORDERS)]
    first = events_of(ctx, "order.")[0]
    receiver.received.clear()

    done = replay(ctx, orders.id, ReplayRequest(from_event_id=first.id))
    send_all(ctx)

    assert sorted(original) == sorted((e.id, e.type) for e in events_of(ctx, "order."))
    assert done.queued == len(original)
    assert (done.first_event, done.next_event_id) == (first, None)
    assert [(b["id"], b["type"]) for b in receiver.bodies(ORDERS)] == [
        (e.id, e.type) for e in events_of(ctx, "order.")
    ]
    assert receiver.bodies(STOCK) == []  # only the replayed subscription
    for _, body, headers in receiver.received:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Ordergrid-Signature"] == f"sha256={expected}"
        assert headers["X-Ordergrid-Replay"] == done.id
    replayed = [d for d in all_deliveries(ctx, orders.id) if d.replay_id]
    assert len(replayed) == len(original)
    assert {d.status for d in replayed} == {"delivered"}
    assert len(all_deliveries(ctx, stock.id)) == 1


def test_a_replay_from_a_time_covers_events_written_then_until_the_end_given(
    world: World,
) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    times = stock_events(world, 5)
    queue_all(ctx)
    written = events_of(ctx, "inventory.changed")

    done = replay(ctx, hook.id, ReplayRequest(since=times[1], until=times[4]))

    assert done.queued == 3
    assert (done.first_event, done.last_event) == (written[1], written[3])
    replayed = [d.event_id for d in all_deliveries(ctx, hook.id) if d.replay_id == done.id]
    assert sorted(replayed) == sorted(e.id for e in written[1:4])


def test_a_limited_replay_says_where_to_continue_and_continuing_misses_nothing(
    world: World,
) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.*"], SECRET)
    stock_events(world, 5)
    queue_all(ctx)
    written = events_of(ctx, "inventory.changed")

    part = replay(ctx, hook.id, ReplayRequest(from_event_id=written[0].id, limit=2, key="k"))
    assert (part.queued, part.last_event, part.next_event_id) == (2, written[1], written[2].id)
    rest = replay(ctx, hook.id, ReplayRequest(from_event_id=part.next_event_id, key="k"))
    assert (rest.queued, rest.last_event, rest.next_event_id) == (3, written[4], None)

    replayed = [d.event_id for d in all_deliveries(ctx, hook.id) if d.replay_id == "k"]
    assert sorted(replayed) == sorted(e.id for e in written)


def test_the_same_key_queues_each_event_once_and_no_key_queues_again(world: World) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    times = stock_events(world, 3)
    queue_all(ctx)
    since = ReplayRequest(since=times[0])
    keyed = ReplayRequest(since=times[0], key="retry-me")

    assert [replay(ctx, hook.id, keyed).queued for _ in range(2)] == [3, 3]
    assert replay(ctx, hook.id, since).id != replay(ctx, hook.id, since).id

    by_replay: dict[str, int] = {}
    for d in all_deliveries(ctx, hook.id):
        by_replay[d.replay_id] = by_replay.get(d.replay_id, 0) + 1
    assert sorted(by_replay.values()) == [3, 3, 3, 3]  # live, keyed once, two without key
    assert by_replay["retry-me"] == 3


def test_a_replay_ends_where_live_deliveries_are_queued(world: World) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    times = stock_events(world, 2)
    queue_all(ctx)
    stock_events(world, 2)  # not queued yet: they will reach the subscription anyway

    done = replay(ctx, hook.id, ReplayRequest(since=times[0]))

    assert (done.queued, done.next_event_id) == (2, None)
    assert done.last_event == events_of(ctx, "inventory.changed")[1]


def test_a_large_replay_is_queued_batch_by_batch(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    times = stock_events(world, 7)
    queue_all(ctx)
    monkeypatch.setattr(webhook_replay, "REPLAY_BATCH", 3)
    batches: list[int] = []  # events queued by each transaction
    queue_batch = webhook_replay._queue_batch

    def counted(*args: Any) -> list[StoredEvent]:
        events = queue_batch(*args)
        batches.append(len(events))
        return events

    monkeypatch.setattr(webhook_replay, "_queue_batch", counted)
    assert replay(ctx, hook.id, ReplayRequest(since=times[0])).queued == 7
    assert batches == [3, 3, 1]


def test_a_replay_that_cannot_start_says_which_field_is_wrong(world: World) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    now = world.clock.now()
    cases: list[tuple[ReplayRequest, str, str]] = [
        (ReplayRequest(), "replay_start_missing", "from_event_id"),
        (ReplayRequest(from_event_id="x", since=now), "replay_start_ambiguous", "since"),
        (ReplayRequest(since=now, until=now), "replay_window_empty", "until"),
        (ReplayRequest(since=now, limit=0), "replay_limit", "limit"),
        (ReplayRequest(from_event_id="never-written"), "replay_event_not_found", "from_event_id"),
    ]
    for request, code, field in cases:
        with pytest.raises(InvalidInput) as refused:
            replay(ctx, hook.id, request)
        assert (refused.value.code, refused.value.details["field"]) == (code, field)
    with pytest.raises(NotFound):
        replay(ctx, "no-such-hook", ReplayRequest(since=now))


def test_a_rounds_outcomes_are_recorded_together_for_the_deliveries_its_claim_holds(
    world: World,
) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    stock_events(world, 3)
    queue_all(ctx)
    now = world.clock.now()
    lease = now + timedelta(seconds=6)
    with ctx.uow() as uow:
        mine = uow.webhooks.claim_due(now, 2, lease, "A")
        [theirs] = uow.webhooks.claim_due(now, 10, lease, "B")
        uow.commit()
    failed = [
        replace(d, status="failed", attempts=1, last_error="HTTP 500", next_attempt_at=lease)
        for d in (*mine, theirs)
    ]
    with ctx.uow() as uow:
        uow.webhooks.settle_all(failed, "A")
        uow.commit()
    stored = {d.id: d for d in all_deliveries(ctx, hook.id)}
    assert [stored[d.id] for d in failed[:2]] == failed[:2]
    # B still holds it: nothing of A's outcome for it is recorded.
    assert (stored[theirs.id].status, stored[theirs.id].attempts) == (theirs.status, 0)
    with ctx.uow() as uow:  # A's claim was released with its outcomes
        assert not uow.webhooks.settle(failed[0], "A")


def test_claims_are_renewed_and_settled_only_by_their_holder(world: World) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    stock_events(world, 1)
    queue_all(ctx)
    now = world.clock.now()
    lease, later = now + timedelta(seconds=6), now + timedelta(seconds=12)
    with ctx.uow() as uow:
        [claimed] = uow.webhooks.claim_due(now, 10, lease, "A")
        assert uow.webhooks.renew("B", [claimed.id], later) == set()
        assert uow.webhooks.renew("A", [claimed.id], later) == {claimed.id}
        uow.commit()
    [held] = all_deliveries(ctx, hook.id)
    assert held.next_attempt_at == later
    with ctx.uow() as uow:  # A's lease lapsed: B takes the delivery over
        assert uow.webhooks.claim_due(later, 10, later + timedelta(seconds=6), "B") == [held]
        assert uow.webhooks.renew("A", [claimed.id], later) == set()
        uow.commit()
    delivered = replace(
        held, status="delivered", attempts=1, next_attempt_at=None, delivered_at=later
    )
    with ctx.uow() as uow:
        assert not uow.webhooks.settle(delivered, "A")
        assert uow.webhooks.settle(delivered, "B")
        assert not uow.webhooks.settle(delivered, "B")  # settling releases the claim
        uow.commit()
    assert all_deliveries(ctx, hook.id) == [delivered]


def test_the_window_selects_types_with_literal_wildcards_and_times(world: World) -> None:
    at = world.clock.now()
    types = ["a_b.one", "aXb.two", "a_b.two", "c.d", "c.e"]
    with world.uow() as uow:
        for n, event_type in enumerate(types):
            uow.outbox.append([Event(event_type, {"n": n})], at + timedelta(seconds=n))
        uow.commit()
    mine = in_view(world, types)
    with world.uow() as uow:
        end = mine[-1].cursor
        window = EventWindow((0, 0), end, selected_types(["a_b.*", "c.d"]))
        assert [e.type for e in uow.outbox.window(window, 100)] == ["a_b.one", "a_b.two", "c.d"]
        timed = EventWindow(
            (0, 0), end, selected_types(["*"]), at + timedelta(seconds=1), at + timedelta(seconds=4)
        )
        assert [e.type for e in uow.outbox.window(timed, 100)] == ["aXb.two", "a_b.two", "c.d"]
        assert uow.outbox.window(timed, 2) == mine[1:3]
        start = uow.outbox.start_of(at + timedelta(seconds=2))
        assert uow.outbox.window(EventWindow(start, end, selected_types(["*"])), 1) == [mine[2]]
        assert uow.outbox.start_of(at + timedelta(hours=1)) == end  # nothing from then on
        assert uow.outbox.locate(mine[3].id) == mine[3]
        assert uow.outbox.locate("nope") is None


def test_pruning_keeps_unread_and_newest_events_and_replays_from_before_are_refused(
    world: World,
) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    times = stock_events(world, 6)
    queue_all(ctx)
    written = events_of(ctx, "inventory.changed")
    with ctx.uow() as uow:  # a consumer still reading the fourth event
        uow.outbox.set_consumer_position("slow-reader", written[2].cursor)
        uow.commit()

    every = events_of(ctx, "")  # the network's set-up events come first
    read = [e for e in every if e.cursor <= written[2].cursor]
    assert prune_events(ctx, times[5]) == len(read)  # not the 4th and 5th: still unread
    with ctx.uow() as uow:
        uow.outbox.set_consumer_position("slow-reader", written[5].cursor)
        uow.commit()
    assert prune_events(ctx, world.clock.now(), batch=1) == 2  # the newest is kept
    assert events_of(ctx, "") == [written[5]]
    with ctx.uow(readonly=True) as uow:
        mark = uow.outbox.pruned()
    assert mark is not None
    assert (mark.through, mark.at, mark.events) == (written[4].cursor, times[4], len(every) - 1)

    with pytest.raises(Conflict) as refused:
        replay(ctx, hook.id, ReplayRequest(since=times[3]))
    assert refused.value.code == "events_pruned"
    assert refused.value.details["field"] == "since"
    with pytest.raises(Conflict) as refused:  # an event this subscription was sent
        replay(ctx, hook.id, ReplayRequest(from_event_id=written[0].id))
    assert refused.value.details["field"] == "from_event_id"
    with pytest.raises(InvalidInput) as unknown:
        replay(ctx, hook.id, ReplayRequest(from_event_id="never-written"))
    assert unknown.value.details["pruned_through_at"] == times[4].isoformat()
    assert replay(ctx, hook.id, ReplayRequest(since=times[5])).queued == 1


def test_body_of_a_replayed_delivery_is_the_event_as_written(world: World) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, STOCK, ["inventory.changed"], SECRET)
    stock_events(world, 1)
    queue_all(ctx)
    [event] = events_of(ctx, "inventory.changed")
    replay(ctx, hook.id, ReplayRequest(from_event_id=event.id))
    live, again = sorted(all_deliveries(ctx, hook.id), key=lambda d: d.replay_id)
    assert again.body == live.body
    assert json.loads(again.body)["id"] == event.id
    assert again.id != live.id
