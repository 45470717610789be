"""The flows a user runs over HTTP: place, fulfil, cancel, re-source, read the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import Api


def events(api: Api, order_id: str) -> list[str]:
    return [e["type"] for e in api.get(f"/v1/orders/{order_id}/events").json()]


def test_order_is_sourced_and_stock_reserved(api: Api) -> None:
    api.stock("DC-ATL", "A", 10, "a1")
    api.stock("DC-RNO", "A", 10, "a2")
    order = api.order("W-1", [("1", "A", 2)])
    assert order["status"] == "allocated"
    [f] = order["fulfilments"]
    assert (f["location_id"], f["status"]) == ("DC-ATL", "released")  # nearer of two DCs
    assert order["lines"][0] | {"allocated": 2, "backordered": 0} == order["lines"][0]
    assert api.position("DC-ATL", "A") | {"reserved": 2, "available": 8} == api.position(
        "DC-ATL", "A"
    )


def test_ship_flow_consumes_stock_and_order_follows(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    order = api.order("W-2", [("1", "A", 2)])
    fid = order["fulfilments"][0]["id"]
    assert api.act(fid, "accept")["status"] == "accepted"
    assert api.get(f"/v1/orders/{order['id']}").json()["status"] == "in_progress"
    assert api.act(fid, "pick", {"lines": [{"line_id": "1", "picked": 2}]})["status"] == "picked"
    shipped = api.act(fid, "ship", {"carrier": "ups", "tracking_number": "1Z999"})
    assert shipped["parcels"] == [{"carrier": "ups", "tracking_number": "1Z999"}]
    after = api.get(f"/v1/orders/{order['id']}").json()
    assert after["status"] == "shipped"
    assert after["lines"][0]["shipped"] == 2
    assert api.position("DC-ATL", "A") == {
        "location_id": "DC-ATL",
        "sku": "A",
        "on_hand": 3,
        "reserved": 0,
        "safety_stock": 0,
        "available": 3,
    }
    assert events(api, order["id"]) == [
        "order.received",
        "fulfilment.released",
        "order.allocated",
        "fulfilment.accepted",
        "order.in_progress",
        "fulfilment.picked",
        "fulfilment.shipped",
        "order.shipped",
    ]


def test_pickup_flow_ready_then_collected_completes_the_order(api: Api) -> None:
    api.stock("ST-NYC", "A", 3, "a1")
    api.stock("DC-ATL", "A", 50, "a2")
    order = api.order(
        "W-3", [("1", "A", 1)], method="pickup", address=None, pickup_location_id="ST-NYC"
    )
    [f] = order["fulfilments"]
    assert f["location_id"] == "ST-NYC"
    api.act(f["id"], "accept")
    api.act(f["id"], "pick")
    assert api.act(f["id"], "ready-for-pickup")["status"] == "ready_for_pickup"
    assert api.get(f"/v1/orders/{order['id']}").json()["status"] == "ready_for_pickup"
    api.act(f["id"], "collect")
    assert api.get(f"/v1/orders/{order['id']}").json()["status"] == "completed"
    assert api.position("ST-NYC", "A")["on_hand"] == 2
    assert "order.completed" in events(api, order["id"])


def test_whole_cancel_releases_reservations(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("DC-ATL", "B", 5, "b1")
    order = api.order("W-4", [("1", "A", 2), ("2", "B", 1)])
    r = api.post(f"/v1/orders/{order['id']}/cancel", {"reason": "customer"})
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    assert r.json()["fulfilments"][0]["status"] == "cancelled"
    assert api.position("DC-ATL", "A")["reserved"] == 0
    assert api.position("DC-ATL", "B")["reserved"] == 0
    assert "order.cancelled" in events(api, order["id"])


def test_partial_cancel_releases_only_those_units(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    order = api.order("W-5", [("1", "A", 3)])
    r = api.post(f"/v1/orders/{order['id']}/cancel", {"lines": [{"line_id": "1", "quantity": 1}]})
    line = r.json()["lines"][0]
    assert (line["allocated"], line["cancelled"], r.json()["status"]) == (2, 1, "allocated")
    assert api.position("DC-ATL", "A")["reserved"] == 2


def test_reject_resources_elsewhere_and_never_back(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    order = api.order("W-6", [("1", "A", 1)])
    first = order["fulfilments"][0]
    api.act(first["id"], "reject", {"reason": "damaged"})
    after = api.get(f"/v1/orders/{order['id']}").json()
    live = [f for f in after["fulfilments"] if f["status"] == "released"]
    assert [f["location_id"] for f in live] == ["DC-RNO"]
    assert api.position("DC-ATL", "A")["reserved"] == 0
    api.act(live[0]["id"], "reject", {"reason": "capacity"})
    final = api.get(f"/v1/orders/{order['id']}").json()
    assert final["status"] == "backordered"  # both DCs failed it; the paused store is out
    assert final["lines"][0]["backordered"] == 1
    # Nothing else can serve it: back-ordered, and a person is told.
    assert events(api, order["id"])[-2:] == ["order.backordered", "order.exception"]
    assert final["exception_id"] is not None


def test_short_pick_writes_off_and_resources_the_rest(api: Api) -> None:
    api.stock("DC-ATL", "A", 2, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    order = api.order("W-7", [("1", "A", 2)])
    fid = order["fulfilments"][0]["id"]
    api.act(fid, "accept")
    picked = api.act(fid, "pick", {"lines": [{"line_id": "1", "picked": 1}]})
    assert picked["lines"][0] | {"quantity": 1, "short": 1} == picked["lines"][0]
    assert api.position("DC-ATL", "A") | {"on_hand": 1, "reserved": 1} == api.position(
        "DC-ATL", "A"
    )
    after = api.get(f"/v1/orders/{order['id']}").json()
    rno = [f for f in after["fulfilments"] if f["location_id"] == "DC-RNO"]
    assert rno[0]["lines"][0]["quantity"] == 1
    assert "fulfilment.short_picked" in events(api, order["id"])
    assert "order.rerouted" in events(api, order["id"])


def test_backorder_is_sourced_when_stock_arrives(api: Api) -> None:
    api.stock("DC-ATL", "A", 1, "a1")
    older = api.order("W-8", [("1", "A", 2)])
    newer = api.order("W-9", [("1", "A", 1)])
    assert older["status"] == "partially_allocated"
    assert newer["status"] == "backordered"
    api.stock("DC-RNO", "A", 1, "a2")
    api.relay()
    assert api.get(f"/v1/orders/{older['id']}").json()["status"] == "allocated"  # oldest first
    assert api.get(f"/v1/orders/{newer['id']}").json()["status"] == "backordered"
    api.stock("DC-RNO", "A", 1, "a3")
    api.relay()
    assert api.get(f"/v1/orders/{newer['id']}").json()["status"] == "allocated"


def test_same_external_id_returns_the_existing_order(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    first = api.order("W-10", [("1", "A", 2)])
    body = {
        "external_id": "W-10",
        "channel": "web",
        "delivery": {"method": "ship", "address": {"postal_code": "10001", "country": "US"}},
        "lines": [{"line_id": "1", "sku": "A", "quantity": 2}],
    }
    again = api.post("/v1/orders", body)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert api.position("DC-ATL", "A")["reserved"] == 2


def test_idempotency_key_replays_and_refuses_a_different_body(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    body = {
        "external_id": "W-11",
        "channel": "web",
        "delivery": {"method": "ship", "address": {"postal_code": "10001", "country": "US"}},
        "lines": [{"line_id": "1", "sku": "A", "quantity": 1}],
    }
    key = {"Idempotency-Key": "k-11"}
    first = api.post("/v1/orders", body, headers=key)
    second = api.post("/v1/orders", body, headers=key)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    changed = api.post("/v1/orders", {**body, "external_id": "W-12"}, headers=key)
    assert changed.status_code == 422
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    assert api.position("DC-ATL", "A")["reserved"] == 1


def test_decisions_explain_every_stock_holding_location(api: Api) -> None:
    for n, loc in enumerate(("DC-ATL", "DC-RNO", "ST-NYC", "ST-BRK")):
        api.stock(loc, "A", 3, f"a{n}")
    order = api.order("W-13", [("1", "A", 1)])
    [decision] = api.get(f"/v1/orders/{order['id']}/decisions").json()
    explanation = decision["explanation"]
    by_location = {c["location_id"]: c for c in explanation["candidates"]}
    assert set(by_location) == {"DC-ATL", "DC-RNO", "ST-NYC", "ST-BRK"}
    assert by_location["ST-BRK"]["reason"] == "location_paused"
    chosen = explanation["plan"]["shipments"][0]["location_id"]
    assert by_location[chosen]["status"] == "chosen"
    assert all(
        c["status"] == "scored" and c["reason"] == "beaten"
        for loc, c in by_location.items()
        if loc not in {chosen, "ST-BRK"}
    )
    assert set(explanation["plan"]["shipments"][0]["cost_parts"]) == {
        "per_shipment",
        "handling",
        "per_unit",
        "distance",
    }
    assert explanation["policy"] == {"id": "default", "version": 1}
    assert explanation["runner_ups"]


def test_hold_keeps_an_order_out_of_sourcing_until_released(api: Api) -> None:
    order = api.order("W-14", [("1", "A", 1)])
    assert order["status"] == "backordered"
    held = api.post(f"/v1/orders/{order['id']}/hold", {"reason": "fraud review"}).json()
    assert held["status"] == "on_hold"
    api.stock("DC-ATL", "A", 2, "a1")
    api.relay()
    assert api.get(f"/v1/orders/{order['id']}").json()["status"] == "on_hold"
    released = api.post(f"/v1/orders/{order['id']}/release").json()
    assert released["status"] == "allocated"


def test_work_queue_lists_a_locations_released_fulfilments(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    placed = [api.order(f"W-2{n}", [("1", "A", 1)]) for n in range(3)]
    api.act(placed[0]["fulfilments"][0]["id"], "accept")
    queue = api.get("/v1/fulfilments", params={"location_id": "DC-ATL", "status": "released"})
    ids = [f["id"] for f in queue.json()["items"]]
    assert ids == [p["fulfilments"][0]["id"] for p in placed[1:]]
    assert all(f["delivery_method"] == "ship" for f in queue.json()["items"])


def test_orders_list_filters_and_pages(api: Api) -> None:
    api.stock("DC-ATL", "A", 10, "a1")
    for n in range(5):
        api.order(f"W-3{n}", [("1", "A", 1)])
    first = api.get("/v1/orders", params={"limit": 2, "status": "allocated"}).json()
    second = api.get("/v1/orders", params={"limit": 10, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 2
    assert len(second["items"]) == 3
    assert second["next_cursor"] is None
    one = api.get("/v1/orders", params={"external_id": "W-33"}).json()["items"]
    assert [o["external_id"] for o in one] == ["W-33"]


def snapshot(api: Api, hours_ago: float, on_hand: int) -> dict[str, Any]:
    as_of = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
    r = api.post(
        "/v1/inventory/snapshots",
        {"location_id": "DC-ATL", "as_of": as_of, "items": [{"sku": "A", "on_hand": on_hand}]},
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_snapshot_counts_reconcile_with_movements_after_as_of(api: Api) -> None:
    assert snapshot(api, hours_ago=3, on_hand=10)["positions"][0]["on_hand"] == 10
    order = api.order("W-40", [("1", "A", 2)])
    fid = order["fulfilments"][0]["id"]
    api.act(fid, "accept")
    api.act(fid, "ship", {"carrier": "ups"})
    # Counted 10 an hour ago, before the shipment of 2 was recorded: 8 are there now.
    assert snapshot(api, hours_ago=1, on_hand=10)["positions"][0]["on_hand"] == 8
    stale = snapshot(api, hours_ago=2, on_hand=50)
    assert stale["skipped"] == [{"sku": "A", "reason": "stale_snapshot"}]
    assert api.position("DC-ATL", "A")["on_hand"] == 8


def test_operations_endpoints(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    api.order("W-50", [("1", "A", 1)])
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").status_code == 200
    metrics = api.client.get("/metrics").text
    assert 'ordergrid_orders{status="allocated"} 1.0' in metrics
    assert 'ordergrid_sourcing_decisions_total{outcome="allocated"} 1.0' in metrics
    assert 'route="/v1/orders",status="201"' in metrics
    assert api.client.get("/openapi.json").json()["info"]["title"] == "ordergrid"
    assert api.client.get("/docs").status_code == 200


def test_money_is_a_json_number(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    order = api.order("W-60", [("1", "A", 1)])
    assert order["lines"][0]["unit_price"] == 10
    assert isinstance(order["lines"][0]["unit_price"], int | float)


def test_a_count_from_the_future_is_refused(api: Api) -> None:
    r = api.post(
        "/v1/inventory/snapshots",
        {
            "location_id": "DC-ATL",
            "as_of": "2099-01-01T00:00:00+00:00",
            "items": [{"sku": "A", "on_hand": 5}],
        },
    )
    assert r.status_code == 422
    assert (r.json()["error"]["code"], r.json()["error"]["details"]["field"]) == (
        "as_of_in_future",
        "as_of",
    )


def test_associates_see_only_orders_with_work_at_their_location(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("ST-NYC", "A", 5, "a2")
    at_dc = api.order("W-61", [("1", "A", 1)])
    at_store = api.order(
        "W-62", [("1", "A", 1)], method="pickup", address=None, pickup_location_id="ST-NYC"
    )
    token = api.post(
        "/v1/tokens", {"name": "clerk", "role": "associate", "locations": ["ST-NYC"]}
    ).json()["token"]
    clerk = {"Authorization": f"Bearer {token}"}
    assert api.client.get(f"/v1/orders/{at_store['id']}", headers=clerk).status_code == 200
    for path in ("", "/events", "/decisions"):
        r = api.client.get(f"/v1/orders/{at_dc['id']}{path}", headers=clerk)
        assert r.status_code == 403, path
    listed = api.client.get("/v1/orders", headers=clerk).json()["items"]
    assert [o["id"] for o in listed] == [at_store["id"]]
    assert api.client.get("/v1/orders?location_id=DC-ATL", headers=clerk).status_code == 403


def test_location_channels_limit_which_orders_it_serves(api: Api) -> None:
    r = api.put(
        "/v1/locations/ST-POS",
        {
            "name": "POS only",
            "type": "store",
            "capabilities": ["ship"],
            "channels": ["pos"],
            "address": {"country": "US", "lat": 40.75, "lon": -73.99},
        },
    )
    assert r.json()["channels"] == ["pos"]
    api.stock("ST-POS", "A", 5, "p1")
    api.stock("DC-RNO", "A", 5, "d1")
    order = api.order("CH-1", [("1", "A", 1)])  # web
    assert order["fulfilments"][0]["location_id"] == "DC-RNO"
