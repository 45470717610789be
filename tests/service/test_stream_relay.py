"""The event-stream relay on the in-memory adapters, with a publisher that records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordergrid.adapters.memory import FixedClock, InMemoryStore, SequentialIds, StaticGeocoder
from ordergrid.adapters.memory.uow import unit_of_work_factory
from ordergrid.domain.events import Event
from ordergrid.service.context import Context
from ordergrid.service.nats_relay import CONSUMER, Backoff, StreamRelay
from ordergrid.service.ports import PublishFailed, StoredEvent


@dataclass
class Stream:
    """Stores what it confirms; `outcomes` scripts the next calls: None publishes the
    whole batch, k confirms only the first k and then fails."""

    outcomes: list[int | None] = field(default_factory=list)
    calls: list[list[str]] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)

    def publish(self, events: Sequence[StoredEvent]) -> None:
        ids = [e.id for e in events]
        self.calls.append(ids)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        confirmed = ids if outcome is None else ids[:outcome]
        # De-duplication by message id, as JetStream does within its window.
        self.stored.extend(i for i in confirmed if i not in self.stored)
        if outcome is not None:
            raise PublishFailed("connection refused", len(confirmed))

    def close(self) -> None:
        return None


def a_relay(stream: Stream, batch: int = 500) -> tuple[StreamRelay, Context, FixedClock]:
    clock = FixedClock()
    ctx = Context(
        uow=unit_of_work_factory(InMemoryStore()),
        clock=clock,
        ids=SequentialIds(),
        geocoder=StaticGeocoder({}),
    )
    return StreamRelay(ctx, stream, batch=batch, backoff=Backoff(1.0, 8.0)), ctx, clock


def write_events(ctx: Context, count: int, orders: int = 3) -> list[str]:
    with ctx.uow() as uow:
        uow.outbox.append(
            [
                Event("order.created", {"n": n}, order_id=f"order-{n % orders}")
                for n in range(count)
            ],
            ctx.clock.now(),
        )
        uow.commit()
    with ctx.uow(readonly=True) as uow:
        return [e.id for e in uow.outbox.after((0, 0), count + 1000)]


def position_of(ctx: Context) -> tuple[int, int]:
    with ctx.uow(readonly=True) as uow:
        return uow.outbox.consumer_position(CONSUMER)


def test_every_event_is_published_in_outbox_order_and_the_position_follows() -> None:
    stream = Stream()
    relay, ctx, _ = a_relay(stream, batch=4)
    ids = write_events(ctx, 10)

    published = [relay.relay_once() for _ in range(4)]

    assert published == [4, 4, 2, 0]
    assert stream.stored == ids
    assert position_of(ctx) == (0, 10)
    assert relay.lag() == 0
    assert relay.health.published == 10


def test_the_position_moves_only_past_the_events_the_stream_confirmed() -> None:
    stream = Stream(outcomes=[3])
    relay, ctx, clock = a_relay(stream)
    ids = write_events(ctx, 5)

    assert relay.relay_once() == 3
    assert position_of(ctx) == (0, 3)
    assert relay.lag() == 2
    clock.advance(seconds=1)
    assert relay.relay_once() == 2
    assert stream.calls[1] == ids[3:]
    assert stream.stored == ids


def test_an_unreachable_stream_is_reported_and_retried_after_a_back_off() -> None:
    stream = Stream(outcomes=[0, 0])
    relay, ctx, clock = a_relay(stream)
    ids = write_events(ctx, 3)

    assert relay.relay_once() == 0
    health = relay.health
    assert health.last_error == "connection refused"
    assert health.consecutive_failures == 1
    assert health.retry_at == clock.now() + timedelta(seconds=1)
    assert position_of(ctx) == (0, 0)
    assert relay.lag() == 3

    assert relay.relay_once() == 0  # backing off: the stream is not even asked
    assert len(stream.calls) == 1

    clock.advance(seconds=1)
    assert relay.relay_once() == 0
    assert relay.health.consecutive_failures == 2
    assert relay.health.retry_at == clock.now() + timedelta(seconds=2)

    clock.advance(seconds=2)
    assert relay.relay_once() == 3
    assert relay.health.consecutive_failures == 0
    assert relay.health.retry_at is None
    assert relay.health.failures == 2
    assert stream.stored == ids
    assert relay.lag() == 0


def test_a_batch_published_but_not_recorded_is_published_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = Stream()
    relay, ctx, _ = a_relay(stream)
    ids = write_events(ctx, 4)

    def crash(last: StoredEvent) -> None:
        raise RuntimeError("killed between publishing and moving the position")

    with monkeypatch.context() as patched:
        patched.setattr(relay, "_move_to", crash)
        with pytest.raises(RuntimeError):
            relay.relay_once()
    assert position_of(ctx) == (0, 0)

    assert relay.relay_once() == 4
    assert stream.calls == [ids, ids]
    assert stream.stored == ids  # the repeat is dropped by event id


def test_two_relays_share_one_durable_position() -> None:
    stream = Stream()
    first, ctx, _ = a_relay(stream, batch=3)
    second = StreamRelay(ctx, stream, batch=3)
    ids = write_events(ctx, 7)

    rounds = [first.relay_once(), second.relay_once(), first.relay_once(), second.relay_once()]

    assert rounds == [3, 3, 1, 0]
    assert [i for call in stream.calls for i in call] == ids


def test_back_off_doubles_up_to_its_cap() -> None:
    backoff = Backoff(0.5, 30.0)
    delays = [backoff.delay(n).total_seconds() for n in range(1, 10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 30),
    batch=st.integers(1, 8),
    outcomes=st.lists(st.one_of(st.none(), st.integers(0, 8)), max_size=12),
)
def test_whatever_fails_every_event_arrives_and_first_arrivals_keep_outbox_order(
    count: int, batch: int, outcomes: list[int | None]
) -> None:
    stream = Stream(outcomes=[o if o is None else min(o, batch - 1) for o in outcomes])
    relay, ctx, clock = a_relay(stream, batch=batch)
    ids = write_events(ctx, count)

    for _ in range(count + len(outcomes) + 1):
        relay.relay_once()
        clock.advance(seconds=60)  # past any back-off
        before = position_of(ctx)[1]
        assert all(i in stream.stored for i in ids[:before])  # never past an unconfirmed one

    assert stream.stored == ids
    assert relay.lag() == 0
