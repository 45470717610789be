"""POST /v1/promise over HTTP: a happy path per option kind, each edge case, calendars
on locations, the policy's promise section, and orders carrying the promise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.e2e.conftest import Api

CART = {"channel": "web", "lines": [{"sku": "A", "quantity": 1}]}
NYC = {"postal_code": "10001", "country": "US", "lat": 40.75, "lon": -73.99}


def promise(api: Api, **body: Any) -> Any:
    return api.post("/v1/promise", {**CART, "destination": NYC, **body})


def options(r: Any) -> dict[tuple[str, str], dict[str, Any]]:
    assert r.status_code == 200, r.text
    return {(o["method"], o["service_level"]): o for o in r.json()["options"]}


def test_ship_options_have_dates_with_offsets_and_cost(clocked_api: Api) -> None:
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    found = options(promise(clocked_api))
    standard = found["ship", "standard"]
    assert standard["available"] is True
    assert standard["cost"] > 0
    earliest = datetime.fromisoformat(standard["earliest"])
    latest = datetime.fromisoformat(standard["latest"])
    assert earliest.utcoffset() is not None
    assert earliest <= latest
    assert standard["shipments"][0]["location_id"] == "DC-ATL"
    assert found["ship", "next_day"]["available"] is True
    assert found["same_day", "standard"]["available"] is False


def test_dates_are_in_the_customers_zone_when_given(clocked_api: Api) -> None:
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    r = promise(clocked_api, destination={**NYC, "timezone": "America/New_York"})
    earliest = options(r)["ship", "standard"]["earliest"]
    assert earliest.endswith("-05:00")


def test_pickup_now_and_its_ready_time(clocked_api: Api) -> None:
    clocked_api.stock("ST-NYC", "A", 1, "a1")
    r = promise(clocked_api)
    pickup = r.json()["pickup"]
    assert [p["location_id"] for p in pickup] == ["ST-NYC"]  # ST-BRK is paused
    assert pickup[0]["available"] is True
    assert pickup[0]["mode"] == "now"
    assert pickup[0]["ready_in_minutes"] == 120
    assert datetime.fromisoformat(pickup[0]["ready_by"]).utcoffset() is not None


def test_curbside_after_a_transfer(clocked_api: Api) -> None:
    r = clocked_api.put(
        "/v1/locations/ST-NYC",
        {
            "name": "ST-NYC",
            "type": "store",
            "capabilities": ["ship", "pickup", "curbside"],
            "address": {"country": "US", "lat": 40.75, "lon": -73.99},
            "calendar": {
                "timezone": "America/New_York",
                "opening_hours": {
                    d: [["10:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
                },
                "holidays": ["2026-12-25"],
            },
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["calendar"]["timezone"] == "America/New_York"
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    curbside = [p for p in promise(clocked_api).json()["pickup"] if p["method"] == "curbside"]
    assert curbside[0]["available"] is True
    assert curbside[0]["mode"] == "after_transfer"
    assert curbside[0]["transfer_from"] == ["DC-ATL"]
    ready = datetime.fromisoformat(curbside[0]["ready_by"])
    assert ready.utcoffset() is not None
    assert 10 <= ready.hour < 20


def test_quantity_beyond_the_network_is_unavailable_with_a_reason(clocked_api: Api) -> None:
    clocked_api.stock("DC-ATL", "A", 1, "a1")
    r = promise(clocked_api, lines=[{"sku": "A", "quantity": 50}])
    standard = options(r)["ship", "standard"]
    assert standard["available"] is False
    assert standard["reason"] == "insufficient_stock"


def error(r: Any, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    return body


def test_unknown_sku_names_the_line(clocked_api: Api) -> None:
    e = error(
        promise(clocked_api, lines=[{"sku": "A", "quantity": 1}, {"sku": "ZZ", "quantity": 1}])
    )
    assert e["code"] == "unknown_sku"
    assert e["details"]["field"] == "lines.1.sku"


def test_unknown_postal_code_without_coordinates(clocked_api: Api) -> None:
    e = error(promise(clocked_api, destination={"postal_code": "00000", "country": "US"}))
    assert e["code"] == "unknown_postal_code"
    assert e["details"]["field"] == "destination.postal_code"


def test_a_us_postal_code_alone_is_geocoded(clocked_api: Api) -> None:
    r = promise(clocked_api, destination={"postal_code": "10001", "country": "US"})
    assert r.status_code == 200, r.text
    assert abs(r.json()["destination"]["lat"] - 40.75) < 0.1


def test_empty_lines_are_refused(clocked_api: Api) -> None:
    e = error(promise(clocked_api, lines=[]))
    assert e["details"]["field"] == "lines"


def test_an_unknown_time_zone_is_refused(clocked_api: Api) -> None:
    e = error(promise(clocked_api, destination={**NYC, "timezone": "Mars/Olympus"}))
    assert e["details"]["field"] == "destination.timezone"


def test_an_invalid_promise_section_names_its_field(clocked_api: Api) -> None:
    doc = {
        "name": "web",
        "promise": {"transit": {"standard": [{"max_km": 100, "min_days": 3, "max_days": 1}]}},
    }
    e = error(clocked_api.put("/v1/policies/web", doc))
    assert "promise.transit" in e["details"]["field"]


def test_a_policy_promise_section_limits_the_options(clocked_api: Api) -> None:
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    doc = {"name": "web", "selector": {"channels": ["web"]}, "promise": {"offer": ["standard"]}}
    assert clocked_api.put("/v1/policies/web", doc).status_code in (200, 201)
    assert clocked_api.post("/v1/policies/web/activate", {}).status_code == 200
    r = promise(clocked_api)
    assert list(options(r)) == [("ship", "standard")]
    assert r.json()["pickup"] == []


def test_an_order_keeps_the_promise_it_was_placed_with(clocked_api: Api) -> None:
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    clocked_api.stock("ST-NYC", "A", 5, "a2")
    # Unpromised, the cheaper Atlanta DC ships (3-4 days to New York).
    plain = clocked_api.order("P-0", [("1", "A", 1)])
    assert plain["fulfilments"][0]["location_id"] == "DC-ATL"
    assert "promise" not in plain["delivery"]
    promised = {"earliest": "2026-03-03T20:00:00-05:00", "latest": "2026-03-04T20:00:00-05:00"}
    order = clocked_api.order("P-1", [("1", "A", 1)], promise=promised)
    assert order["fulfilments"][0]["location_id"] == "ST-NYC"
    stored = clocked_api.get(f"/v1/orders/{order['id']}").json()["delivery"]["promise"]
    assert datetime.fromisoformat(stored["latest"]) == datetime.fromisoformat(promised["latest"])


def test_a_promise_ending_before_it_starts_is_refused(clocked_api: Api) -> None:
    body = {
        "external_id": "P-2",
        "channel": "web",
        "delivery": {
            "method": "ship",
            "address": NYC,
            "promise": {"earliest": "2026-03-05T20:00:00Z", "latest": "2026-03-04T20:00:00Z"},
        },
        "lines": [{"line_id": "1", "sku": "A", "quantity": 1}],
    }
    e = error(clocked_api.post("/v1/orders", body))
    assert e["details"]["field"] == "delivery.promise"


def test_a_calendar_that_never_opens_is_refused(clocked_api: Api) -> None:
    body = {
        "name": "ST-NYC",
        "type": "store",
        "capabilities": ["pickup"],
        "address": {"country": "US", "lat": 40.75, "lon": -73.99},
        "calendar": {"timezone": "UTC", "opening_hours": {"mon": []}},
    }
    e = error(clocked_api.put("/v1/locations/ST-NYC", body))
    assert e["details"]["field"] == "calendar.opening_hours"
