"""Shared helpers for the error, auth and fuzz end-to-end tests: an in-process API client
on a fresh SQLite file, seed data created through the API, and error-envelope assertions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ordergrid.bootstrap import Application, bootstrap
from ordergrid.entrypoints.api.app import create_app
from ordergrid.settings import Settings

ADMIN_TOKEN = "admin-secret"
H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MAX_BODY = 65536

DC1: dict[str, Any] = {
    "name": "Main DC",
    "type": "dc",
    "address": {
        "line1": "1 Dock St",
        "city": "Newark",
        "postal_code": "07102",
        "country": "US",
        "lat": 40.73,
        "lon": -74.17,
    },
    "capabilities": ["ship"],
}
S1: dict[str, Any] = {
    "name": "Store One",
    "type": "store",
    "address": {
        "line1": "5 Main St",
        "city": "New York",
        "postal_code": "10001",
        "country": "US",
        "lat": 40.75,
        "lon": -73.99,
    },
    "capabilities": ["ship", "pickup"],
}
SHIP_ADDRESS: dict[str, Any] = {
    "line1": "350 5th Ave",
    "city": "New York",
    "postal_code": "10118",
    "country": "US",
    "lat": 40.748,
    "lon": -73.985,
}

_ids = itertools.count(1)


def make_app(tmp_path: Path | None = None, *, url: str | None = None) -> Application:
    """The wired application on a SQLite file in `tmp_path`, or on the database `url`."""
    assert (tmp_path is None) != (url is None)
    return bootstrap(
        Settings(
            database_url=url or f"sqlite:///{tmp_path}/t.db",
            admin_token=ADMIN_TOKEN,
            max_body_bytes=MAX_BODY,
            auto_migrate=True,
        )
    )


def make_client(tmp_path: Path | None = None, *, url: str | None = None) -> TestClient:
    app = make_app(tmp_path, url=url)
    return TestClient(create_app(app), raise_server_exceptions=False)


@contextmanager
def running_client(tmp_path: Path | None = None, *, url: str | None = None) -> Iterator[TestClient]:
    """A started client on a fresh database; the engine is disposed afterwards."""
    client = make_client(tmp_path, url=url)
    try:
        with client:
            yield client
    finally:
        client.app.state.ordergrid.close()  # type: ignore[attr-defined]


def ok(resp: Any, *statuses: int) -> Any:
    """The JSON body of a response that must have one of `statuses` (default 200/201)."""
    expected = statuses or (200, 201)
    assert resp.status_code in expected, (resp.status_code, resp.text)
    return resp.json()


def seed(client: TestClient, *, dc_stock: int = 10, s1_stock: int = 5) -> None:
    """DC1 (ship) and S1 (ship, pickup); products A and B with stock at both."""
    ok(client.put("/v1/locations/DC1", json=DC1, headers=H))
    ok(client.put("/v1/locations/S1", json=S1, headers=H))
    ok(client.put("/v1/products/A", json={"name": "Product A", "weight_kg": 1.0}, headers=H))
    ok(client.put("/v1/products/B", json={"name": "Product B"}, headers=H))
    adjustments = [
        {
            "id": f"seed-{loc}-{sku}",
            "location_id": loc,
            "sku": sku,
            "delta": qty,
            "reason": "receipt",
        }
        for loc, qty in (("DC1", dc_stock), ("S1", s1_stock))
        for sku in ("A", "B")
        if qty
    ]
    if adjustments:
        ok(client.post("/v1/inventory/adjustments", json={"adjustments": adjustments}, headers=H))


def order_body(
    *,
    channel: str = "web",
    method: str = "ship",
    lines: list[dict[str, Any]] | None = None,
    external_id: str | None = None,
    **delivery: Any,
) -> dict[str, Any]:
    if method in ("ship", "same_day"):
        delivery.setdefault("address", SHIP_ADDRESS)
    elif method in ("pickup", "curbside"):
        delivery.setdefault("pickup_location_id", "S1")
    return {
        "external_id": external_id or f"EXT-{next(_ids)}",
        "channel": channel,
        "customer": {"id": "C-1"},
        "delivery": {"method": method, **delivery},
        "lines": lines if lines is not None else [{"line_id": "1", "sku": "A", "quantity": 1}],
    }


def place(client: TestClient, headers: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        client.post("/v1/orders", json=order_body(**kw), headers=headers or H)
    )
    return body


def assert_envelope(resp: Any) -> dict[str, Any]:
    """The contract's error body; returns `error`."""
    body = resp.json()
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err, dict), body
    assert isinstance(err.get("code"), str), body
    assert err["code"], body
    assert isinstance(err.get("message"), str), body
    assert err["message"], body
    assert isinstance(err.get("details"), dict), body
    return err  # type: ignore[no-any-return]


def assert_error(resp: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.text)
    err = assert_envelope(resp)
    assert err["code"] == code, err
    if field is not None:
        assert err["details"].get("field") == field, err
    if err["code"] == "validation_error":
        errors = err["details"].get("errors")
        assert isinstance(errors, list), err
        assert errors, err
        assert err["details"]["field"] == errors[0]["field"], err
    return err
