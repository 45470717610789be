"""Webhooks on the in-memory adapters: filters, signatures, retries, dead letters."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.service.factories import World

from ordergrid.domain.errors import InvalidInput, NotFound
from ordergrid.domain.webhooks import matches, next_attempt
from ordergrid.service import webhooks
from ordergrid.service.context import Context, WebhookOptions
from ordergrid.service.webhook_delivery import queue_deliveries, send_due

SECRET = "s3cret-key"


@dataclass
class Receiver:
    """Records what arrives per URL; answers with the error set for a URL, else 2xx."""

    failing: dict[str, str] = field(default_factory=dict)
    received: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    gate: dict[str, threading.Event] = field(default_factory=dict)

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        if url in self.gate:
            self.gate[url].wait(5)
        self.received.append((url, body, headers))
        return self.failing.get(url)

    def bodies(self, url: str) -> list[dict[str, object]]:
        return [json.loads(b) for u, b, _ in self.received if u == url]


class FixedJitter:
    def fraction(self) -> float:
        return 0.0


class Resolver:
    def __init__(self) -> None:
        self.names = {"public.example": ["93.184.216.34"], "inside.example": ["10.1.2.3"]}

    def addresses(self, host: str) -> list[str]:
        return self.names.get(host, [])


def wired(world: World, receiver: Receiver, **options: object) -> Context:
    opts = WebhookOptions(
        sender=receiver,
        resolver=Resolver(),
        jitter=FixedJitter(),
        **options,  # type: ignore[arg-type]
    )
    return replace(world.ctx, webhooks=opts)


def deliver(ctx: Context) -> None:
    queue_deliveries(ctx)
    send_due(ctx)


def test_filters_exact_types_prefixes_and_everything() -> None:
    assert matches(["order.*"], "order.allocated")
    assert not matches(["order.*"], "inventory.changed")
    assert matches(["inventory.changed"], "inventory.changed")
    assert matches(["*"], "fulfilment.shipped")
    assert not matches(["order.received"], "order.allocated")


def test_only_matching_events_are_delivered_signed_with_the_exact_body(world: World) -> None:
    receiver = Receiver()
    ctx = wired(world, receiver)
    webhooks.subscribe(ctx, "https://public.example/orders", ["order.*"], SECRET)
    webhooks.subscribe(ctx, "https://public.example/stock", ["inventory.changed"], SECRET)
    world.stock("DC-ATL", "A", 5)
    world.place(("A", 1))
    deliver(ctx)
    order_types = {b["type"] for b in receiver.bodies("https://public.example/orders")}
    stock_types = {b["type"] for b in receiver.bodies("https://public.example/stock")}
    assert order_types
    assert all(str(t).startswith("order.") for t in order_types)
    assert stock_types == {"inventory.changed"}
    for _, body, headers in receiver.received:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Ordergrid-Signature"] == f"sha256={expected}"
        assert set(json.loads(body)) == {"id", "type", "at", "data"}


def test_a_failed_delivery_backs_off_exponentially_then_goes_dead(world: World) -> None:
    url = "https://public.example/down"
    receiver = Receiver(failing={url: "HTTP 503"})
    ctx = wired(world, receiver, max_attempts=3, backoff_seconds=10.0)
    hook = webhooks.subscribe(ctx, url, ["inventory.changed"], SECRET)
    world.stock("DC-ATL", "A", 5)
    deliver(ctx)
    [first] = webhooks.deliveries(ctx, hook.id, 10, None).items
    now = world.clock.now()
    assert (first.status, first.attempts, first.last_error) == ("failed", 1, "HTTP 503")
    assert first.next_attempt_at == now + timedelta(seconds=5)  # half of 10 s: jitter 0
    assert send_due(ctx) == 0  # not due yet
    world.clock.advance(seconds=5)
    send_due(ctx)
    [second] = webhooks.deliveries(ctx, hook.id, 10, None).items
    assert second.attempts == 2
    assert second.next_attempt_at == world.clock.now() + timedelta(seconds=10)
    world.clock.advance(seconds=10)
    send_due(ctx)
    [dead] = webhooks.deliveries(ctx, hook.id, 10, None).items
    assert (dead.status, dead.attempts, dead.next_attempt_at) == ("dead", 3, None)
    world.clock.advance(timedelta(days=1))
    assert send_due(ctx) == 0
    assert len(receiver.received) == 3


def test_back_off_is_capped_and_jittered() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_attempt(now, 1, 2.0, 100.0, 0.0) == now + timedelta(seconds=1)
    assert next_attempt(now, 3, 2.0, 100.0, 0.999) < now + timedelta(seconds=8)
    assert next_attempt(now, 30, 2.0, 100.0, 0.0) == now + timedelta(seconds=50)


def test_redeliver_requeues_a_dead_delivery(world: World) -> None:
    url = "https://public.example/flaky"
    receiver = Receiver(failing={url: "timeout"})
    ctx = wired(world, receiver, max_attempts=1)
    hook = webhooks.subscribe(ctx, url, ["inventory.*"], SECRET)
    world.stock("DC-ATL", "A", 5)
    deliver(ctx)
    [dead] = webhooks.deliveries(ctx, hook.id, 10, None).items
    assert dead.status == "dead"
    receiver.failing.clear()
    again = webhooks.redeliver(ctx, hook.id, dead.id)
    assert (again.status, again.attempts) == ("pending", 0)
    send_due(ctx)
    [done] = webhooks.deliveries(ctx, hook.id, 10, None).items
    assert (done.status, done.attempts, done.delivered_at) == ("delivered", 1, world.clock.now())
    with pytest.raises(NotFound):
        webhooks.redeliver(ctx, "another", dead.id)


def test_a_failing_receiver_does_not_hold_up_another(world: World) -> None:
    slow, healthy = "https://public.example/slow", "https://public.example/ok"
    receiver = Receiver(failing={slow: "timeout"}, gate={slow: threading.Event()})
    ctx = wired(world, receiver)
    webhooks.subscribe(ctx, slow, ["*"], SECRET)
    webhooks.subscribe(ctx, healthy, ["*"], SECRET)
    world.stock("DC-ATL", "A", 5)
    queue_deliveries(ctx)
    sender = threading.Thread(target=send_due, args=(ctx,))
    sender.start()
    deadline = threading.Event()
    for _ in range(100):
        if receiver.bodies(healthy):
            break
        deadline.wait(0.02)
    assert receiver.bodies(healthy), "the healthy receiver waited for the slow one"
    world.place(("A", 1))  # order processing goes on while a delivery is in flight
    receiver.gate[slow].set()
    sender.join(5)


def test_events_are_queued_once_per_subscription(world: World) -> None:
    receiver = Receiver()
    ctx = wired(world, receiver)
    hook = webhooks.subscribe(ctx, "https://public.example/x", ["*"], SECRET)
    world.stock("DC-ATL", "A", 5)
    queue_deliveries(ctx)
    queued = len(webhooks.deliveries(ctx, hook.id, 500, None).items)
    with ctx.uow() as uow:
        uow.outbox.set_consumer_position("webhooks", (0, 0))  # a relay repeats its batch
        uow.commit()
    queue_deliveries(ctx)
    assert len(webhooks.deliveries(ctx, hook.id, 500, None).items) == queued


def test_deliveries_are_paged(world: World) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, "https://public.example/x", ["inventory.changed"], SECRET)
    for sku in ("A", "B", "C"):
        world.stock("DC-ATL", sku, 5)
    queue_deliveries(ctx)
    first = webhooks.deliveries(ctx, hook.id, 2, None)
    assert len(first.items) == 2
    assert first.next_cursor
    rest = webhooks.deliveries(ctx, hook.id, 2, first.next_cursor)
    assert len(rest.items) == 1
    assert rest.next_cursor is None


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://public.example/x", "webhook_url_scheme"),
        ("not a url", "webhook_url_scheme"),
        ("http://[::1", "webhook_url_scheme"),
        ("http://127.0.0.1:8080/x", "webhook_url_private"),
        ("http://169.254.169.254/latest", "webhook_url_private"),
        ("https://inside.example/x", "webhook_url_private"),
        ("https://nowhere.example/x", "webhook_url_unresolvable"),
    ],
)
def test_urls_it_may_not_call_are_refused(world: World, url: str, code: str) -> None:
    ctx = wired(world, Receiver())
    with pytest.raises(InvalidInput) as refused:
        webhooks.subscribe(ctx, url, ["*"], SECRET)
    assert (refused.value.code, refused.value.details["field"]) == (code, "url")


def test_private_urls_are_allowed_when_configured(world: World) -> None:
    ctx = wired(world, Receiver(), allow_private=True)
    assert webhooks.subscribe(ctx, "http://127.0.0.1:9/x", ["*"], SECRET).url


@pytest.mark.parametrize("bad", ["order*", "or*der.x", "**"])
def test_malformed_event_filters_are_refused(world: World, bad: str) -> None:
    ctx = wired(world, Receiver())
    with pytest.raises(InvalidInput) as refused:
        webhooks.subscribe(ctx, "https://public.example/x", ["order.*", bad], SECRET)
    assert refused.value.details["field"] == "events.1"


def test_unsubscribing_drops_the_deliveries(world: World) -> None:
    ctx = wired(world, Receiver())
    hook = webhooks.subscribe(ctx, "https://public.example/x", ["*"], SECRET)
    world.stock("DC-ATL", "A", 5)
    queue_deliveries(ctx)
    webhooks.unsubscribe(ctx, hook.id)
    assert webhooks.subscriptions(ctx) == []
    with pytest.raises(NotFound):
        webhooks.deliveries(ctx, hook.id, 10, None)
    with pytest.raises(NotFound):
        webhooks.unsubscribe(ctx, hook.id)


def test_a_name_that_moved_to_a_private_address_is_not_called(world: World) -> None:
    receiver = Receiver()
    ctx = wired(world, receiver)
    hook = webhooks.subscribe(ctx, "https://public.example/x", ["inventory.changed"], SECRET)
    resolver = ctx.webhooks.resolver
    assert isinstance(resolver, Resolver)
    resolver.names["public.example"] = ["127.0.0.1"]
    world.stock("DC-ATL", "A", 5)
    deliver(ctx)
    [refused] = webhooks.deliveries(ctx, hook.id, 10, None).items
    assert refused.status == "failed"
    assert "private address" in (refused.last_error or "")
    assert receiver.received == []
