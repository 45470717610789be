"""Webhooks over HTTP: subscriptions, refused URLs, and signed deliveries to a real
receiver on 127.0.0.1 (allowed by `ORDERGRID_WEBHOOK_ALLOW_PRIVATE`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.e2e.conftest import ADMIN, Api, seed

from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints.api.app import create_app
from ordergrid.service.outbox_pruning import prune_events
from ordergrid.settings import Settings

SECRET = "receiver-secret"


@dataclass
class Received:
    bodies: list[bytes] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    replays: list[str | None] = field(default_factory=list)
    answer: int = 204

    def event_ids(self, start: int = 0) -> list[str]:
        return [json.loads(b)["id"] for b in self.bodies[start:]]


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    """A tiny HTTP server that records each POST and answers with `answer`."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.bodies.append(body)
            received.signatures.append(self.headers["X-Ordergrid-Signature"])
            received.replays.append(self.headers.get("X-Ordergrid-Replay"))
            self.send_response(received.answer)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_api(database_url: str) -> Iterator[Api]:
    settings = Settings(
        database_url=database_url,
        admin_token="admin-secret",
        auto_migrate=True,
        webhook_allow_private=True,
        webhook_backoff_seconds=0.01,
        webhook_backoff_max_seconds=0.01,
        webhook_max_attempts=2,
        webhook_timeout_seconds=2.0,
    )
    app = bootstrap(settings)
    with TestClient(create_app(app)) as client:
        instance = Api(client, app)
        seed(instance)
        yield instance
    app.close()


def subscribe(api: Api, url: str, events: list[str]) -> dict[str, Any]:
    r = api.post("/v1/webhooks", {"url": url, "events": events, "secret": SECRET})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def test_events_reach_a_real_receiver_signed(
    private_api: Api, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    hook = subscribe(private_api, url, ["order.*"])
    assert "secret" not in hook
    assert private_api.get(f"/v1/webhooks/{hook['id']}").json() == hook
    assert private_api.get("/v1/webhooks").json()["items"] == [hook]
    private_api.stock("DC-ATL", "A", 5, "adj-1")
    order = private_api.order("W-1", [("1", "A", 1)])
    private_api.relay()
    events = [json.loads(b) for b in received.bodies]
    assert {e["type"] for e in events} >= {"order.received", "order.allocated"}
    assert all(e["data"].get("order_id", order["id"]) == order["id"] for e in events)
    for body, sig in zip(received.bodies, received.signatures, strict=True):
        assert sig == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    page = private_api.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 1}).json()
    assert page["next_cursor"]
    [first] = page["items"]
    assert (first["status"], first["attempts"]) == ("delivered", 1)


def test_a_failing_receiver_ends_dead_and_can_be_redelivered(
    private_api: Api, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    received.answer = 500
    hook = subscribe(private_api, url, ["inventory.changed"])
    private_api.stock("DC-ATL", "A", 5, "adj-1")
    for _ in range(50):
        private_api.relay()
        [d] = private_api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
        if d["status"] == "dead":
            break
        threading.Event().wait(0.02)
    assert (d["status"], d["attempts"], d["last_error"]) == ("dead", 2, "HTTP 500")
    received.answer = 200
    path = f"/v1/webhooks/{hook['id']}/deliveries/{d['id']}/redeliver"
    r = private_api.post(path)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending"
    private_api.relay()
    [d] = private_api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    assert (d["status"], d["attempts"]) == ("delivered", 1)
    assert len(received.bodies) == 3


def test_removed_webhook_is_gone(private_api: Api, receiver: tuple[str, Received]) -> None:
    hook = subscribe(private_api, receiver[0], ["*"])
    r = private_api.client.delete(f"/v1/webhooks/{hook['id']}", headers=ADMIN)
    assert r.status_code == 204
    assert private_api.get(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert private_api.get(f"/v1/webhooks/{hook['id']}/deliveries").status_code == 404
    missing = private_api.post(f"/v1/webhooks/{hook['id']}/deliveries/nope/redeliver")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"url": "ftp://example.com/x"}, "webhook_url_scheme", "url"),
        ({"url": "http://127.0.0.1:8080/x"}, "webhook_url_private", "url"),
        ({"url": "http://10.0.0.7/x"}, "webhook_url_private", "url"),
        ({"url": "http://[fe80::1]/x"}, "webhook_url_private", "url"),
        ({"colour": "red"}, "validation_error", "colour"),
        ({"events": ["order*"]}, "invalid_event_filter", "events.0"),
        ({"events": []}, "validation_error", "events"),
    ],
)
def test_bad_subscriptions_are_refused_with_the_field(
    api: Api, body: dict[str, Any], code: str, field: str
) -> None:
    full = {"url": "https://example.com/x", "events": ["order.*"], "secret": SECRET, **body}
    r = api.post("/v1/webhooks", full)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["details"]["field"]) == (code, field)


