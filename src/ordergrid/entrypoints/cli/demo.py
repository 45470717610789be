"""`ordergrid demo`: a sample US network, a live API, and orders flowing through it."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress

from ordergrid.bootstrap import Application
from ordergrid.demo.sample import OrderStream, SampleNetwork
from ordergrid.domain.calendar import LocationCalendar, calendar_from_document
from ordergrid.domain.network import Address
from ordergrid.entrypoints.api.app import create_app
from ordergrid.entrypoints.api.schemas_calendar import CalendarIn
from ordergrid.service.commands import (
    AdjustInventory,
    AdjustmentInput,
    ProductInput,
    PutLocation,
    PutProducts,
)

STOCK_BATCH = 2000


def _calendar(body: dict[str, Any] | None) -> LocationCalendar | None:
    """A location body's calendar, checked as `PUT /v1/locations/{id}` checks it."""
    if body is None:
        return None
    return calendar_from_document(CalendarIn.model_validate(body).model_dump(mode="json"))


def load_network(app: Application, network: SampleNetwork, console: Console) -> None:
    """Seed locations, products and stock through the service layer, with progress."""
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(
            "Seeding network",
            total=len(network.locations) + 1 + len(network.stock) // STOCK_BATCH + 1,
        )
        for location_id, body in network.locations:
            app.bus.handle(
                PutLocation(
                    location_id=location_id,
                    name=body["name"],
                    type=body["type"],
                    address=Address(**body["address"]),
                    capabilities=frozenset(body["capabilities"]),
                    status=body["status"],
                    handling_cost=body["handling_cost"],
                    orders_per_day=body["capacity"].get("orders_per_day"),
                    tags=frozenset(body["tags"]),
                    calendar=_calendar(body.get("calendar")),
                )
            )
            progress.advance(task)
        app.bus.handle(
            PutProducts(
                tuple(
                    ProductInput(
                        p["sku"], p["name"], p["weight_kg"], frozenset(p["tags"]), p["attributes"]
                    )
                    for p in network.products
                )
            )
        )
        progress.advance(task)
        for start in range(0, len(network.stock), STOCK_BATCH):
            batch = network.stock[start : start + STOCK_BATCH]
            app.bus.handle(
                AdjustInventory(
                    tuple(
                        AdjustmentInput(
                            a["id"], a["location_id"], a["sku"], a["delta"], a["reason"]
                        )
                        for a in batch
                    )
                )
            )
            progress.advance(task)


def start_server(app: Application, host: str, port: int) -> uvicorn.Server:
    """Serve the API (with the embedded worker) on a background thread."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(app, embedded_worker=True), host=host, port=port, log_level="warning"
        )
    )
    threading.Thread(target=server.run, name="ordergrid-api", daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on {host}:{port}")
        time.sleep(0.05)
    return server


@dataclass
class Associates:
    """Store and DC staff working the queues: accept, pick (sometimes short), ship or
    hand over, and now and then reject; send the transfers made for pick-up orders, and
    take them in at the store a round later."""

    client: httpx.Client
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    counts: dict[str, int] = field(default_factory=dict)

    def _post(self, fid: str, action: str, body: dict[str, Any] | None = None) -> None:
        self._act(f"/v1/fulfilments/{fid}/{action}", action, body)

    def _act(self, path: str, action: str, body: dict[str, Any] | None) -> None:
        r = self.client.post(path, json=body)
        key = action if r.status_code in (200, 201) else f"{action}:{r.status_code}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def _queue(self, status: str) -> list[dict[str, Any]]:
        return self._list("/v1/fulfilments", status)

    def _list(self, path: str, status: str) -> list[dict[str, Any]]:
        r = self.client.get(path, params={"status": status, "limit": 25})
        items: list[dict[str, Any]] = r.json().get("items", []) if r.status_code == 200 else []
        return items

    def _move_transfers(self) -> None:
        for t in self._list("/v1/supply", "in_transit"):
            lines = [{"sku": x["sku"], "quantity": x["in_transit"]} for x in t["lines"]]
            receipt = {"id": f"RC-{t['id']}", "lines": [x for x in lines if x["quantity"]]}
            if receipt["lines"]:
                self._act(f"/v1/supply/{t['id']}/receipts", "receive", receipt)
        for t in self._list("/v1/supply", "open"):
            if t["kind"] == "transfer":
                self._act(f"/v1/supply/{t['id']}/dispatch", "dispatch", {})

    def work(self) -> None:
        self._move_transfers()
        for f in self._queue("released"):
            self._post(
                f["id"],
                "reject" if self.rng.random() < 0.03 else "accept",
                {"reason": "capacity"} if self.rng.random() < 0.03 else None,
            )
        for f in self._queue("accepted"):
            lines = [
                {"line_id": x["line_id"], "picked": x["quantity"] - (self.rng.random() < 0.04)}
                for x in f["lines"]
            ]
            self._post(f["id"], "pick", {"lines": lines})
        for f in self._queue("picked"):
            if f["delivery_method"] in ("pickup", "curbside"):
                self._post(f["id"], "ready-for-pickup")
            else:
                tracking = f"1Z{self.rng.randrange(10**9):09d}"
                self._post(f["id"], "ship", {"carrier": "ups", "tracking_number": tracking})
        for f in self._queue("ready_for_pickup"):
            self._post(f["id"], "collect")


def run_orders(
    base_url: str,
    token: str,
    network: SampleNetwork,
    rate: float,
    limit: int,
    console: Console,
    seed: int,
) -> dict[str, int]:
    """Post orders at `rate` per second (until `limit`, 0 = forever) and work the queues."""
    stream = OrderStream(network, seed=seed)
    headers = {"Authorization": f"Bearer {token}"}
    placed: dict[str, int] = {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        associates = Associates(client)
        n, last_report = 0, time.monotonic()
        while limit == 0 or n < limit:
            started = time.monotonic()
            r = client.post("/v1/orders", json=stream.next_order())
            status = (
                r.json().get("status", str(r.status_code))
                if r.status_code < 300
                else str(r.status_code)
            )
            placed[status] = placed.get(status, 0) + 1
            n += 1
            if n % max(1, int(rate)) == 0:
                associates.work()
            if time.monotonic() - last_report > 10:
                console.print(
                    f"{n} orders placed; at placement: {placed}; "
                    f"location actions: {associates.counts}"
                )
                last_report = time.monotonic()
            time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))
        associates.work()
    return placed


def banner(console: Console, base_url: str, token: str, db: str) -> None:
    console.print(
        Panel.fit(
            f"[bold]ordergrid demo is running[/bold]\n\n"
            f"API        {base_url}/v1\n"
            f"Docs       {base_url}/docs\n"
            f"Metrics    {base_url}/metrics\n"
            f"Admin token {token}\n"
            f"Database   {db}\n\n"
            f"Try: curl -H 'Authorization: Bearer {token}' '{base_url}/v1/orders?limit=5'\n"
            "Press Ctrl+C to stop.",
            title="ordergrid",
        )
    )
