"""End-to-end fixtures: the real HTTP API over a real database, driven like a client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.entrypoints.api.app import create_app
from ordergrid.entrypoints.worker import Worker
from ordergrid.settings import Settings

ADMIN = {"Authorization": "Bearer admin-secret"}

#: A small network: two DCs and two New York stores, one of them paused.
LOCATIONS = {
    "DC-ATL": {"type": "dc", "lat": 33.75, "lon": -84.39, "caps": ["ship"], "handling": 1.0},
    "DC-RNO": {"type": "dc", "lat": 39.53, "lon": -119.81, "caps": ["ship"], "handling": 1.0},
    "ST-NYC": {
        "type": "store",
        "lat": 40.75,
        "lon": -73.99,
        "caps": ["ship", "pickup"],
        "handling": 3.0,
    },
    "ST-BRK": {
        "type": "store",
        "lat": 40.68,
        "lon": -73.97,
        "caps": ["ship", "pickup"],
        "handling": 3.0,
        "status": "paused",
    },
}
NEW_YORK = {"line1": "1 Main St", "city": "New York", "postal_code": "10001", "country": "US"}


@dataclass
class Api:
    """A client with the admin token, plus the wired application behind it."""

    client: TestClient
    app: Application
    clock: FixedClock | None = None

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, headers=ADMIN, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.client.post(path, json=body, headers={**ADMIN, **kw.pop("headers", {})}, **kw)

    def put(self, path: str, body: Any) -> httpx.Response:
        return self.client.put(path, json=body, headers=ADMIN)

    def stock(self, location_id: str, sku: str, delta: int, adjustment_id: str) -> None:
        r = self.post(
            "/v1/inventory/adjustments",
            {
                "adjustments": [
                    {
                        "id": adjustment_id,
                        "location_id": location_id,
                        "sku": sku,
                        "delta": delta,
                        "reason": "receipt",
                    }
                ]
            },
        )
        assert r.status_code == 200, r.text

    def position(self, location_id: str, sku: str) -> dict[str, int]:
        positions = self.get(f"/v1/inventory/{sku}").json()["positions"]
        return next(p for p in positions if p["location_id"] == location_id)

    def order(
        self, external_id: str, lines: list[tuple[str, str, int]], **delivery: Any
    ) -> dict[str, Any]:
        body = {
            "external_id": external_id,
            "channel": "web",
            "delivery": {"method": "ship", "address": NEW_YORK, **delivery},
            "lines": [
                {"line_id": i, "sku": s, "quantity": q, "unit_price": 10} for i, s, q in lines
            ],
        }
        r = self.post("/v1/orders", body)
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    def act(
        self, fulfilment_id: str, action: str, body: Any = None, worker: bool = True
    ) -> dict[str, Any]:
        """Act as the location; then, unless `worker` is False, the worker runs what the
        action made due (the re-sourcing of freed units) before the test reads on."""
        r = self.post(f"/v1/fulfilments/{fulfilment_id}/{action}", body)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        if worker:
            self.relay()
        return result

    def relay(self) -> int:
        """Run the worker until no timer is due and every committed event is handled
        (re-sourcing after failures, deadlines, back-order re-sourcing).

        On PostgreSQL an event is read once every older transaction on the server has
        ended, so a busy shared server can hold it back for a moment: wait for it.
        """
        handled, deadline = 0, time.monotonic() + 10
        while True:
            handled += Worker(self.app).run_until_idle()
            if not self._unhandled():
                return handled
            assert time.monotonic() < deadline, "events stayed unhandled"
            time.sleep(0.05)

    def _unhandled(self) -> int:
        with self.app.engine.connect() as conn:
            cursor = conn.execute(
                text("SELECT txid, position FROM consumers WHERE name = 'reactions'")
            ).first()
            txid, position = cursor if cursor is not None else (0, 0)
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM events"
                        " WHERE txid > :t OR (txid = :t AND position > :p)"
                    ),
                    {"t": txid, "p": position},
                ).scalar()
                or 0
            )


def seed(api: Api) -> None:
    for loc_id, spec in LOCATIONS.items():
        r = api.put(
            f"/v1/locations/{loc_id}",
            {
                "name": loc_id,
                "type": spec["type"],
                "capabilities": spec["caps"],
                "address": {"country": "US", "lat": spec["lat"], "lon": spec["lon"]},
                "handling_cost": spec["handling"],
                "status": spec.get("status", "active"),
            },
        )
        assert r.status_code == 201, r.text
    r = api.post(
        "/v1/products/batch",
        {
            "products": [
                {"sku": "A", "name": "T-shirt", "weight_kg": 0.2},
                {"sku": "B", "name": "Mug", "weight_kg": 0.4, "tags": ["fragile"]},
            ]
        },
    )
    assert r.status_code == 200, r.text


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    app = bootstrap(
        Settings(database_url=database_url, admin_token="admin-secret", auto_migrate=True)
    )
    with TestClient(create_app(app)) as client:
        instance = Api(client, app)
        seed(instance)
        yield instance
    app.close()


@pytest.fixture
def clocked_api(database_url: str) -> Iterator[Api]:
    """The API on a clock that moves only when the test says (deadlines)."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    app = bootstrap(
        Settings(database_url=database_url, admin_token="admin-secret", auto_migrate=True),
        clock=clock,
    )
    with TestClient(create_app(app)) as client:
        instance = Api(client, app, clock)
        seed(instance)
        yield instance
    app.close()
