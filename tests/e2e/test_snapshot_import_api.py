"""Bulk snapshot import over HTTP: JSON, NDJSON and CSV bodies, full counts, and 422s
naming the offending row."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from tests.e2e.conftest import ADMIN, Api

from ordergrid.entrypoints.api import routes_snapshot_import

PATH = "/v1/inventory/snapshots/bulk"
AS_OF = "2026-01-05T12:00:00Z"


def counted_now() -> str:
    """A count taken after the stock the test set up, so none of it is a later movement."""
    return datetime.now(UTC).isoformat()


def send(api: Api, body: str, media: str, query: str = "") -> httpx.Response:
    headers = {**ADMIN, "content-type": media}
    return api.client.post(f"{PATH}{query}", content=body.encode(), headers=headers)


def test_csv_sets_positions_across_locations(api: Api) -> None:
    body = f"location_id,sku,on_hand,as_of\nDC-RNO,A,7,{AS_OF}\nST-NYC,A,2,{AS_OF}\nST-NYC,B,4,\n"
    r = send(api, body, "text/csv", f"?as_of={AS_OF}")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "mode": "partial",
        "rows": 3,
        "locations": 2,
        "applied": 3,
        "stale": 0,
        "unlisted": 0,
        "stale_rows": [],
    }
    assert api.position("DC-RNO", "A")["on_hand"] == 7
    assert api.position("ST-NYC", "B")["on_hand"] == 4


def test_ndjson_rows_and_stale_rows_are_reported(api: Api) -> None:
    first = json.dumps({"location_id": "DC-RNO", "sku": "A", "on_hand": 5, "as_of": AS_OF})
    assert send(api, first + "\n", "application/x-ndjson").status_code == 200
    older = json.dumps(
        {"location_id": "DC-RNO", "sku": "A", "on_hand": 50, "as_of": "2026-01-04T12:00:00Z"}
    )
    newer = json.dumps({"location_id": "DC-RNO", "sku": "B", "on_hand": 1, "as_of": AS_OF})
    r = send(api, f"{newer}\n{older}\n", "application/x-ndjson")
    assert r.status_code == 200, r.text
    assert (r.json()["stale"], r.json()["stale_rows"]) == (1, [2])
    assert api.position("DC-RNO", "A")["on_hand"] == 5


def test_json_full_count_zeroes_unlisted_positions(api: Api) -> None:
    api.stock("DC-RNO", "A", 10, "r1")
    api.stock("DC-RNO", "B", 10, "r2")
    api.stock("ST-NYC", "A", 3, "r3")
    body = {
        "as_of": counted_now(),
        "locations": [
            {"location_id": "DC-RNO", "items": [{"sku": "A", "on_hand": 6}]},
            {"location_id": "ST-NYC", "items": []},
        ],
    }
    r = send(api, json.dumps(body), "application/json", "?mode=full")
    assert r.status_code == 200, r.text
    assert (r.json()["applied"], r.json()["unlisted"]) == (3, 2)
    assert api.position("DC-RNO", "A")["on_hand"] == 6
    assert api.position("DC-RNO", "B")["on_hand"] == 0
    assert api.position("ST-NYC", "A")["on_hand"] == 0
    ledger = api.get("/v1/inventory/B/ledger?location_id=DC-RNO").json()["items"]
    assert (ledger[-1]["reason"], ledger[-1]["on_hand_delta"]) == ("snapshot", -10)


def test_single_location_snapshot_takes_full_mode(api: Api) -> None:
    api.stock("DC-RNO", "A", 10, "r1")
    api.stock("DC-RNO", "B", 10, "r2")
    body = {
        "location_id": "DC-RNO",
        "as_of": counted_now(),
        "mode": "full",
        "items": [{"sku": "A", "on_hand": 4}],
    }
    r = api.post("/v1/inventory/snapshots", body)
    assert r.status_code == 200, r.text
    assert api.position("DC-RNO", "B")["on_hand"] == 0


def test_a_full_snapshot_below_reservations_reallocates(api: Api) -> None:
    api.stock("DC-RNO", "A", 3, "r1")
    order = api.order("SNAP-1", [("1", "A", 2)])
    [f] = order["fulfilments"]
    body = f"location_id,sku,on_hand,as_of\n{f['location_id']},B,1,{counted_now()}\n"
    r = send(
        api,
        body,
        "text/csv",
        "?mode=full",
    )
    assert r.status_code == 200, r.text
    api.relay()
    p = api.position(f["location_id"], "A")
    assert p["reserved"] <= p["on_hand"]


def test_a_back_order_wakes_when_an_import_brings_stock(api: Api) -> None:
    order = api.order("SNAP-2", [("1", "A", 1)])
    assert order["status"] == "backordered"
    r = send(api, "location_id,sku,on_hand\nDC-RNO,A,5\n", "text/csv", f"?as_of={AS_OF}")
    assert r.status_code == 200, r.text
    api.relay()
    assert api.get(f"/v1/orders/{order['id']}").json()["status"] != "backordered"


def error(r: httpx.Response) -> tuple[int, str, str]:
    e = r.json()["error"]
    return r.status_code, e["code"], e["details"].get("field", "")


def test_bad_rows_are_refused_with_row_and_field_and_nothing_applies(api: Api) -> None:
    head = "location_id,sku,on_hand\n"
    csv = "text/csv"
    q = f"?as_of={AS_OF}"
    assert error(send(api, head + "DC-RNO,A,1\nNOPE,A,1\n", csv, q)) == (
        422,
        "unknown_location",
        "rows.2.location_id",
    )
    assert error(send(api, head + "DC-RNO,ZZ,1\n", csv, q)) == (422, "unknown_sku", "rows.1.sku")
    assert error(send(api, head + "DC-RNO,A,-1\n", csv, q)) == (
        422,
        "invalid_row",
        "rows.1.on_hand",
    )
    assert error(send(api, head + "DC-RNO,A,1\n", csv)) == (422, "invalid_row", "rows.1.as_of")
    assert error(send(api, head + "DC-RNO,A,1\nDC-RNO,A,2\n", csv, q)) == (
        422,
        "duplicate_row",
        "rows.2.sku",
    )
    assert error(send(api, "sku,on_hand\nA,1\n", csv, q)) == (422, "invalid_header", "header")
    assert error(send(api, "{", "application/x-ndjson", q)) == (422, "invalid_row", "rows.1.row")
    assert error(send(api, "[]", "application/json", q)) == (422, "invalid_body", "locations")
    assert error(send(api, "x", "text/plain", q))[:2] == (422, "unsupported_media_type")
    future = "?as_of=2100-01-01T00:00:00Z"
    assert error(send(api, head + "DC-RNO,A,1\n", csv, future)) == (
        422,
        "as_of_in_future",
        "rows.1.as_of",
    )
    mixed = (
        "location_id,sku,on_hand,as_of\n"
        "DC-RNO,A,1,2026-01-05T12:00:00Z\nDC-RNO,B,1,2026-01-05T13:00:00Z\n"
    )
    assert error(send(api, mixed, csv, "?mode=full")) == (422, "mixed_as_of", "rows.2.as_of")
    edge = "?as_of=9999-12-31T23:59:59-01:00"
    assert error(send(api, head + "DC-RNO,A,1\n", csv, edge)) == (422, "invalid_time", "as_of")
    late = "location_id,sku,on_hand,as_of\nDC-RNO,A,1,9999-12-31T23:59:59-01:00\n"
    assert error(send(api, late, csv)) == (422, "invalid_time", "rows.1.as_of")
    assert api.get("/v1/inventory/A").json()["positions"] == []


def test_the_bulk_endpoint_takes_bodies_larger_than_other_endpoints(api: Api) -> None:
    limit = api.app.settings.max_body_bytes
    rows = "".join(f"DC-RNO,A,{n}\n" for n in range(limit // 10))[: limit + 10]
    body = "location_id,sku,on_hand\n" + rows.rsplit("\n", 1)[0] + "\n"
    assert len(body) > limit
    r = send(api, body, "text/csv", f"?as_of={AS_OF}")
    assert error(r) == (422, "duplicate_row", "rows.2.sku")  # parsed, not refused as too large
    big = api.client.post(
        "/v1/inventory/adjustments",
        content=body.encode(),
        headers={**ADMIN, "content-type": "application/json"},
    )
    assert big.status_code == 413


def test_a_body_spooled_to_disk_is_read_whole_with_windows_lines_a_bom_and_quotes(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_snapshot_import, "SPOOL_BYTES", 64)  # every body rolls over
    rows = "".join(f'"ST-NYC",A,{n}\r\n' if n % 2 else f"DC-RNO,B,{n}\r\n" for n in (1, 2))
    body = "\ufefflocation_id,sku,on_hand\r\n" + rows + '"DC-RNO","A","7"\r\n'
    assert len(body.encode()) > 64
    r = send(api, body, "text/csv", f"?as_of={AS_OF}")
    assert r.status_code == 200, r.text
    assert (r.json()["rows"], r.json()["applied"]) == (3, 3)
    assert api.position("ST-NYC", "A")["on_hand"] == 1
    assert api.position("DC-RNO", "B")["on_hand"] == 2
    assert api.position("DC-RNO", "A")["on_hand"] == 7


def test_bytes_that_are_not_utf8_deep_in_a_spooled_body_refuse_the_whole_import(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_snapshot_import, "SPOOL_BYTES", 64)
    good = "".join(f"DC-RNO,A,{n}\n" for n in range(1, 3)).encode()
    body = b"location_id,sku,on_hand\n" + good + b"ST-NYC,B,\xff\xfe\n"
    headers = {**ADMIN, "content-type": "text/csv"}
    r = api.client.post(f"{PATH}?as_of={AS_OF}", content=body, headers=headers)
    assert error(r) == (422, "invalid_body", "body")
    assert api.get("/v1/inventory/A").json()["positions"] == []
