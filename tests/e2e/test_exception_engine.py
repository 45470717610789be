"""The exception engine over HTTP: every trigger and every action, as a client sees it.

Failures are recorded by the request; the worker (`api.relay()`, run by `api.act`) does
the re-sourcing right after, as it does in a running server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from tests.e2e.conftest import NEW_YORK, Api

from ordergrid.adapters.db import tables as t


def events(api: Api, order_id: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = api.get(f"/v1/orders/{order_id}/events").json()
    return result


def types(api: Api, order_id: str) -> list[str]:
    return [e["type"] for e in events(api, order_id)]


def read(api: Api, order_id: str) -> dict[str, Any]:
    result: dict[str, Any] = api.get(f"/v1/orders/{order_id}").json()
    return result


def live(order: dict[str, Any]) -> list[dict[str, Any]]:
    done = {"rejected", "expired", "cancelled", "shipped", "collected"}
    return [f for f in order["fulfilments"] if f["status"] not in done]


def where(order: dict[str, Any]) -> list[str]:
    return [f["location_id"] for f in live(order)]


def set_lifecycle(api: Api, **lifecycle: Any) -> None:
    body = {"name": "default", "lifecycle": lifecycle}
    r = api.client.put("/v1/policies/default?activate=true", json=body, headers=_admin())
    assert r.status_code == 201, r.text


def _admin() -> dict[str, str]:
    return {"Authorization": "Bearer admin-secret"}


def place(api: Api, external_id: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "channel": "web",
        "delivery": {"method": "ship", "address": NEW_YORK},
        "lines": [{"line_id": "1", "sku": "A", "quantity": quantity, "unit_price": 10}],
        **extra,
    }
    r = api.post("/v1/orders", body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def pickup(api: Api, external_id: str, store: str = "ST-NYC", **extra: Any) -> dict[str, Any]:
    return place(
        api,
        external_id,
        delivery={"method": "pickup", "pickup_location_id": store},
        **extra,
    )


def open_cases(api: Api, **params: Any) -> list[dict[str, Any]]:
    r = api.get("/v1/exceptions", params={"status": "open", **params})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def activate_brooklyn(api: Api) -> None:
    body = {
        "name": "ST-BRK",
        "type": "store",
        "capabilities": ["ship", "pickup"],
        "address": {"country": "US", "lat": 40.68, "lon": -73.97},
        "handling_cost": 3.0,
    }
    assert api.put("/v1/locations/ST-BRK", body).status_code == 200


# --- rejection, short pick, cancellation by the location ------------------------------------


def test_rejection_resources_to_a_new_location_never_the_same_one(api: Api) -> None:
    for n, loc in enumerate(("DC-ATL", "DC-RNO", "ST-NYC")):
        api.stock(loc, "A", 5, f"a{n}")
    order = place(api, "R-1")
    first = live(order)[0]
    api.act(first["id"], "reject", {"reason": "damaged"})
    second = live(read(api, order["id"]))
    assert len(second) == 1
    assert second[0]["location_id"] != first["location_id"]
    api.act(second[0]["id"], "reject", {"reason": "capacity"})
    third = where(read(api, order["id"]))
    assert len(third) == 1
    assert third[0] not in {first["location_id"], second[0]["location_id"]}
    timeline = events(api, order["id"])
    rejected = next(e for e in timeline if e["type"] == "fulfilment.rejected")
    assert (rejected["actor"], rejected["data"]["reason"]) == ("admin", "damaged")
    rerouted = [e for e in timeline if e["type"] == "order.rerouted"]
    assert [(e["actor"], e["data"]["trigger"]) for e in rerouted] == [
        ("system", "damaged"),
        ("system", "capacity"),
    ]
    ends = {"fulfilment.released", "order.backordered", "order.exception"}
    assert [e["type"] for e in timeline if e["type"] in ends][-1] == "fulfilment.released"
    triggers = [
        d["explanation"]["trigger"] for d in api.get(f"/v1/orders/{order['id']}/decisions").json()
    ]
    assert triggers == ["order_placed", "damaged", "capacity"]


def test_no_stock_rejection_zeroes_the_count_there_and_the_ledger_says_why(api: Api) -> None:
    api.stock("DC-ATL", "A", 6, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    keeps = place(api, "NS-1")
    fails = place(api, "NS-2", 2)
    assert where(keeps) == where(fails) == ["DC-ATL"]
    api.act(live(fails)[0]["id"], "reject", {"reason": "no_stock"})
    # What Atlanta still holds for the other order is all it has; nothing more is promised.
    assert api.position("DC-ATL", "A") | {"on_hand": 1, "reserved": 1, "available": 0} == (
        api.position("DC-ATL", "A")
    )
    assert where(read(api, fails["id"])) == ["DC-RNO"]
    with api.app.engine.connect() as conn:
        row = conn.execute(select(t.ledger).where(t.ledger.c.reason == "stock_correction")).one()
    assert (row.location_id, row.on_hand_delta, row.on_hand_after) == ("DC-ATL", -5, 1)
    assert row.details == {"why": "no_stock", "order_id": fails["id"]}


def test_short_pick_corrects_stock_and_resources_the_remainder(api: Api) -> None:
    api.stock("DC-ATL", "A", 9, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    order = place(api, "SP-1", 3)
    fid = live(order)[0]["id"]
    api.act(fid, "accept")
    api.act(fid, "pick", {"lines": [{"line_id": "1", "picked": 1}]})
    # Two written off by the pick, the rest of the count corrected: only the picked unit.
    assert api.position("DC-ATL", "A") | {"on_hand": 1, "reserved": 1, "available": 0} == (
        api.position("DC-ATL", "A")
    )
    after = read(api, order["id"])
    assert sorted(where(after)) == ["DC-ATL", "DC-RNO"]
    rno = next(f for f in live(after) if f["location_id"] == "DC-RNO")
    assert rno["lines"][0]["quantity"] == 2
    assert "fulfilment.short_picked" in types(api, order["id"])


def test_cancellation_by_the_location_resources_elsewhere(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    order = place(api, "CL-1")
    api.act(live(order)[0]["id"], "cancel", {"reason": "flooded"})
    after = read(api, order["id"])
    assert where(after) == ["DC-RNO"]
    assert (
        after["fulfilments"][0] | {"status": "cancelled", "reason": "flooded"}
        == (after["fulfilments"][0])
    )


# --- deadlines ---------------------------------------------------------------------------------


def test_acceptance_deadline_expires_and_the_units_move(clocked_api: Api) -> None:
    api = clocked_api
    assert api.clock is not None
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    order = place(api, "EX-1")
    api.clock.advance(timedelta(hours=3, minutes=59))
    api.relay()
    assert where(read(api, order["id"])) == ["DC-ATL"]  # not yet
    api.clock.advance(timedelta(minutes=2))
    api.relay()
    after = read(api, order["id"])
    assert after["fulfilments"][0]["status"] == "expired"
    assert where(after) == ["DC-RNO"]
    expired = next(e for e in events(api, order["id"]) if e["type"] == "fulfilment.expired")
    assert (expired["actor"], expired["data"]["reason"]) == ("system", "acceptance_expired")


def test_deadlines_per_location_type_and_pick_deadline(clocked_api: Api) -> None:
    api = clocked_api
    assert api.clock is not None
    set_lifecycle(api, deadlines={"dc": {"accept_minutes": 30, "pick_minutes": 60}})
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    order = place(api, "EX-2")
    api.act(live(order)[0]["id"], "accept")
    api.clock.advance(timedelta(minutes=45))  # past acceptance, but it was accepted
    api.relay()
    assert live(read(api, order["id"]))[0]["status"] == "accepted"
    api.clock.advance(timedelta(minutes=20))  # 65 minutes after acceptance: pick missed
    api.relay()
    after = read(api, order["id"])
    assert (
        after["fulfilments"][0] | {"status": "expired", "reason": "pick_expired"}
        == (after["fulfilments"][0])
    )
    assert where(after) == ["DC-RNO"]


def test_uncollected_pickup_is_cancelled_and_stock_returned(clocked_api: Api) -> None:
    api = clocked_api
    assert api.clock is not None
    api.stock("ST-NYC", "A", 3, "a1")
    order = pickup(api, "PU-1")
    fid = live(order)[0]["id"]
    api.act(fid, "accept")
    api.act(fid, "ready-for-pickup")
    api.clock.advance(timedelta(days=3, minutes=1))
    api.relay()
    after = read(api, order["id"])
    assert after["status"] == "cancelled"
    assert (
        after["fulfilments"][0] | {"status": "cancelled", "reason": "not_collected"}
        == (after["fulfilments"][0])
    )
    assert api.position("ST-NYC", "A") | {"on_hand": 3, "reserved": 0} == api.position(
        "ST-NYC", "A"
    )
    assert "fulfilment.uncollected" in types(api, order["id"])


# --- the network and stock feeds -------------------------------------------------------------


def test_paused_location_gives_up_its_unpicked_work(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    started = place(api, "PA-1")
    waiting = place(api, "PA-2")
    fid = live(started)[0]["id"]
    api.act(fid, "accept")
    api.act(fid, "pick")
    body = {
        "name": "DC-ATL",
        "type": "dc",
        "capabilities": ["ship"],
        "address": {"country": "US", "lat": 33.75, "lon": -84.39},
        "status": "paused",
    }
    assert api.put("/v1/locations/DC-ATL", body).status_code == 200
    api.relay()
    assert where(read(api, started["id"])) == ["DC-ATL"]  # picked: on its way, stays
    moved = read(api, waiting["id"])
    assert where(moved) == ["DC-RNO"]
    assert moved["fulfilments"][0]["reason"] == "location_paused"


def test_stock_feed_below_reservations_reallocates_the_newest_work(api: Api) -> None:
    api.stock("DC-ATL", "A", 3, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    older = place(api, "SD-1", 2)
    newer = place(api, "SD-2", 1)
    r = api.post(
        "/v1/inventory/adjustments",
        {
            "adjustments": [
                {
                    "id": "loss",
                    "location_id": "DC-ATL",
                    "sku": "A",
                    "delta": -2,
                    "reason": "damaged",
                }
            ]
        },
    )
    assert r.status_code == 200, r.text
    api.relay()
    assert where(read(api, newer["id"])) == ["DC-RNO"]
    split = read(api, older["id"])
    assert sorted(where(split)) == ["DC-ATL", "DC-RNO"]  # one unit each
    assert api.position("DC-ATL", "A") | {"on_hand": 1, "reserved": 1} == api.position(
        "DC-ATL", "A"
    )
    assert "fulfilment.reduced" in types(api, newer["id"])


# --- back-orders, attempts and the exception queue ------------------------------------------------


def test_backorder_then_stock_arrives_closes_the_case(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    order = place(api, "BO-1")
    api.act(live(order)[0]["id"], "reject", {"reason": "capacity"})
    waiting = read(api, order["id"])
    assert waiting["status"] == "backordered"
    [case] = open_cases(api, order_id=order["id"])
    assert case["reason"] == "no_location_can_serve"
    assert case["locations"] == ["DC-ATL"]
    api.stock("DC-RNO", "A", 1, "a2")
    api.relay()
    placed = read(api, order["id"])
    assert (placed["status"], where(placed), placed["exception_id"]) == (
        "allocated",
        ["DC-RNO"],
        None,
    )
    closed = api.get(f"/v1/exceptions/{case['id']}").json()
    assert (closed["status"], closed["resolution"]) == ("resolved", "placed")
    assert "order.exception_resolved" in types(api, order["id"])


def test_every_location_rejects_then_a_person_reroutes(api: Api) -> None:
    for n, loc in enumerate(("DC-ATL", "DC-RNO", "ST-NYC")):
        api.stock(loc, "A", 5, f"a{n}")
    order = place(api, "AL-1")
    for _ in range(3):
        api.act(live(read(api, order["id"]))[0]["id"], "reject", {"reason": "other"})
    stuck = read(api, order["id"])
    assert stuck["status"] == "backordered"
    [case] = open_cases(api)
    assert case["order_id"] == order["id"]
    assert sorted(case["locations"]) == ["DC-ATL", "DC-RNO", "ST-NYC"]
    assert [h["what"] for h in case["history"]] == ["opened"]
    assert "order.exception" in types(api, order["id"])
    # A location that failed the order is refused; so is one that does not exist.
    r = api.post(f"/v1/exceptions/{case['id']}/reroute", {"location_id": "DC-ATL"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "location_excluded")
    r = api.post(f"/v1/exceptions/{case['id']}/reroute", {"location_id": "NOPE"})
    assert (r.status_code, r.json()["error"]["details"]["field"]) == (422, "location_id")
    activate_brooklyn(api)
    r = api.post(f"/v1/exceptions/{case['id']}/reroute", {"location_id": "ST-BRK"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "reroute_not_possible")
    api.stock("ST-BRK", "A", 2, "a9")
    r = api.post(f"/v1/exceptions/{case['id']}/reroute", {"location_id": "ST-BRK"})
    assert r.status_code == 200, r.text
    assert (
        r.json()["exception"] | {"status": "resolved", "resolution": "rerouted"}
        == (r.json()["exception"])
    )
    assert where(r.json()["order"]) == ["ST-BRK"]
    assert api.position("ST-BRK", "A")["reserved"] == 1
    r = api.post(f"/v1/exceptions/{case['id']}/retry")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "exception_resolved")


def test_attempt_limit_holds_the_order_and_retry_places_it(api: Api) -> None:
    set_lifecycle(api, max_attempts=1)
    for n, loc in enumerate(("DC-ATL", "DC-RNO", "ST-NYC")):
        api.stock(loc, "A", 5, f"a{n}")
    order = place(api, "AT-1")
    api.act(live(order)[0]["id"], "reject", {"reason": "other"})
    api.act(live(read(api, order["id"]))[0]["id"], "reject", {"reason": "other"})
    held = read(api, order["id"])
    assert (held["status"], held["on_hold"], where(held)) == ("on_hold", True, [])
    assert held["lines"][0]["backordered"] == 1
    [case] = open_cases(api, reason="attempts_exhausted")
    r = api.post(f"/v1/exceptions/{case['id']}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["exception"]["resolution"] == "retried"
    assert (r.json()["order"]["status"], where(r.json()["order"])) == ("allocated", ["ST-NYC"])


def test_hold_action_and_cancel_from_the_queue(api: Api) -> None:
    set_lifecycle(api, actions={"damaged": "hold"})
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("DC-RNO", "A", 5, "a2")
    order = place(api, "HO-1")
    api.act(live(order)[0]["id"], "reject", {"reason": "damaged"})
    held = read(api, order["id"])
    assert (held["status"], where(held)) == ("on_hold", [])
    [case] = open_cases(api, reason="damaged")
    r = api.post(f"/v1/exceptions/{case['id']}/cancel", {"reason": "customer called"})
    assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "cancelled"
    assert r.json()["exception"]["resolution"] == "cancelled"
    assert api.position("DC-RNO", "A")["reserved"] == 0


def test_queue_filters_and_pages(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    orders = [place(api, f"PG-{n}") for n in range(3)]
    for o in orders:
        api.act(live(o)[0]["id"], "reject", {"reason": "other"})
    first = api.get("/v1/exceptions", params={"limit": 2}).json()
    assert len(first["items"]) == 2
    rest = api.get("/v1/exceptions", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert (len(rest["items"]), rest["next_cursor"]) == (1, None)
    seen = {c["order_id"] for c in first["items"] + rest["items"]}
    assert seen == {o["id"] for o in orders}
    assert open_cases(api, reason="attempts_exhausted") == []
    assert api.get("/v1/exceptions", params={"status": "stuck"}).status_code == 422
    assert api.get("/v1/exceptions/nope").status_code == 404


# --- click & collect ---------------------------------------------------------------------------


def test_pickup_store_rejects_and_the_default_cancels_with_notice(api: Api) -> None:
    api.stock("ST-NYC", "A", 5, "a1")
    api.stock("DC-ATL", "A", 5, "a2")
    order = pickup(api, "CC-1")
    api.act(live(order)[0]["id"], "reject", {"reason": "damaged"})
    after = read(api, order["id"])
    assert (after["status"], after["delivery"]["pickup_location_id"]) == ("cancelled", "ST-NYC")
    failed = next(e for e in events(api, order["id"]) if e["type"] == "order.pickup_failed")
    assert failed["data"] | {"choice": "cancel", "notify_customer": True} == failed["data"]


def test_pickup_moves_to_a_nearby_store_when_the_policy_says_so(api: Api) -> None:
    set_lifecycle(api, pickup_failure="nearby_store", nearby_store_km=20)
    activate_brooklyn(api)
    api.stock("ST-NYC", "A", 5, "a1")
    api.stock("ST-BRK", "A", 5, "a2")
    order = pickup(api, "CC-2")
    api.act(live(order)[0]["id"], "reject", {"reason": "damaged"})
    after = read(api, order["id"])
    assert (after["delivery"]["pickup_location_id"], where(after)) == ("ST-BRK", ["ST-BRK"])
    failed = next(e for e in events(api, order["id"]) if e["type"] == "order.pickup_failed")
    assert failed["data"] | {"choice": "nearby_store", "to": "ST-BRK"} == failed["data"]


def test_pickup_with_no_store_nearby_goes_to_a_person(api: Api) -> None:
    set_lifecycle(api, pickup_failure="nearby_store", nearby_store_km=20)
    api.stock("ST-NYC", "A", 5, "a1")
    order = pickup(api, "CC-3")
    api.act(live(order)[0]["id"], "reject", {"reason": "damaged"})
    assert read(api, order["id"])["status"] == "on_hold"
    assert [c["reason"] for c in open_cases(api)] == ["no_nearby_store"]


def test_pickup_converted_to_home_delivery(api: Api) -> None:
    set_lifecycle(api, pickup_failure="home_delivery")
    api.stock("ST-NYC", "A", 5, "a1")
    api.stock("DC-ATL", "A", 5, "a2")
    customer = {"id": "C-1", "address": {**NEW_YORK, "lat": 40.75, "lon": -73.99}}
    order = pickup(api, "CC-4", customer=customer)
    api.act(live(order)[0]["id"], "reject", {"reason": "damaged"})
    after = read(api, order["id"])
    assert (after["delivery"]["method"], where(after)) == ("ship", ["DC-ATL"])
    without = pickup(api, "CC-5")
    api.act(live(without)[0]["id"], "reject", {"reason": "damaged"})
    assert [c["reason"] for c in open_cases(api)] == ["no_delivery_address"]


def test_pickup_failure_held_for_a_person(api: Api) -> None:
    set_lifecycle(api, pickup_failure="hold")
    api.stock("ST-NYC", "A", 5, "a1")
    order = pickup(api, "CC-6")
    api.act(live(order)[0]["id"], "reject", {"reason": "damaged"})
    held = read(api, order["id"])
    assert (held["status"], held["delivery"]["pickup_location_id"]) == ("on_hold", "ST-NYC")
    assert [c["reason"] for c in open_cases(api)] == ["damaged"]


# --- holds and configuration -----------------------------------------------------------------


def test_rule_based_holds_keep_orders_out_of_sourcing(api: Api) -> None:
    api.stock("DC-ATL", "A", 50, "a1")
    flagged = place(api, "FR-1", tags=["fraud_review"])
    assert (flagged["status"], flagged["fulfilments"]) == ("on_hold", [])
    hold = next(e for e in events(api, flagged["id"]) if e["type"] == "order.hold")
    assert hold["data"]["reason"] == "order_tag:fraud_review"
    set_lifecycle(api, holds={"max_order_value": 100, "order_tags": []})
    assert place(api, "FR-2", 9)["status"] == "allocated"  # 90
    big = place(api, "FR-3", 11)  # 110
    assert big["status"] == "on_hold"
    released = api.post(f"/v1/orders/{big['id']}/release").json()
    assert released["status"] == "allocated"


def test_invalid_lifecycle_is_422_naming_the_field(api: Api) -> None:
    cases = [
        ({"actions": {"no_stock": "shrug"}}, "lifecycle.actions.no_stock"),
        ({"actions": {"bored": "hold"}}, "lifecycle.actions.bored.[key]"),
        ({"deadlines": {"dc": {"accept_minutes": -5}}}, "lifecycle.deadlines.dc.accept_minutes"),
        ({"pickup_failure": "teleport"}, "lifecycle.pickup_failure"),
        ({"max_attempts": 1000}, "lifecycle.max_attempts"),
        ({"holds": {"max_order_value": -1}}, "lifecycle.holds.max_order_value"),
    ]
    for lifecycle, field in cases:
        r = api.put("/v1/policies/p1", {"name": "p1", "lifecycle": lifecycle})
        assert r.status_code == 422, (lifecycle, r.text)
        assert r.json()["error"]["details"]["field"] == field, r.json()
    ok = api.put("/v1/policies/p1", {"name": "p1", "lifecycle": {"deadlines": {"store": {}}}})
    assert ok.status_code == 201, ok.text
    assert ok.json()["document"]["lifecycle"] == {"deadlines": {"store": {}}}


def test_roles_on_the_queue(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    order = place(api, "RO-1")
    api.act(live(order)[0]["id"], "reject", {"reason": "other"})
    [case] = open_cases(api)
    tokens = {}
    for role, extra in (("viewer", {}), ("associate", {"locations": ["DC-ATL"]})):
        r = api.post("/v1/tokens", {"name": role, "role": role, **extra})
        tokens[role] = {"Authorization": f"Bearer {r.json()['token']}"}
    viewer, associate = tokens["viewer"], tokens["associate"]
    assert api.client.get("/v1/exceptions", headers=viewer).status_code == 200
    assert api.client.post(f"/v1/exceptions/{case['id']}/retry", headers=viewer).status_code == 403
    assert api.client.get("/v1/exceptions", headers=associate).status_code == 403
    r = api.client.post(f"/v1/exceptions/{case['id']}/cancel", headers=associate)
    assert r.status_code == 403
