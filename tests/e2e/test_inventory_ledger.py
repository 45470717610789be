"""The inventory ledger over HTTP: every change of a SKU, with its reason, reference and
before/after, filtered and paged; and positions rebuilt from it."""

from __future__ import annotations

from tests.e2e.conftest import Api


def test_ledger_lists_each_change_with_before_and_after(api: Api) -> None:
    api.stock("DC-RNO", "A", 10, "r1")
    api.stock("ST-NYC", "A", 3, "s1")
    order = api.order("L-1", [("1", "A", 2)])
    [fulfilment] = order["fulfilments"]
    entries = api.get("/v1/inventory/A/ledger").json()["items"]
    assert [(e["location_id"], e["reason"]) for e in entries][:2] == [
        ("DC-RNO", "receipt"),
        ("ST-NYC", "receipt"),
    ]
    reservation = entries[-1]
    assert reservation["location_id"] == fulfilment["location_id"]
    assert (reservation["reserved_before"], reservation["reserved_after"]) == (0, 2)
    assert reservation["ref"] == fulfilment["id"]
    first = entries[0]
    assert (first["on_hand_before"], first["on_hand_delta"], first["on_hand_after"]) == (0, 10, 10)
    assert first["ref"] == "r1"


def test_ledger_filters_by_location_and_time_and_pages(api: Api) -> None:
    for n in range(5):
        api.stock("DC-RNO", "A", 1, f"r{n}")
    api.stock("ST-NYC", "A", 1, "s1")
    only_reno = api.get("/v1/inventory/A/ledger?location_id=DC-RNO&limit=2").json()
    assert [e["on_hand_after"] for e in only_reno["items"]] == [1, 2]
    rest = api.get(
        f"/v1/inventory/A/ledger?location_id=DC-RNO&limit=10&cursor={only_reno['next_cursor']}"
    ).json()
    assert [e["on_hand_after"] for e in rest["items"]] == [3, 4, 5]
    assert rest["next_cursor"] is None
    later = api.get("/v1/inventory/A/ledger?since=2100-01-01T00:00:00Z").json()
    assert later["items"] == []


def test_positions_can_be_rebuilt_from_the_ledger(api: Api) -> None:
    api.stock("DC-RNO", "A", 6, "r1")
    api.stock("ST-NYC", "A", 4, "s1")
    api.order("L-2", [("1", "A", 5)])
    api.stock("ST-NYC", "A", -1, "s2")
    rebuilt: dict[str, tuple[int, int]] = {}
    for e in api.get("/v1/inventory/A/ledger?limit=500").json()["items"]:
        on_hand, reserved = rebuilt.get(e["location_id"], (0, 0))
        rebuilt[e["location_id"]] = (on_hand + e["on_hand_delta"], reserved + e["reserved_delta"])
    for loc, (on_hand, reserved) in rebuilt.items():
        p = api.position(loc, "A")
        assert (p["on_hand"], p["reserved"]) == (on_hand, reserved), loc


def test_ledger_errors(api: Api) -> None:
    assert api.get("/v1/inventory/NOPE/ledger").status_code == 404
    r = api.get("/v1/inventory/A/ledger?since=2024-01-01T00:00:00")
    assert r.status_code == 422  # a time without its zone is ambiguous
    assert r.json()["error"]["details"]["field"] == "query.since"
    assert api.get("/v1/inventory/A/ledger?cursor=abc").status_code == 422