def test_only_admins_manage_webhooks(api: Api) -> None:
    r = api.post("/v1/tokens", {"name": "ops", "role": "integrator"})
    assert r.status_code == 201, r.text
    other = {"Authorization": f"Bearer {r.json()['token']}"}
    assert api.client.get("/v1/webhooks", headers=other).status_code == 403
    body = {"url": "https://example.com/x", "events": ["*"], "secret": SECRET}
    assert api.client.post("/v1/webhooks", json=body, headers=other).status_code == 403
    assert api.client.get("/v1/webhooks").status_code == 401


def signed(received: Received, start: int = 0) -> bool:
    return all(
        sig == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        for body, sig in zip(received.bodies[start:], received.signatures[start:], strict=True)
    )


def test_a_replay_resends_past_events_signed_with_their_original_ids(
    private_api: Api, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    hook = subscribe(private_api, url, ["order.*"])
    private_api.stock("DC-ATL", "A", 5, "adj-1")
    private_api.order("W-1", [("1", "A", 1)])
    private_api.relay()
    live = received.event_ids()
    with private_api.app.ctx.uow(readonly=True) as uow:
        outbox = [e.id for e in uow.outbox.after((0, 0), 1000) if e.type.startswith("order.")]
    assert sorted(outbox) == sorted(live)
    first = outbox[0]  # the order's first event: the replay covers every one after it
    path = f"/v1/webhooks/{hook['id']}/replay"

    r = private_api.post(path, {"from_event_id": first}, headers={"Idempotency-Key": "replay-1"})

    assert r.status_code == 202, r.text
    answer = r.json()
    assert (answer["replay_id"], answer["complete"]) == ("replay-1", True)
    assert answer["queued"] == len(live)
    assert (answer["first_event_id"], answer["last_event_id"]) == (outbox[0], outbox[-1])
    assert answer["next_event_id"] is None
    private_api.relay()
    assert sorted(received.event_ids(len(live))) == sorted(live)
    assert received.replays[len(live) :] == ["replay-1"] * len(live)
    assert received.replays[: len(live)] == [None] * len(live)
    assert signed(received)
    again = private_api.post(
        path, {"from_event_id": first}, headers={"Idempotency-Key": "replay-1"}
    )
    assert (again.status_code, again.json()["queued"]) == (202, answer["queued"])
    private_api.relay()
    assert len(received.bodies) == 2 * len(live)  # the same key queued nothing twice
    items = private_api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    assert sorted(d["replay_id"] or "" for d in items) == [""] * len(live) + ["replay-1"] * len(
        live
    )


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({}, 422, "replay_start_missing", "from_event_id"),
        (
            {"from_event_id": "e1", "since": "2026-01-01T00:00:00Z"},
            422,
            "replay_start_ambiguous",
            "since",
        ),
        ({"since": "2026-01-01T00:00:00"}, 422, "validation_error", "since"),
        (
            {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            422,
            "replay_window_empty",
            "until",
        ),
        ({"from_event_id": "e1", "limit": 100_001}, 422, "validation_error", "limit"),
        ({"from_event_id": "no-such-event"}, 422, "replay_event_not_found", "from_event_id"),
        ({"from_event_id": "e1", "colour": "red"}, 422, "validation_error", "colour"),
        ({"since": "0001-01-01T00:00:00+05:00"}, 422, "validation_error", "since"),
    ],
)
def test_a_replay_that_cannot_start_is_refused_with_the_field(
    private_api: Api, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    hook = subscribe(private_api, "http://127.0.0.1:9/x", ["*"])
    r = private_api.post(f"/v1/webhooks/{hook['id']}/replay", body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert (error["code"], error["details"]["field"]) == (code, field)


def test_a_replay_until_the_end_of_time_queues_what_there_is(private_api: Api) -> None:
    hook = subscribe(private_api, "http://127.0.0.1:9/x", ["*"])
    body = {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59.999999Z"}
    r = private_api.post(f"/v1/webhooks/{hook['id']}/replay", body)
    assert r.status_code == 202, r.text
    assert r.json()["complete"] is True


def test_replaying_an_unknown_subscription_is_404(api: Api) -> None:
    r = api.post("/v1/webhooks/nope/replay", {"since": "2026-01-01T00:00:00Z"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "webhook_not_found"


def test_a_replay_from_before_the_pruned_outbox_is_409(
    private_api: Api, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    hook = subscribe(private_api, url, ["inventory.*"])
    private_api.stock("DC-ATL", "A", 5, "adj-1")
    private_api.stock("DC-ATL", "B", 5, "adj-2")
    private_api.relay()
    with private_api.app.ctx.uow(readonly=True) as uow:
        [first, _] = [e.id for e in uow.outbox.after((0, 0), 1000) if e.type.startswith("inv")]
    assert first in received.event_ids()
    assert prune_events(private_api.app.ctx, datetime.now(UTC) + timedelta(minutes=1)) >= 1
    path = f"/v1/webhooks/{hook['id']}/replay"

    r = private_api.post(path, {"from_event_id": first})

    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("events_pruned", "from_event_id")
    assert error["details"]["pruned_through_at"]
    since = private_api.post(path, {"since": "2020-01-01T00:00:00Z"})
    assert (since.status_code, since.json()["error"]["code"]) == (409, "events_pruned")
