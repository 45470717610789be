"""A transfer over HTTP: created (units reserved at the origin), dispatched (off the
origin's shelf, in transit), received (on the destination's), with the ledger naming
the document at each step, and the errors of each endpoint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.conftest import Api


def a_transfer(api: Api, quantity: int = 4, **changes: Any) -> dict[str, Any]:
    assert api.clock is not None
    return {
        "kind": "transfer",
        "location_id": "ST-NYC",
        "origin": "DC-ATL",
        "expected_at": (api.clock.now() + timedelta(days=2)).isoformat(),
        "lines": [{"sku": "A", "quantity": quantity}],
        **changes,
    }


def position(api: Api, location_id: str) -> dict[str, Any]:
    r = api.get("/v1/inventory/A")
    assert r.status_code == 200, r.text
    found = [p for p in r.json()["positions"] if p["location_id"] == location_id]
    return found[0] if found else {"on_hand": 0, "reserved": 0, "available": 0}


def ledger_reasons(api: Api, location_id: str) -> list[tuple[str, str | None]]:
    r = api.get(f"/v1/inventory/A/ledger?location_id={location_id}")
    assert r.status_code == 200, r.text
    return [(e["reason"], e.get("ref")) for e in r.json()["items"]]


def test_a_transfer_from_creation_to_receipt(clocked_api: Api) -> None:
    api = clocked_api
    api.stock("DC-ATL", "A", 10, "a1")
    created = api.put("/v1/supply/TR-1", a_transfer(api))
    assert created.status_code == 201, created.text
    assert created.json()["lines"][0]["held_at_origin"] == 4
    assert position(api, "DC-ATL")["available"] == 6
    availability = api.get("/v1/availability?skus=A&channel=web").json()
    assert availability["items"][0]["available"] == 6

    sent = api.post("/v1/supply/TR-1/dispatch", {"carrier": "ups", "tracking_number": "1Z"})
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["status"] == "in_transit"
    assert body["lines"][0]["in_transit"] == 4
    assert body["lines"][0]["held_at_origin"] == 0
    assert (body["carrier"], body["tracking_number"]) == ("ups", "1Z")
    atl = position(api, "DC-ATL")
    assert (atl["on_hand"], atl["reserved"]) == (6, 0)

    got = api.post(
        "/v1/supply/TR-1/receipts", {"id": "R-1", "lines": [{"sku": "A", "quantity": 4}]}
    )
    assert got.status_code == 200, got.text
    assert got.json()["supply"]["lines"][0]["in_transit"] == 0
    assert position(api, "ST-NYC")["on_hand"] == 4
    assert ledger_reasons(api, "DC-ATL")[-2:] == [
        ("reservation", "supply:TR-1"),
        ("transfer_out", "supply:TR-1"),
    ]
    assert ledger_reasons(api, "ST-NYC")[-1] == ("receipt", "supply:TR-1")


def test_an_origin_short_of_units_is_a_conflict_naming_the_line(clocked_api: Api) -> None:
    api = clocked_api
    api.stock("DC-ATL", "A", 2, "a1")
    r = api.put("/v1/supply/TR-1", a_transfer(api, quantity=3))
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["field"] == "lines.0.quantity"
    assert error["details"]["lines"] == [{"sku": "A", "requested": 3, "available": 2}]


def test_a_transfer_needs_a_known_origin_other_than_its_destination(clocked_api: Api) -> None:
    api = clocked_api
    cases = [
        ({"origin": None}, "origin_required"),
        ({"origin": "NOWHERE"}, "unknown_origin"),
        ({"origin": "ST-NYC"}, "origin_is_destination"),
    ]
    for change, code in cases:
        r = api.put("/v1/supply/TR-1", a_transfer(api, **change))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == code
        assert r.json()["error"]["details"]["field"] == "origin"


def test_receiving_before_dispatch_and_dispatching_a_purchase_order_are_refused(
    clocked_api: Api,
) -> None:
    api = clocked_api
    api.stock("DC-ATL", "A", 10, "a1")
    api.put("/v1/supply/TR-1", a_transfer(api))
    early = api.post(
        "/v1/supply/TR-1/receipts", {"id": "R", "lines": [{"sku": "A", "quantity": 1}]}
    )
    assert early.status_code == 409, early.text
    assert early.json()["error"]["code"] == "transfer_not_dispatched"
    po = {**a_transfer(api), "kind": "purchase_order", "origin": "ACME"}
    assert api.put("/v1/supply/PO-1", po).status_code == 201
    r = api.post("/v1/supply/PO-1/dispatch")
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "not_a_transfer"
    assert api.post("/v1/supply/NOPE/dispatch").status_code == 404


def test_cancelling_before_dispatch_releases_the_origin(clocked_api: Api) -> None:
    api = clocked_api
    api.stock("DC-ATL", "A", 10, "a1")
    api.put("/v1/supply/TR-1", a_transfer(api))
    r = api.post("/v1/supply/TR-1/cancel", {"reason": "store closed"})
    assert r.status_code == 200, r.text
    assert position(api, "DC-ATL")["available"] == 10
    assert api.get("/v1/supply?status=in_transit").json()["items"] == []
