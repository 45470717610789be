"""A click & collect order at a store lacking a SKU, over HTTP: the units reserved at a
DC by a transfer created for the order, the ready-by date the promise quoted stored on
the order, the store's receipt letting the pick-up go ready and be collected; and the
DC rejecting the transfer, which sources it again elsewhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.e2e.conftest import Api

NYC = {"postal_code": "10001", "country": "US", "lat": 40.75, "lon": -73.99}


def stock_a_at_the_store_b_at_atlanta(api: Api) -> None:
    api.stock("ST-NYC", "A", 1, "a-store")
    api.stock("DC-ATL", "B", 5, "b-atl")


def pickup_order(api: Api) -> dict[str, Any]:
    body = {
        "external_id": "CC-1",
        "channel": "web",
        "delivery": {"method": "pickup", "pickup_location_id": "ST-NYC"},
        "lines": [
            {"line_id": "1", "sku": "A", "quantity": 1},
            {"line_id": "2", "sku": "B", "quantity": 2},
        ],
    }
    r = api.post("/v1/orders", body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def transfers_for(api: Api, order_id: str) -> list[dict[str, Any]]:
    items = api.get("/v1/supply?location_id=ST-NYC").json()["items"]
    return [x for x in items if x["order_id"] == order_id]


def position(api: Api, location_id: str, sku: str) -> dict[str, Any]:
    positions = api.get(f"/v1/inventory/{sku}").json()["positions"]
    return next(p for p in positions if p["location_id"] == location_id)


def test_a_pickup_order_waits_for_its_transfer_then_is_collected(clocked_api: Api) -> None:
    api = clocked_api
    stock_a_at_the_store_b_at_atlanta(api)
    quoted = api.post(
        "/v1/promise",
        {
            "channel": "web",
            "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}],
            "destination": NYC,
        },
    ).json()
    option = next(p for p in quoted["pickup"] if p["method"] == "pickup")
    assert option["mode"] == "after_transfer"
    order = pickup_order(api)
    [transfer] = transfers_for(api, order["id"])
    assert (transfer["origin"], transfer["status"]) == ("DC-ATL", "open")
    assert transfer["lines"][0]["held_at_origin"] == 2
    assert position(api, "DC-ATL", "B")["reserved"] == 2
    ready_by = datetime.fromisoformat(order["delivery"]["ready_by"])
    assert ready_by == datetime.fromisoformat(option["ready_by"])
    assert order["pegs"][0]["supply_id"] == transfer["id"]

    [at_store] = order["fulfilments"]
    api.act(at_store["id"], "accept")
    api.act(at_store["id"], "pick", {"lines": [{"line_id": "1", "picked": 1}]})
    early = api.post(f"/v1/fulfilments/{at_store['id']}/ready-for-pickup")
    assert early.status_code == 409, early.text
    assert early.json()["error"]["code"] == "awaiting_transfer"

    assert api.post(f"/v1/supply/{transfer['id']}/dispatch").status_code == 200
    got = api.post(
        f"/v1/supply/{transfer['id']}/receipts",
        {"id": "R-1", "lines": [{"sku": "B", "quantity": 2}]},
    )
    assert got.status_code == 200, got.text
    assert got.json()["served"] == [
        {"order_id": order["id"], "line_id": "2", "sku": "B", "quantity": 2}
    ]
    order = api.get(f"/v1/orders/{order['id']}").json()
    for f in order["fulfilments"]:
        if f["status"] == "released":
            api.act(f["id"], "accept")
            picked = [{"line_id": x["line_id"], "picked": x["quantity"]} for x in f["lines"]]
            api.act(f["id"], "pick", {"lines": picked})
        api.act(f["id"], "ready-for-pickup")
    order = api.get(f"/v1/orders/{order['id']}").json()
    assert order["status"] == "ready_for_pickup"
    for f in order["fulfilments"]:
        api.act(f["id"], "collect")
    order = api.get(f"/v1/orders/{order['id']}").json()
    assert order["status"] == "completed"
    assert [x["shipped"] for x in order["lines"]] == [1, 2]


def test_a_rejected_transfer_is_sourced_again_from_another_dc(clocked_api: Api) -> None:
    api = clocked_api
    stock_a_at_the_store_b_at_atlanta(api)
    order = pickup_order(api)
    api.stock("DC-RNO", "B", 5, "b-rno")
    [first] = transfers_for(api, order["id"])
    r = api.post(f"/v1/supply/{first['id']}/reject", {"reason": "no_stock"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert position(api, "DC-ATL", "B")["reserved"] == 0
    again = [x for x in transfers_for(api, order["id"]) if x["status"] == "open"]
    assert [x["origin"] for x in again] == ["DC-RNO"]
    assert position(api, "DC-RNO", "B")["reserved"] == 2
    events = [e["type"] for e in api.get(f"/v1/orders/{order['id']}/events").json()]
    assert events.count("order.transfer_requested") == 2
    dispatched = api.post(f"/v1/supply/{again[0]['id']}/dispatch")
    assert dispatched.status_code == 200
    late = api.post(f"/v1/supply/{again[0]['id']}/reject", {"reason": "other"})
    assert late.status_code == 409, late.text


def test_one_switch_turns_transfers_off_for_quotes_and_orders(clocked_api: Api) -> None:
    api = clocked_api
    stock_a_at_the_store_b_at_atlanta(api)
    doc = {
        "name": "pickup",
        "selector": {"delivery_methods": ["pickup", "curbside"]},
        "promise": {"pickup_transfers": False},
    }
    assert api.put("/v1/policies/pickup", doc).status_code in (200, 201)
    assert api.post("/v1/policies/pickup/activate", {}).status_code == 200
    quoted = api.post(
        "/v1/promise",
        {
            "channel": "web",
            "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}],
            "destination": NYC,
        },
    ).json()
    option = next(p for p in quoted["pickup"] if p["method"] == "pickup")
    assert (option["available"], option["reason"]) == (False, "insufficient_stock")
    order = pickup_order(api)
    assert transfers_for(api, order["id"]) == []
    assert order["lines"][1]["backordered"] == 2
    assert "ready_by" not in order["delivery"]
