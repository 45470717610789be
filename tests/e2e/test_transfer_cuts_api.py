"""Transfers that take fewer units than they held, over HTTP: a dispatch naming the
units that left (the rest released at the origin), its validation, a pick-up order whose
transfer left short sourced again elsewhere, and a count at the origin below what a
transfer holds cutting the transfer to what exists."""

from __future__ import annotations

from typing import Any

import pytest
from tests.e2e.conftest import Api
from tests.e2e.test_pickup_transfer_api import pickup_order, transfers_for
from tests.e2e.test_transfer_api import a_transfer, ledger_reasons, position


def test_a_short_dispatch_sends_what_left_and_releases_the_rest(clocked_api: Api) -> None:
    api = clocked_api
    api.stock("DC-ATL", "A", 10, "a1")
    assert api.put("/v1/supply/TR-1", a_transfer(api)).status_code == 201
    body = {"carrier": "ups", "lines": [{"sku": "A", "quantity": 3}], "reason": "not_found"}
    sent = api.post("/v1/supply/TR-1/dispatch", body)
    assert sent.status_code == 200, sent.text
    line = sent.json()["lines"][0]
    assert (line["quantity"], line["in_transit"], line["held_at_origin"]) == (3, 3, 0)
    atl = position(api, "DC-ATL")
    assert (atl["on_hand"], atl["reserved"], atl["available"]) == (7, 0, 7)
    assert ledger_reasons(api, "DC-ATL")[-2:] == [
        ("transfer_out", "supply:TR-1"),
        ("transfer_short", "supply:TR-1"),
    ]
    again = api.post("/v1/supply/TR-1/dispatch", body)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "invalid_transition"
    got = api.post(
        "/v1/supply/TR-1/receipts", {"id": "R-1", "lines": [{"sku": "A", "quantity": 3}]}
    )
    assert got.status_code == 200, got.text
    assert got.json()["supply"]["status"] == "received"
    assert position(api, "ST-NYC")["on_hand"] == 3


@pytest.mark.parametrize(
    ("lines", "code", "field"),
    [
        ([{"sku": "A", "quantity": 5}], "over_dispatch", "lines.0.quantity"),
        ([{"sku": "A", "quantity": -1}], "validation_error", "lines.0.quantity"),
        ([{"sku": "A", "quantity": "2"}], "validation_error", "lines.0.quantity"),
        ([{"sku": "B", "quantity": 1}], "sku_not_on_supply", "lines.0.sku"),
        (
            [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}],
            "duplicate_sku",
            "lines.1.sku",
        ),
        ([{"sku": "A", "quantity": 0}], "nothing_dispatched", "lines"),
        ([], "validation_error", "lines"),
    ],
)
def test_a_dispatch_with_impossible_lines_is_refused_naming_the_field(
    clocked_api: Api, lines: list[dict[str, Any]], code: str, field: str
) -> None:
    api = clocked_api
    api.stock("DC-ATL", "A", 10, "a1")
    api.put("/v1/supply/TR-1", a_transfer(api))
    r = api.post("/v1/supply/TR-1/dispatch", {"lines": lines})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["details"]["field"]) == (code, field)
    assert api.get("/v1/supply/TR-1").json()["status"] == "open"
    assert position(api, "DC-ATL")["reserved"] == 4


def test_a_pickup_transfer_that_left_short_is_completed_from_elsewhere(
    clocked_api: Api,
) -> None:
    api = clocked_api
    api.stock("ST-NYC", "A", 1, "a-store")
    api.stock("DC-ATL", "B", 5, "b-atl")
    api.stock("DC-RNO", "B", 5, "b-rno")
    order = pickup_order(api)
    [first] = transfers_for(api, order["id"])
    assert first["origin"] == "DC-ATL"
    r = api.post(f"/v1/supply/{first['id']}/dispatch", {"lines": [{"sku": "B", "quantity": 1}]})
    assert r.status_code == 200, r.text
    by_origin = {t["origin"]: t["lines"][0] for t in transfers_for(api, order["id"])}
    assert (by_origin["DC-ATL"]["quantity"], by_origin["DC-ATL"]["pegged"]) == (1, 1)
    assert (by_origin["DC-RNO"]["quantity"], by_origin["DC-RNO"]["held_at_origin"]) == (1, 1)
    events = api.get(f"/v1/orders/{order['id']}/events").json()
    unpegged = [e["data"]["reason"] for e in events if e["type"] == "order.unpegged"]
    assert unpegged == ["transfer_short"]


def test_a_count_below_a_transfer_cuts_it_to_what_the_origin_has(clocked_api: Api) -> None:
    api = clocked_api
    assert api.clock is not None
    api.stock("DC-ATL", "A", 10, "a1")
    api.put("/v1/supply/TR-1", a_transfer(api, quantity=6))
    count = {
        "location_id": "DC-ATL",
        "as_of": api.clock.now().isoformat(),
        "items": [{"sku": "A", "on_hand": 4}],
    }
    assert api.post("/v1/inventory/snapshots", count).status_code == 200
    api.relay()
    doc = api.get("/v1/supply/TR-1").json()
    assert doc["status"] == "open"
    assert (doc["lines"][0]["quantity"], doc["lines"][0]["held_at_origin"]) == (4, 4)
    atl = position(api, "DC-ATL")
    assert (atl["on_hand"], atl["reserved"]) == (4, 4)
    assert ledger_reasons(api, "DC-ATL")[-1] == ("transfer_short", "supply:TR-1")
    still = api.get("/v1/supply?origin=DC-ATL&status=open").json()["items"]
    assert [x["id"] for x in still] == ["TR-1"]
    assert api.get("/v1/supply?origin=DC-RNO").json()["items"] == []
