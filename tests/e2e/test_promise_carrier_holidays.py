"""POST /v1/promise over HTTP with carrier holidays: a Friday quote before Labor Day rolls
past the Monday, a policy's carrier calendar replaces or adds holidays, and a bad
calendar is refused naming its field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tests.e2e.conftest import Api

NYC = {
    "postal_code": "10001",
    "country": "US",
    "lat": 40.75,
    "lon": -73.99,
    "timezone": "America/New_York",
}
# Friday 4 September 2026, 10:00 in New York; Monday the 7th is Labor Day.
FRIDAY_MORNING = datetime(2026, 9, 4, 14, 0, tzinfo=UTC)


def quote(api: Api, destination: dict[str, Any] = NYC) -> dict[tuple[str, str], Any]:
    body = {"channel": "web", "lines": [{"sku": "A", "quantity": 1}], "destination": destination}
    r = api.post("/v1/promise", body)
    assert r.status_code == 200, r.text
    return {(o["method"], o["service_level"]): o for o in r.json()["options"]}


def day_of(stamp: str) -> date:
    return datetime.fromisoformat(stamp).date()


def activate(api: Api, promise: dict[str, Any]) -> None:
    doc = {"name": "web", "selector": {"channels": ["web"]}, "promise": promise}
    assert api.put("/v1/policies/web", doc).status_code in (200, 201)
    assert api.post("/v1/policies/web/activate", {}).status_code == 200


def test_next_day_on_a_friday_before_labor_day_arrives_on_tuesday(clocked_api: Api) -> None:
    assert clocked_api.clock is not None
    clocked_api.clock.set(FRIDAY_MORNING)
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    next_day = quote(clocked_api)["ship", "next_day"]
    assert next_day["available"] is True
    assert next_day["shipments"][0]["ships_on"] == "2026-09-04"
    assert day_of(next_day["earliest"]) == date(2026, 9, 8)
    assert day_of(next_day["latest"]) == date(2026, 9, 8)


def test_a_policy_without_us_holidays_delivers_on_labor_day(clocked_api: Api) -> None:
    assert clocked_api.clock is not None
    clocked_api.clock.set(FRIDAY_MORNING)
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    activate(clocked_api, {"carrier_holidays": {"US": []}})
    assert day_of(quote(clocked_api)["ship", "next_day"]["earliest"]) == date(2026, 9, 7)


def test_a_regional_holiday_applies_to_destinations_in_that_state(clocked_api: Api) -> None:
    assert clocked_api.clock is not None
    clocked_api.clock.set(FRIDAY_MORNING)
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    activate(clocked_api, {"carrier_holidays": {"US-NY": ["2026-09-08"]}})
    in_new_york = quote(clocked_api, {**NYC, "region": "NY"})["ship", "next_day"]
    unnamed = quote(clocked_api)["ship", "next_day"]
    assert day_of(in_new_york["earliest"]) == date(2026, 9, 9)
    assert day_of(unnamed["earliest"]) == date(2026, 9, 8)


def test_saturday_delivery_for_express_only(clocked_api: Api) -> None:
    assert clocked_api.clock is not None
    clocked_api.clock.set(FRIDAY_MORNING)
    clocked_api.stock("DC-ATL", "A", 5, "a1")
    activate(
        clocked_api,
        {
            "transit": {"express": [{"min_days": 1, "max_days": 1}]},
            "delivery_days": {"express": ["mon", "tue", "wed", "thu", "fri", "sat"]},
        },
    )
    found = quote(clocked_api)
    assert day_of(found["ship", "express"]["earliest"]) == date(2026, 9, 5)
    assert day_of(found["ship", "next_day"]["earliest"]) == date(2026, 9, 8)


def test_a_bad_holiday_key_is_refused_naming_the_field(clocked_api: Api) -> None:
    doc = {"name": "web", "promise": {"carrier_holidays": {"usa": ["2026-09-07"]}}}
    r = clocked_api.put("/v1/policies/web", doc)
    assert r.status_code == 422, r.text
    assert "promise.carrier_holidays" in r.json()["error"]["details"]["field"]


def test_a_bad_holiday_date_is_refused_naming_the_field(clocked_api: Api) -> None:
    doc = {"name": "web", "promise": {"carrier_holidays": {"US": ["2026-13-01"]}}}
    r = clocked_api.put("/v1/policies/web", doc)
    assert r.status_code == 422, r.text
    assert "promise.carrier_holidays.US" in r.json()["error"]["details"]["field"]


def test_a_bad_region_is_refused(clocked_api: Api) -> None:
    body = {
        "channel": "web",
        "lines": [{"sku": "A", "quantity": 1}],
        "destination": {**NYC, "region": "New York State"},
    }
    r = clocked_api.post("/v1/promise", body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["field"] == "destination.region"
