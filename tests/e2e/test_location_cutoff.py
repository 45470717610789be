"""A location's daily cut-off over HTTP: stored, shown, validated."""

from __future__ import annotations

from tests.e2e.conftest import Api

BODY = {
    "name": "Late DC",
    "type": "dc",
    "capabilities": ["ship"],
    "address": {"country": "US", "lat": 40.0, "lon": -75.0},
}


def test_cutoff_round_trips_and_is_optional(api: Api) -> None:
    r = api.put("/v1/locations/DC-LATE", {**BODY, "cutoff_utc": "16:30"})
    assert r.status_code == 201, r.text
    assert r.json()["cutoff_utc"] == "16:30"
    assert api.get("/v1/locations/DC-LATE").json()["cutoff_utc"] == "16:30"
    plain = api.put("/v1/locations/DC-LATE", BODY)
    assert plain.json()["cutoff_utc"] is None


def test_an_impossible_cutoff_is_refused_with_its_field(api: Api) -> None:
    r = api.put("/v1/locations/DC-LATE", {**BODY, "cutoff_utc": "25:00"})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "cutoff_utc"
    assert api.get("/v1/locations/DC-LATE").status_code == 404
