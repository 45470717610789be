"""Cart reservations over HTTP: hold, read, extend, release, expiry by the worker on a
controlled clock, and conversion by the order (including a lapsed hold)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.e2e.conftest import NEW_YORK, Api

CART = {"channel": "web", "lines": [{"sku": "A", "quantity": 2}], "destination": NEW_YORK}


def hold(api: Api, body: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
    r = api.post("/v1/reservations", body or CART, headers=headers)
    assert r.status_code == 201, r.text
    found: dict[str, Any] = r.json()
    return found


def order_body(external_id: str, reservation_id: str | None, quantity: int = 2) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": external_id,
        "channel": "web",
        "delivery": {"method": "ship", "address": NEW_YORK},
        "lines": [{"line_id": "1", "sku": "A", "quantity": quantity}],
    }
    if reservation_id is not None:
        body["reservation_id"] = reservation_id
    return body


def event_types(api: Api, order_id: str) -> list[str]:
    return [e["type"] for e in api.get(f"/v1/orders/{order_id}/events").json()]


def test_a_hold_answers_where_it_holds_and_lowers_available(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    cart = hold(api, {**CART, "external_id": "cart-1", "ttl_seconds": 600})
    assert cart["status"] == "active"
    assert cart["lines"] == [
        {"sku": "A", "quantity": 2, "held": [{"location_id": "DC-ATL", "quantity": 2}]}
    ]
    expires = datetime.fromisoformat(cart["expires_at"])
    assert expires - datetime.fromisoformat(cart["created_at"]) == timedelta(seconds=600)
    assert api.position("DC-ATL", "A")["reserved"] == 2
    assert api.position("DC-ATL", "A")["available"] == 3
    assert api.get(f"/v1/reservations/{cart['id']}").json() == cart
    listed = api.get("/v1/reservations", params={"status": "active"}).json()["items"]
    assert [r["id"] for r in listed] == [cart["id"]]


def test_the_same_cart_or_idempotency_key_answers_the_first_hold(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    first = hold(api, {**CART, "external_id": "cart-1"})
    again = api.post("/v1/reservations", {**CART, "external_id": "cart-1"})
    assert (again.status_code, again.json()["id"]) == (200, first["id"])
    keyed = hold(api, CART, **{"Idempotency-Key": "k-1"})
    replay = api.post("/v1/reservations", CART, headers={"Idempotency-Key": "k-1"})
    assert (replay.status_code, replay.json()["id"]) == (200, keyed["id"])
    changed = {**CART, "lines": [{"sku": "A", "quantity": 1}]}
    reused = api.post("/v1/reservations", changed, headers={"Idempotency-Key": "k-1"})
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert api.position("DC-ATL", "A")["reserved"] == 4


def test_a_cart_the_network_cannot_hold_is_409_with_the_shortage(api: Api) -> None:
    api.stock("DC-ATL", "A", 1, "a1")
    body = {**CART, "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]}
    r = api.post("/v1/reservations", body)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["field"] == "lines"
    assert error["details"]["lines"] == [
        {"sku": "A", "requested": 2, "available": 1},
        {"sku": "B", "requested": 1, "available": 0},
    ]
    assert api.position("DC-ATL", "A")["reserved"] == 0


def test_invalid_carts_are_422_naming_the_field(api: Api) -> None:
    cases = [
        ({**CART, "ttl_seconds": 10**6}, "invalid_ttl", "ttl_seconds"),
        ({**CART, "ttl_seconds": 0}, "validation_error", "ttl_seconds"),
        ({**CART, "lines": [{"sku": "A", "quantity": 0}]}, "validation_error", "lines.0.quantity"),
        ({**CART, "lines": [{"sku": "ZZZ", "quantity": 1}]}, "unknown_sku", "lines.0.sku"),
        ({**CART, "lines": []}, "validation_error", "lines"),
        ({**CART, "pickup_location_id": "DC-ATL"}, "capability_missing", "pickup_location_id"),
        ({**CART, "pickup_location_id": "NOWHERE"}, "unknown_location", "pickup_location_id"),
        (
            {**CART, "destination": {"postal_code": "00000", "country": "ZZ"}},
            "address_not_geocodable",
            "destination.postal_code",
        ),
    ]
    for body, code, field in cases:
        r = api.post("/v1/reservations", body)
        assert r.status_code == 422, (body, r.text)
        assert (r.json()["error"]["code"], r.json()["error"]["details"]["field"]) == (code, field)


def test_a_pickup_cart_is_held_at_the_store(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    api.stock("ST-NYC", "A", 2, "a2")
    cart = hold(
        api,
        {"channel": "web", "lines": [{"sku": "A", "quantity": 2}], "pickup_location_id": "ST-NYC"},
    )
    assert cart["lines"][0]["held"] == [{"location_id": "ST-NYC", "quantity": 2}]


def test_unknown_reservations_are_404(api: Api) -> None:
    for r in (
        api.get("/v1/reservations/nope"),
        api.post("/v1/reservations/nope/extend", {}),
        api.post("/v1/reservations/nope/release"),
        api.client.delete(
            "/v1/reservations/nope", headers={"Authorization": "Bearer admin-secret"}
        ),
    ):
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "reservation_not_found"


def test_release_and_delete_are_idempotent(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    cart = hold(api)
    first = api.post(f"/v1/reservations/{cart['id']}/release")
    assert (first.status_code, first.json()["status"]) == (200, "released")
    again = api.client.delete(
        f"/v1/reservations/{cart['id']}", headers={"Authorization": "Bearer admin-secret"}
    )
    assert (again.status_code, again.json()["status"]) == (200, "released")
    assert api.position("DC-ATL", "A")["reserved"] == 0
    extended = api.post(f"/v1/reservations/{cart['id']}/extend", {"ttl_seconds": 60})
    assert (extended.status_code, extended.json()["error"]["code"]) == (409, "reservation_released")


def test_the_worker_releases_the_hold_when_it_expires(clocked_api: Api) -> None:
    api = clocked_api
    assert api.clock is not None
    api.stock("DC-ATL", "A", 5, "a1")
    cart = hold(api, {**CART, "ttl_seconds": 120})
    api.clock.advance(timedelta(seconds=119))
    api.relay()
    assert api.get(f"/v1/reservations/{cart['id']}").json()["status"] == "active"
    api.clock.advance(timedelta(seconds=1))
    api.relay()
    assert api.get(f"/v1/reservations/{cart['id']}").json()["status"] == "expired"
    assert api.position("DC-ATL", "A")["reserved"] == 0
    ledger = api.get("/v1/inventory/A/ledger").json()["items"]
    assert [(e["reason"], e["ref"]) for e in ledger if e["reason"] != "receipt"] == [
        ("reservation", f"reservation:{cart['id']}"),
        ("release", f"reservation:{cart['id']}"),
    ]


def test_extend_moves_the_expiry(clocked_api: Api) -> None:
    api = clocked_api
    assert api.clock is not None
    api.stock("DC-ATL", "A", 5, "a1")
    cart = hold(api, {**CART, "ttl_seconds": 120})
    api.clock.advance(timedelta(seconds=100))
    r = api.post(f"/v1/reservations/{cart['id']}/extend", {"ttl_seconds": 300})
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["expires_at"]) == api.clock.now() + timedelta(
        seconds=300
    )
    api.clock.advance(timedelta(seconds=200))
    api.relay()
    assert api.get(f"/v1/reservations/{cart['id']}").json()["status"] == "active"
    api.clock.advance(timedelta(seconds=100))
    api.relay()
    assert api.get(f"/v1/reservations/{cart['id']}").json()["status"] == "expired"
    late = api.post(f"/v1/reservations/{cart['id']}/extend", {})
    assert (late.status_code, late.json()["error"]["code"]) == (409, "reservation_expired")


def test_the_order_converts_the_hold(api: Api) -> None:
    api.stock("DC-ATL", "A", 2, "a1")
    cart = hold(api)
    r = api.post("/v1/orders", order_body("W-1", cart["id"]))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["lines"][0]["allocated"] == 2
    converted = api.get(f"/v1/reservations/{cart['id']}").json()
    assert (converted["status"], converted["order_id"]) == ("converted", order["id"])
    assert "order.reservation_converted" in event_types(api, order["id"])
    assert api.position("DC-ATL", "A")["reserved"] == 2
    again = api.post("/v1/orders", order_body("W-2", cart["id"]))
    assert (again.status_code, again.json()["error"]["code"]) == (
        409,
        "reservation_already_converted",
    )
    release = api.post(f"/v1/reservations/{cart['id']}/release")
    assert (release.status_code, release.json()["error"]["code"]) == (
        409,
        "reservation_already_converted",
    )


def test_a_lapsed_hold_never_costs_the_order(clocked_api: Api) -> None:
    api = clocked_api
    assert api.clock is not None
    api.stock("DC-ATL", "A", 2, "a1")
    cart = hold(api, {**CART, "ttl_seconds": 60})
    api.clock.advance(timedelta(minutes=5))
    api.relay()
    r = api.post("/v1/orders", order_body("W-1", cart["id"]))
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["allocated"] == 2
    assert "order.reservation_lapsed" in event_types(api, r.json()["id"])
    unknown = api.post("/v1/orders", order_body("W-2", "no-such-cart", quantity=1))
    assert unknown.status_code == 201
    assert unknown.json()["lines"][0]["backordered"] == 1


def test_a_hold_of_another_channel_is_422(api: Api) -> None:
    api.stock("DC-ATL", "A", 2, "a1")
    cart = hold(api, {**CART, "channel": "app"})
    r = api.post("/v1/orders", order_body("W-1", cart["id"]))
    assert r.status_code == 422
    assert (r.json()["error"]["code"], r.json()["error"]["details"]["field"]) == (
        "reservation_channel_mismatch",
        "reservation_id",
    )


def token(api: Api, role: str, **scope: list[str]) -> dict[str, str]:
    r = api.post("/v1/tokens", {"name": f"{role}-token", "role": role, **scope})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_tokens_act_only_within_their_rights_and_channels(api: Api) -> None:
    api.stock("DC-ATL", "A", 5, "a1")
    cart = hold(api)
    app_only = token(api, "integrator", channels=["app"])
    viewer = token(api, "viewer")
    assert api.client.post("/v1/reservations", json=CART, headers=app_only).status_code == 403
    release = f"/v1/reservations/{cart['id']}/release"
    assert api.client.post(release, headers=app_only).status_code == 403
    assert api.client.post(release, headers=viewer).status_code == 403
    assert api.client.get(f"/v1/reservations/{cart['id']}", headers=viewer).status_code == 200
    listed = api.client.get("/v1/reservations", headers=app_only).json()["items"]
    assert listed == []
    assert api.client.post("/v1/reservations", json=CART).status_code == 401
