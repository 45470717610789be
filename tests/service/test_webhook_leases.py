"""Short webhook delivery leases on the in-memory adapters: a dead claimant's deliveries
are free again after one lease, a live one renews its leases while it sends, and only
the claim holding a delivery records its outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from tests.service.factories import World
from tests.service.test_webhook_service import FixedJitter, Resolver

from ordergrid.service import webhooks
from ordergrid.service.context import Context, WebhookOptions
from ordergrid.service.ports import WebhookDelivery
from ordergrid.service.webhook_delivery import queue_deliveries, send_due

SECRET = "s3cret-key"
URL = "https://public.example/hooks"


@dataclass
class SlowReceiver:
    """The first call waits until released, then answers `first_answer`; later calls
    answer 2xx at once. Counts every call as it starts."""

    first_answer: str | None = None
    calls: int = 0
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        del url, body, headers
        with self._lock:
            self.calls += 1
            first = self.calls == 1
        if not first:
            return None
        self.started.set()
        assert self.release.wait(10), "the test never released the first call"
        return self.first_answer


def wired(world: World, receiver: SlowReceiver, **options: float) -> Context:
    opts = WebhookOptions(sender=receiver, resolver=Resolver(), jitter=FixedJitter(), **options)
    return replace(world.ctx, webhooks=opts)


def one_delivery(world: World, ctx: Context) -> WebhookDelivery:
    hook = webhooks.subscribe(ctx, URL, ["inventory.changed"], SECRET)
    world.stock("DC-ATL", "A", 5)
    queue_deliveries(ctx)
    [delivery] = webhooks.deliveries(ctx, hook.id, 10, None).items
    return delivery


def current(ctx: Context, delivery: WebhookDelivery) -> WebhookDelivery:
    [found] = webhooks.deliveries(ctx, delivery.webhook_id, 10, None).items
    return found


def eventually(check: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def sending_in_background(ctx: Context) -> threading.Thread:
    sender = threading.Thread(target=send_due, args=(ctx,))
    sender.start()
    return sender


def test_the_default_lease_is_seconds_not_a_minute() -> None:
    options = WebhookOptions()
    assert options.lease_seconds <= 10
    assert options.renew_seconds < options.lease_seconds / 2  # a missed beat is survived


def test_a_dead_claimants_delivery_is_sent_again_after_one_short_lease(world: World) -> None:
    receiver = SlowReceiver()
    receiver.calls = 1  # every call answers at once
    ctx = wired(world, receiver)
    delivery = one_delivery(world, ctx)
    lease = ctx.webhooks.lease_seconds
    now = world.clock.now()
    with ctx.uow() as uow:  # a process claims it, then is killed before sending
        uow.webhooks.claim_due(now, 50, now + timedelta(seconds=lease), "killed-process")
        uow.commit()
    world.clock.advance(seconds=lease - 1)
    assert send_due(ctx) == 0  # still leased to the dead claimant
    world.clock.advance(seconds=1)
    assert send_due(ctx) == 1
    done = current(ctx, delivery)
    assert (done.status, done.attempts) == ("delivered", 1)


def test_a_slow_live_delivery_renews_its_lease_and_is_not_sent_twice(world: World) -> None:
    receiver = SlowReceiver()
    ctx = wired(world, receiver, lease_seconds=6.0, renew_seconds=0.01, attempt_seconds=60.0)
    delivery = one_delivery(world, ctx)
    sender = sending_in_background(ctx)
    assert receiver.started.wait(5)
    now = world.clock.advance(seconds=30)  # five leases: without renewals it would be free
    renewed = now + timedelta(seconds=6)
    eventually(lambda: current(ctx, delivery).next_attempt_at == renewed)
    assert send_due(ctx) == 0  # another worker finds nothing due
    receiver.release.set()
    sender.join(5)
    done = current(ctx, delivery)
    assert (done.status, done.attempts, receiver.calls) == ("delivered", 1, 1)


def test_an_attempt_past_its_bound_loses_its_claim_and_records_nothing(world: World) -> None:
    receiver = SlowReceiver(first_answer="timeout")
    ctx = wired(world, receiver, lease_seconds=6.0, renew_seconds=0.01, attempt_seconds=20.0)
    delivery = one_delivery(world, ctx)
    sender = sending_in_background(ctx)
    assert receiver.started.wait(5)
    world.clock.advance(seconds=21)  # the attempt should be over: presumed stuck
    time.sleep(0.05)  # heartbeats pass without renewing it
    assert send_due(ctx) == 1  # another worker takes it over and delivers
    receiver.release.set()
    sender.join(5)
    done = current(ctx, delivery)  # the stuck attempt's late "timeout" is not recorded
    assert (done.status, done.attempts, done.last_error) == ("delivered", 1, None)
    assert receiver.calls == 2


def test_a_delivery_requeued_while_being_sent_is_sent_again(world: World) -> None:
    receiver = SlowReceiver()
    ctx = wired(world, receiver, renew_seconds=0.01)
    delivery = one_delivery(world, ctx)
    sender = sending_in_background(ctx)
    assert receiver.started.wait(5)
    webhooks.redeliver(ctx, delivery.webhook_id, delivery.id)
    receiver.release.set()
    sender.join(5)
    requeued = current(ctx, delivery)  # the running attempt's outcome went nowhere
    assert (requeued.status, requeued.attempts) == ("pending", 0)
    assert send_due(ctx) == 1
    assert current(ctx, delivery).status == "delivered"
