"""Stock rules, channel settings and `GET /v1/availability` over HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.e2e.conftest import Api

from ordergrid.entrypoints.api.schemas_stock import AvailabilityOut


def rule(api: Api, rule_id: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    r = api.put(f"/v1/stock-rules/{rule_id}", body)
    assert r.status_code == status, r.text
    return dict(r.json())


def availability(api: Api, query: str) -> dict[str, Any]:
    r = api.get(f"/v1/availability?{query}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def changes(api: Api, expected: int) -> list[dict[str, Any]]:
    """`availability.changed` events so far; PostgreSQL shows events once every older
    transaction on the server has ended, so wait a little for them."""
    deadline = time.monotonic() + 10
    while True:
        with api.app.ctx.uow(readonly=True) as uow:
            found = uow.outbox.after((0, 0), 1000)
        told = [e.data for e in found if e.type == "availability.changed"]
        if len(told) >= expected or time.monotonic() > deadline:
            return told
        time.sleep(0.05)


def test_availability_per_api_contract(api: Api) -> None:
    api.stock("DC-ATL", "A", 10, "a1")
    api.stock("ST-NYC", "A", 3, "n1")
    api.stock("ST-BRK", "A", 9, "b1")  # paused store: not sellable
    body = availability(api, "skus=A,B&channel=web")
    # The answer is written without the response model's check: it must still fit it.
    assert AvailabilityOut.model_validate(body).model_dump(mode="json") == body
    a, b = body["items"]
    assert (a["sku"], a["available"], a["locations"]) == ("A", 13, 2)
    assert a["pickup"] == [{"location_id": "ST-NYC", "available": 3, "distance_km": None}]
    assert (b["sku"], b["available"], b["pickup"]) == ("B", 0, [])


def test_safety_stock_rule_lowers_available_everywhere(api: Api) -> None:
    api.stock("ST-NYC", "A", 5, "n1")
    created = rule(
        api,
        "store-floor",
        {"kind": "safety_stock", "scope": {"location_type": "store"}, "quantity": 2},
    )
    assert created["scope"]["location_type"] == "store"
    assert api.position("ST-NYC", "A")["safety_stock"] == 2
    assert api.position("ST-NYC", "A")["available"] == 3
    assert availability(api, "skus=A&channel=web")["items"][0]["available"] == 3
    replaced = rule(
        api,
        "store-floor",
        {"kind": "safety_stock", "scope": {"location_type": "store"}, "quantity": 4},
        200,
    )
    assert replaced["quantity"] == 4
    assert api.position("ST-NYC", "A")["available"] == 1
    assert (
        api.client.delete(
            "/v1/stock-rules/store-floor", headers={"Authorization": "Bearer admin-secret"}
        ).status_code
        == 204
    )
    assert api.position("ST-NYC", "A")["available"] == 5
    assert api.get("/v1/stock-rules/store-floor").status_code == 404


def test_fence_for_marketplace_hides_units_from_web(api: Api) -> None:
    api.stock("DC-ATL", "A", 10, "a1")
    rule(
        api,
        "mkt",
        {"kind": "channel_fence", "scope": {"channel": "marketplace", "sku": "A"}, "share": 0.3},
    )
    assert availability(api, "skus=A&channel=web")["items"][0]["available"] == 7
    assert availability(api, "skus=A&channel=marketplace")["items"][0]["available"] == 10
    listed = api.get("/v1/stock-rules").json()["items"]
    assert [(r["id"], r["share"]) for r in listed] == [("mkt", 0.3)]


def test_destination_limits_pickup_stores_to_the_radius(api: Api) -> None:
    api.stock("ST-NYC", "A", 2, "n1")
    near = availability(api, "skus=A&channel=web&postal_code=10001&country=US")
    [store] = near["items"][0]["pickup"]
    assert store["location_id"] == "ST-NYC"
    assert store["distance_km"] < 5
    far = availability(api, "skus=A&channel=web&lat=34.05&lon=-118.24")
    assert far["items"][0]["pickup"] == []


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("skus=ZZZ&channel=web", 422, "unknown_sku"),
        ("skus=,&channel=web", 422, "skus_required"),
        ("skus=A&channel=web&postal_code=00000&country=US", 422, "unknown_postal_code"),
        ("skus=A&channel=web&lat=40", 422, "incomplete_coordinates"),
        ("channel=web", 422, None),
    ],
)
def test_bad_availability_queries_are_422_with_a_code(
    api: Api, query: str, status: int, code: str | None
) -> None:
    r = api.get(f"/v1/availability?{query}")
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "safety_stock", "quantity": 1, "share": 0.5}, "quantity"),
        ({"kind": "safety_stock"}, "quantity"),
        ({"kind": "channel_fence", "quantity": 1}, "scope.channel"),
        ({"kind": "safety_stock", "quantity": -1}, "quantity"),
        (
            {"kind": "safety_stock", "quantity": 1, "scope": {"location_type": "shed"}},
            "location_type",
        ),
        ({"kind": "nope", "quantity": 1}, "kind"),
    ],
)
def test_invalid_rules_are_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    r = api.put("/v1/stock-rules/bad", body)
    assert r.status_code == 422, r.text
    assert field in r.text
    assert api.get("/v1/stock-rules/bad").status_code == 404


def test_channel_settings_round_trip_and_validate(api: Api) -> None:
    r = api.put("/v1/channels/web", {"availability_thresholds": [0, 5, 20], "pickup_radius_km": 25})
    assert r.status_code == 201, r.text
    assert api.get("/v1/channels/web").json()["availability_thresholds"] == [0, 5, 20]
    assert [c["channel"] for c in api.get("/v1/channels").json()["items"]] == ["web"]
    bad = api.put("/v1/channels/web", {"availability_thresholds": [5, 0]})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_thresholds"
    assert api.get("/v1/channels/app").status_code == 404


def test_threshold_crossing_is_an_event(api: Api) -> None:
    api.put("/v1/channels/web", {"availability_thresholds": [0, 3]})
    api.stock("DC-ATL", "A", 5, "a1")
    api.order("T-1", [("1", "A", 3)])
    told = changes(api, expected=2)
    assert [(d["available"], d["band"], d["previous_band"]) for d in told] == [
        (5, 2, None),
        (2, 1, 2),
    ]
