"""The demo's simulated staff send transfers made for pick-up orders and take them in."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ordergrid.entrypoints.cli.demo import Associates

OPEN = {"id": "TR-1", "kind": "transfer", "lines": [{"sku": "A", "in_transit": 0}]}
ON_THE_WAY = {
    "id": "TR-2",
    "kind": "transfer",
    "lines": [{"sku": "A", "in_transit": 2}, {"sku": "B", "in_transit": 0}],
}
ORDERED = {"id": "PO-3", "kind": "purchase_order", "lines": [{"sku": "A", "in_transit": 0}]}


def staff(posted: list[tuple[str, Any]]) -> Associates:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posted.append((request.url.path, json.loads(request.content or b"null")))
            return httpx.Response(200, json={})
        supply = {"open": [OPEN, ORDERED], "in_transit": [ON_THE_WAY]}
        if request.url.path == "/v1/supply":
            return httpx.Response(200, json={"items": supply[request.url.params["status"]]})
        return httpx.Response(200, json={"items": []})

    return Associates(httpx.Client(transport=httpx.MockTransport(answer), base_url="http://demo"))


def test_open_transfers_are_sent_and_those_on_the_way_received_whole() -> None:
    posted: list[tuple[str, Any]] = []
    associates = staff(posted)

    associates.work()

    assert posted == [
        ("/v1/supply/TR-2/receipts", {"id": "RC-TR-2", "lines": [{"sku": "A", "quantity": 2}]}),
        ("/v1/supply/TR-1/dispatch", {}),
    ]
    assert associates.counts == {"receive": 1, "dispatch": 1}
