"""Future supply over HTTP: documents, receipts, cancellation, pegged orders and the
errors of each endpoint."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.e2e.conftest import Api
from tests.e2e.helpers_errors import assert_error

FUTURE_POLICY = {"name": "web future", "future_supply": {"allow": True, "max_days": 21}}


def when(api: Api, days: float) -> str:
    assert api.clock is not None
    return (api.clock.now() + timedelta(days=days)).isoformat()


def a_document(api: Api, days: float = 5, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "purchase_order",
        "location_id": "DC-ATL",
        "expected_at": when(api, days),
        "origin": "ACME Textiles",
        "reference": "PO-2026-0042",
        "lines": [{"sku": "A", "quantity": 10}, {"sku": "B", "quantity": 4}],
        **changes,
    }


def allow_future_supply(api: Api) -> None:
    r = api.put("/v1/policies/web", FUTURE_POLICY)
    assert r.status_code in (200, 201), r.text
    r = api.post("/v1/policies/web/activate")
    assert r.status_code == 200, r.text


def receive(api: Api, supply_id: str, receipt_id: str, **lines: int) -> dict[str, Any]:
    r = api.post(
        f"/v1/supply/{supply_id}/receipts",
        {"id": receipt_id, "lines": [{"sku": k, "quantity": v} for k, v in lines.items()]},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_put_creates_then_replaces_and_get_reads_it(clocked_api: Api) -> None:
    api = clocked_api
    created = api.put("/v1/supply/PO-1", a_document(api))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "open"
    assert body["lines"][0] == {
        "sku": "A",
        "quantity": 10,
        "received": 0,
        "pegged": 0,
        "open": 10,
        "held_at_origin": 0,
        "in_transit": 0,
    }
    assert body["origin"] == "ACME Textiles"
    replaced = api.put("/v1/supply/PO-1", a_document(api, days=7, kind="asn"))
    assert replaced.status_code == 200, replaced.text
    got = api.get("/v1/supply/PO-1").json()
    assert got["kind"] == "asn"
    assert datetime.fromisoformat(got["expected_at"]) == datetime.fromisoformat(when(api, 7))


def test_list_filters_and_pages(clocked_api: Api) -> None:
    api = clocked_api
    api.put("/v1/supply/PO-1", a_document(api, days=2))
    api.put("/v1/supply/PO-2", a_document(api, days=9, location_id="DC-RNO"))
    api.stock("DC-RNO", "B", 1, "b-rno")
    transfer = a_document(
        api, days=4, kind="transfer", origin="DC-RNO", lines=[{"sku": "B", "quantity": 1}]
    )
    assert api.put("/v1/supply/TR-1", transfer).status_code == 201
    first = api.get("/v1/supply?limit=2").json()
    assert [x["id"] for x in first["items"]] == ["PO-1", "PO-2"]
    rest = api.get(f"/v1/supply?limit=2&cursor={first['next_cursor']}").json()
    assert [x["id"] for x in rest["items"]] == ["TR-1"]
    assert rest["next_cursor"] is None

    def ids(**params: str) -> list[str]:
        r = api.client.get(
            "/v1/supply", params=params, headers={"Authorization": "Bearer admin-secret"}
        )
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert ids(location_id="DC-RNO") == ["PO-2"]
    assert ids(sku="A") == ["PO-1", "PO-2"]
    assert ids(status="open") == ["PO-1", "PO-2", "TR-1"]
    assert ids(status="cancelled") == []
    assert ids(expected_after=when(api, 3), expected_before=when(api, 5)) == ["TR-1"]


def test_a_pre_order_is_pegged_and_allocated_when_the_supply_arrives(clocked_api: Api) -> None:
    api = clocked_api
    allow_future_supply(api)
    api.put("/v1/supply/PO-1", a_document(api))
    order = api.order("PRE-1", [("1", "A", 3)])
    assert order["status"] == "backordered"
    assert order["lines"][0]["backordered"] == 3
    assert [p["supply_id"] for p in order["pegs"]] == ["PO-1"]  # known at once
    shown = api.get(f"/v1/orders/{order['id']}").json()
    [peg] = shown["pegs"]
    assert (peg["supply_id"], peg["line_id"], peg["quantity"], peg["location_id"]) == (
        "PO-1",
        "1",
        3,
        "DC-ATL",
    )
    assert datetime.fromisoformat(peg["expected_at"]) == datetime.fromisoformat(when(api, 5))
    document = api.get("/v1/supply/PO-1").json()
    assert document["lines"][0]["pegged"] == 3
    assert document["pegs"][0]["order_id"] == order["id"]

    receipt = receive(api, "PO-1", "RCV-1", A=10, B=4)
    assert receipt["replayed"] is False
    assert receipt["served"] == [
        {"order_id": order["id"], "line_id": "1", "sku": "A", "quantity": 3}
    ]
    assert receipt["supply"]["status"] == "received"
    allocated = api.get(f"/v1/orders/{order['id']}").json()
    assert allocated["status"] == "allocated"
    assert allocated["pegs"] == []
    assert [f["location_id"] for f in allocated["fulfilments"]] == ["DC-ATL"]
    assert api.position("DC-ATL", "A")["reserved"] == 3
    timeline = [e["type"] for e in api.get(f"/v1/orders/{order['id']}/events").json()]
    assert timeline.index("order.pegged") < timeline.index("fulfilment.released")
    ledger = api.get("/v1/inventory/A/ledger?location_id=DC-ATL").json()["items"]
    assert [(e["reason"], e["ref"]) for e in ledger][:1] == [("receipt", "supply:PO-1")]


def test_a_receipt_applies_once_per_receipt_id(clocked_api: Api) -> None:
    api = clocked_api
    api.put("/v1/supply/PO-1", a_document(api))
    receive(api, "PO-1", "RCV-1", A=4)
    again = receive(api, "PO-1", "RCV-1", A=4)
    assert again["replayed"] is True
    assert again["supply"]["lines"][0]["received"] == 4
    assert again["supply"]["status"] == "partially_received"
    assert api.position("DC-ATL", "A")["on_hand"] == 4


def test_cancel_releases_pegs_and_the_order_waits_again(clocked_api: Api) -> None:
    api = clocked_api
    allow_future_supply(api)
    api.put("/v1/supply/PO-1", a_document(api))
    order = api.order("PRE-2", [("1", "A", 2)])
    r = api.post("/v1/supply/PO-1/cancel", {"reason": "supplier cannot deliver"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert r.json()["pegs"] == []
    shown = api.get(f"/v1/orders/{order['id']}").json()
    assert (shown["status"], shown["pegs"]) == ("backordered", [])
    timeline = [e["type"] for e in api.get(f"/v1/orders/{order['id']}/events").json()]
    assert "order.unpegged" in timeline


def test_the_policy_document_validates_future_supply(clocked_api: Api) -> None:
    api = clocked_api
    bad = {"name": "bad", "future_supply": {"allow": True, "max_days": -1}}
    assert_error(
        api.put("/v1/policies/bad", bad), 422, "validation_error", "future_supply.max_days"
    )
    extra = {"name": "bad", "future_supply": {"allow": True, "horizon": 3}}
    assert_error(
        api.put("/v1/policies/bad", extra), 422, "validation_error", "future_supply.horizon"
    )
    good = api.put("/v1/policies/ok", FUTURE_POLICY)
    assert good.status_code == 201, good.text
    stored = api.get("/v1/policies/ok").json()
    assert stored["versions"][-1]["document"]["future_supply"] == {"allow": True, "max_days": 21}


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"location_id": "NOWHERE"}, "unknown_location", "location_id"),
        ({"lines": [{"sku": "ZZZ", "quantity": 1}]}, "unknown_sku", "lines.0.sku"),
        (
            {"lines": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}]},
            "duplicate_sku",
            "lines.1.sku",
        ),
        ({"lines": [{"sku": "A", "quantity": 0}]}, "validation_error", "lines.0.quantity"),
        ({"lines": []}, "validation_error", "lines"),
        ({"kind": "gift"}, "validation_error", "kind"),
        ({"expected_at": "2026-03-05T10:00:00"}, "validation_error", "expected_at"),
        ({"colour": "red"}, "validation_error", "colour"),
    ],
)
def test_bad_documents_are_refused_naming_the_field(
    clocked_api: Api, changes: dict[str, Any], code: str, field: str
) -> None:
    api = clocked_api
    assert_error(api.put("/v1/supply/PO-1", a_document(api, **changes)), 422, code, field)
    assert api.get("/v1/supply/PO-1").status_code == 404


def test_a_received_document_cannot_be_replaced_or_cancelled(clocked_api: Api) -> None:
    api = clocked_api
    api.put("/v1/supply/PO-1", a_document(api))
    receive(api, "PO-1", "RCV-1", A=10, B=4)
    # The same body again is a harmless repeat; a different one is refused.
    assert api.put("/v1/supply/PO-1", a_document(api)).status_code == 200
    changed = a_document(api, days=6)
    assert_error(api.put("/v1/supply/PO-1", changed), 409, "supply_not_replaceable")
    assert_error(api.post("/v1/supply/PO-1/cancel"), 409, "invalid_transition")
    again = api.post(
        "/v1/supply/PO-1/receipts", {"id": "RCV-2", "lines": [{"sku": "A", "quantity": 1}]}
    )
    assert_error(again, 409, "invalid_transition")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"id": "R1", "lines": [{"sku": "A", "quantity": 11}]},
            422,
            "over_receipt",
            "lines.0.quantity",
        ),
        (
            {"id": "R1", "lines": [{"sku": "C", "quantity": 1}]},
            422,
            "sku_not_on_supply",
            "lines.0.sku",
        ),
        (
            {"id": "R1", "lines": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}]},
            422,
            "duplicate_sku",
            "lines.1.sku",
        ),
        (
            {"id": "R1", "lines": [{"sku": "A", "quantity": -1}]},
            422,
            "validation_error",
            "lines.0.quantity",
        ),
        ({"lines": [{"sku": "A", "quantity": 1}]}, 422, "validation_error", "id"),
        ({"id": "R1", "lines": []}, 422, "validation_error", "lines"),
    ],
)
def test_bad_receipts_are_refused_naming_the_field(
    clocked_api: Api, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    api = clocked_api
    api.put("/v1/supply/PO-1", a_document(api))
    assert_error(api.post("/v1/supply/PO-1/receipts", body), status, code, field)
    assert api.get("/v1/supply/PO-1").json()["lines"][0]["received"] == 0


def test_a_receipt_id_reused_for_another_document_is_a_conflict(clocked_api: Api) -> None:
    api = clocked_api
    api.put("/v1/supply/PO-1", a_document(api))
    api.put("/v1/supply/PO-2", a_document(api))
    receive(api, "PO-1", "RCV-1", A=1)
    r = api.post(
        "/v1/supply/PO-2/receipts", {"id": "RCV-1", "lines": [{"sku": "A", "quantity": 1}]}
    )
    assert_error(r, 409, "receipt_id_reused", "id")


def test_unknown_documents_are_not_found(clocked_api: Api) -> None:
    api = clocked_api
    assert_error(api.get("/v1/supply/NOPE"), 404, "supply_not_found")
    assert_error(api.post("/v1/supply/NOPE/cancel"), 404, "supply_not_found")
    receipt = {"id": "R1", "lines": [{"sku": "A", "quantity": 1}]}
    assert_error(api.post("/v1/supply/NOPE/receipts", receipt), 404, "supply_not_found")


def test_supply_needs_a_token_with_the_inventory_right(clocked_api: Api) -> None:
    api = clocked_api
    r = api.client.put("/v1/supply/PO-1", json=a_document(api))
    assert r.status_code == 401
    viewer = api.post("/v1/tokens", {"name": "viewer", "role": "viewer"}).json()["token"]
    headers = {"Authorization": f"Bearer {viewer}"}
    assert (
        api.client.put("/v1/supply/PO-1", json=a_document(api), headers=headers).status_code == 403
    )
    assert api.client.get("/v1/supply", headers=headers).status_code == 200


def test_projection_shows_available_units_by_date(clocked_api: Api) -> None:
    api = clocked_api
    allow_future_supply(api)
    api.stock("DC-ATL", "A", 2, "adj-1")
    api.put("/v1/supply/PO-1", a_document(api, days=3))
    api.put("/v1/supply/PO-2", a_document(api, days=8, lines=[{"sku": "A", "quantity": 5}]))
    api.order("PRE-3", [("1", "A", 4)])  # 2 from stock, 2 pegged to PO-1
    body = api.get("/v1/supply/projection?location_id=DC-ATL&sku=A").json()
    assert [s["available"] for s in body["steps"]] == [0, 8, 13]
    assert body["steps"][0]["at"] is None


def test_projection_of_an_unknown_location_or_sku_is_refused(clocked_api: Api) -> None:
    api = clocked_api
    r = api.get("/v1/supply/projection?location_id=NOWHERE&sku=A")
    assert_error(r, 422, "unknown_location", "location_id")
    assert_error(
        api.get("/v1/supply/projection?location_id=DC-ATL&sku=ZZ"), 422, "unknown_sku", "sku"
    )
    assert_error(
        api.get("/v1/supply/projection?sku=A"), 422, "validation_error", "query.location_id"
    )


def test_the_worker_offers_the_rest_of_a_receipt_to_other_back_orders(clocked_api: Api) -> None:
    api = clocked_api
    api.put("/v1/supply/PO-1", a_document(api))
    waiting = api.order("WAIT-1", [("1", "A", 4)])  # no policy lets it wait for supply
    assert waiting["status"] == "backordered"
    assert waiting["pegs"] == []
    receive(api, "PO-1", "RCV-1", A=10)
    api.relay()  # the receipt's inventory.changed, as the worker reads it
    served = api.get(f"/v1/orders/{waiting['id']}").json()
    assert served["status"] == "allocated"
    assert [f["location_id"] for f in served["fulfilments"]] == ["DC-ATL"]
