"""Malformed and invalid requests against every endpoint: exact status, error code and the
field named; nothing half-written after a rejection; and the state conflicts (409).

The contract (spec/API.md): errors are `{"error": {"code", "message", "details"}}`;
malformed or invalid input -> 422 naming the bad field (`details.field`); unknown id -> 404;
state conflict -> 409; never a 500 for bad input.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.e2e.helpers_errors import (
    DC1,
    MAX_BODY,
    SHIP_ADDRESS,
    H,
    assert_envelope,
    assert_error,
    ok,
    order_body,
    place,
    running_client,
    seed,
)

NO_BODY = object()  # send no body at all


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # may name "{order}" and "{ff}": a seeded order and its released fulfilment
    body: Any = NO_BODY  # a JSON value, or bytes sent as is with Content-Type application/json
    status: int = 422
    code: str = "validation_error"
    field: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def line(**kw: Any) -> dict[str, Any]:
    return {"line_id": "1", "sku": "A", "quantity": 1, **kw}


def order_with(**top: Any) -> dict[str, Any]:
    body = order_body(external_id="ERR-1")
    body.update(top)
    return body


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def delivery(**d: Any) -> dict[str, Any]:
    return order_with(delivery=d)


def adjustment(**kw: Any) -> dict[str, Any]:
    return {"adjustments": [{"id": "err-adj", "location_id": "DC1", "sku": "A", "delta": 1, **kw}]}


def snap(**kw: Any) -> dict[str, Any]:
    return {
        "location_id": "DC1",
        "as_of": "2026-01-01T00:00:00Z",
        "items": [{"sku": "A", "on_hand": 3}],
        **kw,
    }


def ship_body(**kw: Any) -> dict[str, Any]:
    return order_with(delivery={"method": "ship", "address": SHIP_ADDRESS}, **kw)


# fmt: off
TABLE: list[Any] = [
    # -- POST /v1/orders: not an object ---------------------------------------------------
    pytest.param(Row("POST", "/v1/orders", b"not json", field="body"),
                 id="order-not-json"),
    pytest.param(Row("POST", "/v1/orders", b'{"external_id": "X",', field="body"),
                 id="order-truncated-json"),
    pytest.param(Row("POST", "/v1/orders", [order_body()], field="body"), id="order-json-array"),
    pytest.param(Row("POST", "/v1/orders", "order", field="body"), id="order-json-string"),
    pytest.param(Row("POST", "/v1/orders", b"", field="body"), id="order-empty-body"),
    pytest.param(Row("POST", "/v1/orders", b'{"external_id": "\xff\xfe"}', field="body"),
                 id="order-invalid-utf8"),
    # -- wrong types and ranges in a line ----------------------------------------------------
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(quantity="2")]),
                     field="lines.0.quantity"), id="order-qty-string"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(quantity=1.5)]),
                     field="lines.0.quantity"), id="order-qty-float"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(quantity=True)]),
                     field="lines.0.quantity"), id="order-qty-bool"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(quantity=None)]),
                     field="lines.0.quantity"), id="order-qty-null"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(quantity=0)]),
                     field="lines.0.quantity"), id="order-qty-zero"),
    pytest.param(Row("POST", "/v1/orders",
                     order_with(lines=[line(), line(line_id="2", quantity=-3)]),
                     field="lines.1.quantity"), id="order-qty-negative-line2"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(quantity=10**30)]),
                     field="lines.0.quantity"), id="order-qty-huge"),
    pytest.param(Row("POST", "/v1/orders",
                     json.dumps(order_with(lines=[line(quantity=777)]))
                     .replace('"quantity": 777', '"quantity": 1e400').encode(),
                     field="lines.0.quantity"), id="order-qty-1e400"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(unit_price=-1)]),
                     field="lines.0.unit_price"), id="order-price-negative"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(unit_price="NaN")]),
                     field="lines.0.unit_price"), id="order-price-nan"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(unit_price=1e300)]),
                     field="lines.0.unit_price"), id="order-price-huge"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(sku="A B")]),
                     field="lines.0.sku"), id="order-sku-pattern"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(line_id="")]),
                     field="lines.0.line_id"), id="order-line-id-empty"),
    # -- missing, extra, empty ---------------------------------------------------------------
    pytest.param(Row("POST", "/v1/orders", without(order_with(), "external_id"),
                     field="external_id"), id="order-missing-external-id"),
    pytest.param(Row("POST", "/v1/orders", without(order_with(), "channel"), field="channel"),
                 id="order-missing-channel"),
    pytest.param(Row("POST", "/v1/orders", without(order_with(), "delivery"), field="delivery"),
                 id="order-missing-delivery"),
    pytest.param(Row("POST", "/v1/orders", without(order_with(), "lines"), field="lines"),
                 id="order-missing-lines"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[{"line_id": "1", "sku": "A"}]),
                     field="lines.0.quantity"), id="order-line-missing-quantity"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[]), field="lines"),
                 id="order-empty-lines"),
    pytest.param(Row("POST", "/v1/orders",
                     order_with(lines=[line(line_id=str(i)) for i in range(501)]), field="lines"),
                 id="order-501-lines"),
    pytest.param(Row("POST", "/v1/orders", order_with(priority="high"), field="priority"),
                 id="order-extra-field"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(colour="red")]),
                     field="lines.0.colour"), id="order-line-extra-field"),
    pytest.param(Row("POST", "/v1/orders", order_with(channel="web shop"), field="channel"),
                 id="order-channel-pattern"),
    pytest.param(Row("POST", "/v1/orders", order_with(customer=["C-1"]), field="customer"),
                 id="order-customer-not-object"),
    # -- delivery ----------------------------------------------------------------------------
    pytest.param(Row("POST", "/v1/orders", delivery(method="teleport", address=SHIP_ADDRESS),
                     field="delivery.method"), id="order-bad-method"),
    pytest.param(Row("POST", "/v1/orders",
                     delivery(method="ship", service_level="warp", address=SHIP_ADDRESS),
                     field="delivery.service_level"), id="order-bad-service-level"),
    pytest.param(Row("POST", "/v1/orders",
                     delivery(method="ship", address={**SHIP_ADDRESS, "lat": 91}),
                     field="delivery.address.lat"), id="order-lat-91"),
    pytest.param(Row("POST", "/v1/orders",
                     delivery(method="ship", address={**SHIP_ADDRESS, "lon": -180.5}),
                     field="delivery.address.lon"), id="order-lon-out-of-range"),
    pytest.param(Row("POST", "/v1/orders",
                     delivery(method="ship", address={**SHIP_ADDRESS, "lat": "north"}),
                     field="delivery.address.lat"), id="order-lat-string"),
    pytest.param(Row("POST", "/v1/orders",
                     delivery(method="ship", address={**SHIP_ADDRESS, "country": "USA"}),
                     field="delivery.address.country"), id="order-country-3-letters"),
    pytest.param(Row("POST", "/v1/orders", delivery(method="ship"), code="address_required",
                     field="delivery.address"), id="order-ship-without-address"),
    pytest.param(Row("POST", "/v1/orders", delivery(method="same_day"), code="address_required",
                     field="delivery.address"), id="order-same-day-without-address"),
    pytest.param(Row("POST", "/v1/orders", delivery(method="pickup"),
                     code="pickup_location_required", field="delivery.pickup_location_id"),
                 id="order-pickup-without-location"),
    pytest.param(Row("POST", "/v1/orders", delivery(method="curbside"),
                     code="pickup_location_required", field="delivery.pickup_location_id"),
                 id="order-curbside-without-location"),
    pytest.param(Row("POST", "/v1/orders", delivery(method="pickup", pickup_location_id="NOPE"),
                     code="unknown_location", field="delivery.pickup_location_id"),
                 id="order-pickup-unknown-location"),
    pytest.param(Row("POST", "/v1/orders", delivery(method="pickup", pickup_location_id="DC1"),
                     code="capability_missing", field="delivery.pickup_location_id"),
                 id="order-pickup-at-dc-without-pickup"),
    pytest.param(Row("POST", "/v1/orders",
                     delivery(method="ship", address={"postal_code": "ZZZ", "country": "US"}),
                     code="address_not_geocodable", field="delivery.address.postal_code"),
                 id="order-address-not-geocodable"),
    # -- references and cross-field rules ------------------------------------------------------
    pytest.param(Row("POST", "/v1/orders",
                     order_with(lines=[line(), line(line_id="2", sku="NOPE")]),
                     code="unknown_sku", field="lines.1.sku"), id="order-unknown-sku"),
    pytest.param(Row("POST", "/v1/orders", order_with(lines=[line(), line(sku="B")]),
                     code="duplicate_line_id", field="lines.1.line_id"),
                 id="order-duplicate-line-id"),
    pytest.param(Row("POST", "/v1/orders", order_with(), headers={"Idempotency-Key": ""},
                     field="header.Idempotency-Key"), id="order-empty-idempotency-key"),
    # -- GET /v1/orders/{id}, timeline, decisions ------------------------------------------------
    pytest.param(Row("GET", "/v1/orders/NOPE", status=404, code="order_not_found"),
                 id="order-get-unknown"),
    pytest.param(Row("GET", "/v1/orders/NOPE/events", status=404, code="order_not_found"),
                 id="order-events-unknown"),
    pytest.param(Row("GET", "/v1/orders/NOPE/decisions", status=404, code="order_not_found"),
                 id="order-decisions-unknown"),
    pytest.param(Row("GET", "/v1/orders/" + "x" * 65, field="path.order_id"),
                 id="order-id-too-long"),
    # -- cancel ------------------------------------------------------------------------------
    pytest.param(Row("POST", "/v1/orders/NOPE/cancel", {}, status=404, code="order_not_found"),
                 id="cancel-unknown-order"),
    pytest.param(Row("POST", "/v1/orders/{order}/cancel", [1], field="body"),
                 id="cancel-json-array"),
    pytest.param(Row("POST", "/v1/orders/{order}/cancel", {"lines": []}, field="lines"),
                 id="cancel-empty-lines"),
    pytest.param(Row("POST", "/v1/orders/{order}/cancel",
                     {"lines": [{"line_id": "1", "quantity": 0}]}, field="lines.0.quantity"),
                 id="cancel-zero-quantity"),
    pytest.param(Row("POST", "/v1/orders/{order}/cancel",
                     {"lines": [{"line_id": "1", "quantity": "1"}]}, field="lines.0.quantity"),
                 id="cancel-quantity-string"),
    pytest.param(Row("POST", "/v1/orders/{order}/cancel", {"lines": [{"line_id": "1"}]},
                     field="lines.0.quantity"), id="cancel-missing-quantity"),
    pytest.param(Row("POST", "/v1/orders/{order}/cancel",
                     {"lines": [{"line_id": "9", "quantity": 1}]},
                     code="unknown_line", field="lines.0.line_id"), id="cancel-unknown-line"),
    pytest.param(Row("POST", "/v1/orders/{order}/cancel",
                     {"lines": [{"line_id": "1", "quantity": 1}, {"line_id": "1", "quantity": 1}]},
                     code="duplicate_line_id", field="lines.1.line_id"),
                 id="cancel-duplicate-line"),
    pytest.param(Row("POST", "/v1/orders/{order}/cancel", {"why": "x"}, field="why"),
                 id="cancel-extra-field"),
    # -- hold / release ------------------------------------------------------------------------
    pytest.param(Row("POST", "/v1/orders/NOPE/hold", status=404, code="order_not_found"),
                 id="hold-unknown-order"),
    pytest.param(Row("POST", "/v1/orders/NOPE/release", status=404, code="order_not_found"),
                 id="release-unknown-order"),
    pytest.param(Row("POST", "/v1/orders/{order}/hold", {"reason": 5}, field="reason"),
                 id="hold-reason-not-string"),
    pytest.param(Row("POST", "/v1/orders/{order}/hold", "x", field="body"),
                 id="hold-body-not-object"),
    pytest.param(Row("POST", "/v1/orders/{order}/release", {"reason": "x" * 257}, field="reason"),
                 id="release-reason-too-long"),
    # -- fulfilments -----------------------------------------------------------------------------
    pytest.param(Row("GET", "/v1/fulfilments/NOPE", status=404, code="fulfilment_not_found"),
                 id="fulfilment-get-unknown"),
    pytest.param(Row("POST", "/v1/fulfilments/NOPE/accept", status=404,
                     code="fulfilment_not_found"), id="fulfilment-accept-unknown"),
    pytest.param(Row("POST", "/v1/fulfilments/NOPE/ship", {"carrier": "ups"}, status=404,
                     code="fulfilment_not_found"), id="fulfilment-ship-unknown"),
    pytest.param(Row("POST", "/v1/fulfilments/NOPE/collect", status=404,
                     code="fulfilment_not_found"), id="fulfilment-collect-unknown"),
    pytest.param(Row("POST", "/v1/fulfilments/{ff}/reject", {"reason": "bored"}, field="reason"),
                 id="fulfilment-reject-bad-reason"),
    pytest.param(Row("POST", "/v1/fulfilments/{ff}/pick",
                     {"lines": [{"line_id": "1", "picked": -1}]}, field="lines.0.picked"),
                 id="fulfilment-pick-negative"),
    pytest.param(Row("POST", "/v1/fulfilments/{ff}/pick",
                     {"lines": [{"line_id": "1", "picked": "1"}]}, field="lines.0.picked"),
                 id="fulfilment-pick-string"),
    pytest.param(Row("POST", "/v1/fulfilments/{ff}/pick",
                     {"lines": [{"line_id": "1", "picked": 1}, {"line_id": "1", "picked": 0}]},
                     code="duplicate_line_id", field="lines.1.line_id"),
                 id="fulfilment-pick-duplicate-line"),
    pytest.param(Row("POST", "/v1/fulfilments/{ff}/ship", {}, code="carrier_required",
                     field="carrier"), id="fulfilment-ship-without-carrier"),
    pytest.param(Row("POST", "/v1/fulfilments/{ff}/ship", {"carrier": ""}, field="carrier"),
                 id="fulfilment-ship-empty-carrier"),
    pytest.param(Row("POST", "/v1/fulfilments/{ff}/ship", {"parcels": [{}]},
                     field="parcels.0.carrier"), id="fulfilment-ship-parcel-without-carrier"),
    pytest.param(Row("POST", "/v1/fulfilments/{ff}/ship", field="body"),
                 id="fulfilment-ship-no-body"),
    # -- locations -------------------------------------------------------------------------------
    pytest.param(Row("PUT", "/v1/locations/X1", {**DC1, "address": {**DC1["address"], "lat": 91}},
                     field="address.lat"), id="location-lat-91"),
    pytest.param(Row("PUT", "/v1/locations/X1", {**DC1, "type": "warehouse"}, field="type"),
                 id="location-bad-type"),
    pytest.param(Row("PUT", "/v1/locations/X1", {**DC1, "capabilities": ["ship", "teleport"]},
                     field="capabilities.1"), id="location-bad-capability"),
    pytest.param(Row("PUT", "/v1/locations/X1", {**DC1, "status": "open"}, field="status"),
                 id="location-bad-status"),
    pytest.param(Row("PUT", "/v1/locations/X1", without(DC1, "name"), field="name"),
                 id="location-missing-name"),
    pytest.param(Row("PUT", "/v1/locations/X1", without(DC1, "address"), field="address"),
                 id="location-missing-address"),
    pytest.param(Row("PUT", "/v1/locations/X1", {**DC1, "handling_cost": -1},
                     field="handling_cost"), id="location-negative-handling-cost"),
    pytest.param(Row("PUT", "/v1/locations/X1", {**DC1, "capacity": {"orders_per_day": -1}},
                     field="capacity.orders_per_day"), id="location-negative-capacity"),
    pytest.param(Row("PUT", "/v1/locations/X1", {**DC1, "address": {**DC1["address"], "zip": 1}},
                     field="address.zip"), id="location-address-extra-field"),
    pytest.param(Row("PUT", "/v1/locations/X1",
                     {**DC1, "address": {"postal_code": "00000", "country": "US"}},
                     code="address_not_geocodable", field="address.postal_code"),
                 id="location-not-geocodable"),
    pytest.param(Row("PUT", "/v1/locations/a%20b", DC1, field="path.location_id"),
                 id="location-id-pattern"),
    pytest.param(Row("GET", "/v1/locations/NOPE", status=404, code="location_not_found"),
                 id="location-get-unknown"),
    # -- products ----------------------------------------------------------------------------
    pytest.param(Row("PUT", "/v1/products/X1", {}, field="name"), id="product-missing-name"),
    pytest.param(Row("PUT", "/v1/products/X1", {"name": "x", "weight_kg": "heavy"},
                     field="weight_kg"), id="product-weight-string"),
    pytest.param(Row("PUT", "/v1/products/X1", {"name": "x", "weight_kg": -1}, field="weight_kg"),
                 id="product-weight-negative"),
    pytest.param(Row("PUT", "/v1/products/X1", {"name": "x", "tags": "hazmat"}, field="tags"),
                 id="product-tags-not-list"),
    pytest.param(Row("GET", "/v1/products/NOPE", status=404, code="product_not_found"),
                 id="product-get-unknown"),
    pytest.param(Row("POST", "/v1/products/batch", {"products": []}, field="products"),
                 id="batch-empty"),
    pytest.param(Row("POST", "/v1/products/batch", [{"sku": "X", "name": "x"}], field="body"),
                 id="batch-json-array"),
    pytest.param(Row("POST", "/v1/products/batch",
                     {"products": [{"sku": "X1", "name": "x"}, {"name": "y"}]},
                     field="products.1.sku"), id="batch-item-missing-sku"),
    # -- inventory adjustments -------------------------------------------------------------------
    pytest.param(Row("POST", "/v1/inventory/adjustments", adjustment(sku="NOPE"),
                     code="unknown_sku", field="adjustments.0.sku"), id="adjust-unknown-sku"),
    pytest.param(Row("POST", "/v1/inventory/adjustments", adjustment(location_id="NOPE"),
                     code="unknown_location", field="adjustments.0.location_id"),
                 id="adjust-unknown-location"),
    pytest.param(Row("POST", "/v1/inventory/adjustments", adjustment(delta=1.5),
                     field="adjustments.0.delta"), id="adjust-delta-float"),
    pytest.param(Row("POST", "/v1/inventory/adjustments", adjustment(delta="5"),
                     field="adjustments.0.delta"), id="adjust-delta-string"),
    pytest.param(Row("POST", "/v1/inventory/adjustments", adjustment(delta=10**12),
                     field="adjustments.0.delta"), id="adjust-delta-huge"),
    pytest.param(Row("POST", "/v1/inventory/adjustments", adjustment(delta=-1000),
                     code="on_hand_negative", field="adjustments.0.delta"),
                 id="adjust-on-hand-negative"),
    pytest.param(Row("POST", "/v1/inventory/adjustments", adjustment(reason="theft"),
                     field="adjustments.0.reason"), id="adjust-bad-reason"),
    pytest.param(Row("POST", "/v1/inventory/adjustments",
                     {"adjustments": [{"location_id": "DC1", "sku": "A", "delta": 1}]},
                     field="adjustments.0.id"), id="adjust-missing-id"),
    pytest.param(Row("POST", "/v1/inventory/adjustments", {"adjustments": []},
                     field="adjustments"), id="adjust-empty"),
    # -- inventory snapshots ---------------------------------------------------------------------
    pytest.param(Row("POST", "/v1/inventory/snapshots", snap(as_of="2026-01-01T00:00:00"),
                     field="as_of"), id="snapshot-naive-as-of"),
    pytest.param(Row("POST", "/v1/inventory/snapshots", snap(as_of="yesterday"), field="as_of"),
                 id="snapshot-as-of-garbage"),
    pytest.param(Row("POST", "/v1/inventory/snapshots", snap(as_of="9999-12-31T23:59:59-14:00"),
                     field="as_of"), id="snapshot-as-of-past-max",
                 ),
    pytest.param(Row("POST", "/v1/inventory/snapshots", snap(as_of="0001-01-01T00:00:00+01:00"),
                     field="as_of"), id="snapshot-as-of-before-min",
                 ),
    pytest.param(Row("POST", "/v1/inventory/snapshots", snap(location_id="NOPE"),
                     code="unknown_location", field="location_id"), id="snapshot-unknown-location"),
    pytest.param(Row("POST", "/v1/inventory/snapshots",
                     snap(items=[{"sku": "A", "on_hand": 1}, {"sku": "NOPE", "on_hand": 1}]),
                     code="unknown_sku", field="items.1.sku"), id="snapshot-unknown-sku"),
    pytest.param(Row("POST", "/v1/inventory/snapshots",
                     snap(items=[{"sku": "A", "on_hand": 1}, {"sku": "A", "on_hand": 2}]),
                     code="duplicate_sku", field="items.1.sku"), id="snapshot-duplicate-sku"),
    pytest.param(Row("POST", "/v1/inventory/snapshots", snap(items=[{"sku": "A", "on_hand": -1}]),
                     field="items.0.on_hand"), id="snapshot-negative-on-hand"),
    pytest.param(Row("POST", "/v1/inventory/snapshots", snap(items=[]), field="items"),
                 id="snapshot-empty-items"),
    # -- inventory positions ---------------------------------------------------------------------
    pytest.param(Row("GET", "/v1/inventory/NOPE", status=404, code="product_not_found"),
                 id="inventory-unknown-sku"),
    pytest.param(Row("GET", "/v1/inventory/a%20b", field="path.sku"), id="inventory-sku-pattern"),
    # -- tokens ------------------------------------------------------------------------------------
    pytest.param(Row("POST", "/v1/tokens", {"name": "t", "role": "god"}, field="role"),
                 id="token-bad-role"),
    pytest.param(Row("POST", "/v1/tokens", {"role": "viewer"}, field="name"),
                 id="token-missing-name"),
    pytest.param(Row("POST", "/v1/tokens", {"name": "t", "role": "viewer", "channels": ["a b"]},
                     field="channels.0"), id="token-bad-channel"),
    pytest.param(Row("POST", "/v1/tokens", {"name": "t", "role": "viewer", "expires": 1},
                     field="expires"), id="token-extra-field"),
    # -- list filters and limits -------------------------------------------------------------------
    pytest.param(Row("GET", "/v1/orders?limit=0", field="query.limit"), id="orders-limit-0"),
    pytest.param(Row("GET", "/v1/orders?limit=100000", field="query.limit"),
                 id="orders-limit-100000"),
    pytest.param(Row("GET", "/v1/orders?limit=ten", field="query.limit"), id="orders-limit-text"),
    pytest.param(Row("GET", "/v1/orders?cursor=" + "c" * 65, field="query.cursor"),
                 id="orders-cursor-too-long"),
    pytest.param(Row("GET", "/v1/orders?status=teleported", field="query.status"),
                 id="orders-unknown-status"),
    pytest.param(Row("GET", "/v1/fulfilments?limit=0", field="query.limit"),
                 id="fulfilments-limit-0"),
    pytest.param(Row("GET", "/v1/fulfilments?limit=100000", field="query.limit"),
                 id="fulfilments-limit-100000"),
    pytest.param(Row("GET", "/v1/fulfilments?status=teleported", field="query.status"),
                 id="fulfilments-unknown-status"),
    pytest.param(Row("GET", "/v1/products?limit=0", field="query.limit"), id="products-limit-0"),
    pytest.param(Row("GET", "/v1/products?limit=100000", field="query.limit"),
                 id="products-limit-100000"),
    # -- routing and transport ---------------------------------------------------------------------
    pytest.param(Row("GET", "/v1/nothing-here", status=404, code="not_found"),
                 id="unknown-route"),
    pytest.param(Row("DELETE", "/v1/orders", status=405, code="method_not_allowed"),
                 id="method-not-allowed"),
    pytest.param(Row("POST", "/v1/orders", b'{"external_id": "' + b"x" * MAX_BODY + b'"}',
                     status=413, code="body_too_large"), id="oversize-body"),
    pytest.param(Row("PUT", "/v1/products/BIG",
                     {"name": "x", "attributes": {"blob": "y" * MAX_BODY}},
                     status=413, code="body_too_large"), id="oversize-product"),
]
# fmt: on


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """One seeded API for the whole table: every row is rejected, so none changes state."""
    with running_client(tmp_path_factory.mktemp("errors")) as client:
        seed(client)
        order = place(client)
        ids = {"order": order["id"], "ff": order["fulfilments"][0]["id"]}
        yield client, ids


def send(client: TestClient, row: Row, ids: dict[str, str]) -> Any:
    path = row.path.format(**ids)
    headers = {**H, **row.headers}
    if row.body is NO_BODY:
        return client.request(row.method, path, headers=headers)
    if isinstance(row.body, bytes):
        headers["Content-Type"] = "application/json"
        return client.request(row.method, path, content=row.body, headers=headers)
    return client.request(row.method, path, json=row.body, headers=headers)


def test_table_is_big_enough() -> None:
    assert len(TABLE) >= 40


@pytest.mark.parametrize("row", TABLE)
def test_bad_request(world: tuple[TestClient, dict[str, str]], row: Row) -> None:
    client, ids = world
    resp = send(client, row, ids)
    assert_error(resp, row.status, row.code, row.field)
    if row.status == 422:
        assert "field" in resp.json()["error"]["details"], resp.text


def test_table_left_the_seed_untouched(world: tuple[TestClient, dict[str, str]]) -> None:
    """After every rejected row, only the seeded order exists and stock is as seeded."""
    client, ids = world
    orders = ok(client.get("/v1/orders", headers=H))["items"]
    assert [o["id"] for o in orders] == [ids["order"]]
    assert orders[0]["status"] == "allocated"
    assert orders[0]["fulfilments"][0]["status"] == "released"
    for sku in ("A", "B"):
        positions = {
            p["location_id"]: p
            for p in ok(client.get(f"/v1/inventory/{sku}", headers=H))["positions"]
        }
        assert positions["DC1"]["on_hand"] == 10
        assert positions["S1"]["on_hand"] == 5
    assert (
        ok(client.get("/v1/locations/X1", headers=H), 404)["error"]["code"] == "location_not_found"
    )
    assert ok(client.get("/v1/products/X1", headers=H), 404)["error"]["code"] == "product_not_found"
    assert (
        ok(client.get("/v1/products/BIG", headers=H), 404)["error"]["code"] == "product_not_found"
    )


# -- requests the test client cannot express as a table row ----------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with running_client(tmp_path) as c:
        seed(c)
        yield c


def test_oversize_chunked_body_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"external_id": "'
        for _ in range(MAX_BODY // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    resp = client.post(
        "/v1/orders", content=chunks(), headers={**H, "Content-Type": "application/json"}
    )
    assert_error(resp, 413, "body_too_large")


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_deeply_nested_customer_is_422(client: TestClient) -> None:
    body = json.dumps(order_body(external_id="DEEP-1")).replace(
        '"customer": {"id": "C-1"}', '"customer": ' + _nested(300)
    )
    resp = client.post(
        "/v1/orders", content=body.encode(), headers={**H, "Content-Type": "application/json"}
    )
    assert_error(resp, 422, "validation_error", "customer")


def test_deeply_nested_attributes_are_422_and_not_stored(client: TestClient) -> None:
    body = '{"name": "deep", "attributes": ' + _nested(300) + "}"
    resp = client.put(
        "/v1/products/DEEP",
        content=body.encode(),
        headers={**H, "Content-Type": "application/json"},
    )
    assert_error(resp, 422, "validation_error", "attributes")
    assert client.get("/v1/products/DEEP", headers=H).status_code == 404
    assert client.get("/v1/products", headers=H).status_code == 200


def test_json_nested_beyond_the_parser_is_422(client: TestClient) -> None:
    body = '{"name": "deep", "attributes": ' + _nested(5000) + "}"
    resp = client.put(
        "/v1/products/DEEP",
        content=body.encode(),
        headers={**H, "Content-Type": "application/json"},
    )
    assert_error(resp, 422, "validation_error", "body")


# -- nothing half-written ------------------------------------------------------------------------


def _positions(client: TestClient, sku: str) -> dict[str, dict[str, int]]:
    body = ok(client.get(f"/v1/inventory/{sku}", headers=H))
    return {p["location_id"]: p for p in body["positions"]}


@pytest.mark.parametrize(
    ("bad", "code", "field"),
    [
        ({"sku": "NOPE"}, "unknown_sku", "adjustments.2.sku"),
        ({"location_id": "NOPE"}, "unknown_location", "adjustments.2.location_id"),
        ({"delta": -1000}, "on_hand_negative", "adjustments.2.delta"),
    ],
    ids=["unknown-sku", "unknown-location", "on-hand-negative"],
)
def test_rejected_adjustment_batch_applies_nothing(
    client: TestClient, bad: dict[str, Any], code: str, field: str
) -> None:
    before_a, before_b = _positions(client, "A"), _positions(client, "B")
    items = [
        {"id": "batch-1", "location_id": "DC1", "sku": "A", "delta": 4, "reason": "receipt"},
        {"id": "batch-2", "location_id": "S1", "sku": "B", "delta": 2, "reason": "receipt"},
        {"id": "batch-3", "location_id": "DC1", "sku": "B", "delta": 1, **bad},
    ]
    resp = client.post("/v1/inventory/adjustments", json={"adjustments": items}, headers=H)
    assert_error(resp, 422, code, field)
    assert _positions(client, "A") == before_a
    assert _positions(client, "B") == before_b

    # The ids of items 1-2 were not consumed either: the corrected batch applies all three.
    items[2] = {"id": "batch-3", "location_id": "DC1", "sku": "B", "delta": 1}
    fixed = ok(client.post("/v1/inventory/adjustments", json={"adjustments": items}, headers=H))
    assert fixed["skipped"] == []
    assert _positions(client, "A")["DC1"]["on_hand"] == before_a["DC1"]["on_hand"] + 4
    assert _positions(client, "B")["S1"]["on_hand"] == before_b["S1"]["on_hand"] + 2
    assert _positions(client, "B")["DC1"]["on_hand"] == before_b["DC1"]["on_hand"] + 1


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (
            {"lines": [line(quantity=2), line(line_id="2", sku="NOPE")]},
            "unknown_sku",
            "lines.1.sku",
        ),
        (
            {"delivery": {"method": "pickup", "pickup_location_id": "NOPE"}},
            "unknown_location",
            "delivery.pickup_location_id",
        ),
        (
            {"delivery": {"method": "pickup", "pickup_location_id": "DC1"}},
            "capability_missing",
            "delivery.pickup_location_id",
        ),
        (
            {"delivery": {"method": "ship", "address": {"postal_code": "ZZZ", "country": "US"}}},
            "address_not_geocodable",
            "delivery.address.postal_code",
        ),
        (
            {"lines": [line(quantity=2), line(sku="B")]},
            "duplicate_line_id",
            "lines.1.line_id",
        ),
    ],
    ids=[
        "unknown-sku",
        "unknown-pickup-location",
        "pickup-not-offered",
        "not-geocodable",
        "dup-line",
    ],
)
def test_rejected_order_leaves_no_order_and_no_reservation(
    client: TestClient, change: dict[str, Any], code: str, field: str
) -> None:
    before = {sku: _positions(client, sku) for sku in ("A", "B")}
    body = {
        **order_body(external_id="HALF-1", lines=[line(quantity=2), line(line_id="2", sku="B")]),
        **change,
    }
    resp = client.post("/v1/orders", json=body, headers={**H, "Idempotency-Key": "half-1"})
    assert_error(resp, 422, code, field)

    assert ok(client.get("/v1/orders", headers=H))["items"] == []
    assert ok(client.get("/v1/orders?external_id=HALF-1", headers=H))["items"] == []
    assert {sku: _positions(client, sku) for sku in ("A", "B")} == before

    # Neither the external id nor the Idempotency-Key was taken: the corrected order is new.
    fixed = order_body(external_id="HALF-1", lines=[line(quantity=2), line(line_id="2", sku="B")])
    created = client.post("/v1/orders", json=fixed, headers={**H, "Idempotency-Key": "half-1"})
    assert created.status_code == 201, created.text


def test_reused_idempotency_key_creates_nothing(client: TestClient) -> None:
    first = client.post(
        "/v1/orders", json=order_body(external_id="IK-1"), headers={**H, "Idempotency-Key": "k"}
    )
    assert first.status_code == 201, first.text
    reserved = _positions(client, "A")
    other = order_body(external_id="IK-2", lines=[line(quantity=3)])
    resp = client.post("/v1/orders", json=other, headers={**H, "Idempotency-Key": "k"})
    assert_error(resp, 422, "idempotency_key_reused", "Idempotency-Key")
    assert [o["external_id"] for o in ok(client.get("/v1/orders", headers=H))["items"]] == ["IK-1"]
    assert _positions(client, "A") == reserved


# -- state conflicts (409) -------------------------------------------------------------------------


def test_ship_a_released_fulfilment_is_invalid_transition(client: TestClient) -> None:
    order = place(client)
    fid = order["fulfilments"][0]["id"]
    resp = client.post(f"/v1/fulfilments/{fid}/ship", json={"carrier": "ups"}, headers=H)
    err = assert_error(resp, 409, "invalid_transition")
    assert err["details"]["current"] == "released"
    assert err["details"]["requested"] == "shipped"
    assert ok(client.get(f"/v1/fulfilments/{fid}", headers=H))["status"] == "released"


def _ship(client: TestClient, fid: str) -> None:
    ok(client.post(f"/v1/fulfilments/{fid}/accept", headers=H))
    ok(client.post(f"/v1/fulfilments/{fid}/pick", json={}, headers=H))
    ok(
        client.post(
            f"/v1/fulfilments/{fid}/ship",
            json={"carrier": "ups", "tracking_number": "1Z"},
            headers=H,
        )
    )


def test_cancel_a_shipped_order_is_order_already_shipped(client: TestClient) -> None:
    order = place(client)
    _ship(client, order["fulfilments"][0]["id"])
    resp = client.post(
        f"/v1/orders/{order['id']}/cancel", json={"reason": "changed mind"}, headers=H
    )
    assert_error(resp, 409, "order_already_shipped")
    after = ok(client.get(f"/v1/orders/{order['id']}", headers=H))
    assert after["status"] == "shipped"
    assert after["lines"][0]["shipped"] == 1
    assert after["lines"][0]["cancelled"] == 0


def test_ship_again_is_invalid_transition(client: TestClient) -> None:
    order = place(client)
    fid = order["fulfilments"][0]["id"]
    _ship(client, fid)
    resp = client.post(f"/v1/fulfilments/{fid}/ship", json={"carrier": "ups"}, headers=H)
    err = assert_error(resp, 409, "invalid_transition")
    assert (err["details"]["current"], err["details"]["requested"]) == ("shipped", "shipped")


def test_cancel_more_units_than_cancellable_is_not_cancellable(client: TestClient) -> None:
    order = place(client, lines=[line(quantity=2)])
    resp = client.post(
        f"/v1/orders/{order['id']}/cancel",
        json={"lines": [{"line_id": "1", "quantity": 3}]},
        headers=H,
    )
    err = assert_error(resp, 409, "not_cancellable")
    assert err["details"]["cancellable"] == 2
    assert err["details"]["requested"] == 3
    after = ok(client.get(f"/v1/orders/{order['id']}", headers=H))
    assert after["lines"][0]["cancelled"] == 0
    assert after["lines"][0]["allocated"] == 2


def test_ready_for_pickup_on_a_ship_order_is_delivery_method_mismatch(client: TestClient) -> None:
    order = place(client, method="ship")
    fid = order["fulfilments"][0]["id"]
    ok(client.post(f"/v1/fulfilments/{fid}/accept", headers=H))
    resp = client.post(f"/v1/fulfilments/{fid}/ready-for-pickup", headers=H)
    err = assert_error(resp, 409, "delivery_method_mismatch")
    assert err["details"]["method"] == "ship"
    assert ok(client.get(f"/v1/fulfilments/{fid}", headers=H))["status"] == "accepted"


def test_ship_a_pickup_order_is_delivery_method_mismatch(client: TestClient) -> None:
    order = place(client, method="pickup")
    fid = order["fulfilments"][0]["id"]
    ok(client.post(f"/v1/fulfilments/{fid}/accept", headers=H))
    ok(client.post(f"/v1/fulfilments/{fid}/pick", json={}, headers=H))
    resp = client.post(f"/v1/fulfilments/{fid}/ship", json={"carrier": "ups"}, headers=H)
    assert_error(resp, 409, "delivery_method_mismatch")


def test_hold_an_already_held_order_is_409(client: TestClient) -> None:
    order = place(client)
    held = ok(
        client.post(f"/v1/orders/{order['id']}/hold", json={"reason": "fraud check"}, headers=H)
    )
    assert held["on_hold"] is True
    resp = client.post(f"/v1/orders/{order['id']}/hold", headers=H)
    assert_error(resp, 409, "already_on_hold")
    ok(client.post(f"/v1/orders/{order['id']}/release", headers=H))
    resp = client.post(f"/v1/orders/{order['id']}/release", headers=H)
    assert_error(resp, 409, "not_on_hold")


def test_cancel_a_cancelled_order_is_invalid_transition(client: TestClient) -> None:
    order = place(client)
    ok(client.post(f"/v1/orders/{order['id']}/cancel", headers=H))
    resp = client.post(f"/v1/orders/{order['id']}/cancel", headers=H)
    err = assert_error(resp, 409, "invalid_transition")
    assert (err["details"]["current"], err["details"]["requested"]) == ("cancelled", "cancelled")
    resp = client.post(f"/v1/orders/{order['id']}/hold", headers=H)
    assert_error(resp, 409, "invalid_transition")


def test_pick_before_accept_is_invalid_transition(client: TestClient) -> None:
    order = place(client)
    fid = order["fulfilments"][0]["id"]
    resp = client.post(f"/v1/fulfilments/{fid}/pick", json={}, headers=H)
    err = assert_error(resp, 409, "invalid_transition")
    assert (err["details"]["current"], err["details"]["requested"]) == ("released", "picked")


def test_pick_more_than_asked_is_422(client: TestClient) -> None:
    order = place(client, lines=[line(quantity=2)])
    fid = order["fulfilments"][0]["id"]
    ok(client.post(f"/v1/fulfilments/{fid}/accept", headers=H))
    resp = client.post(
        f"/v1/fulfilments/{fid}/pick", json={"lines": [{"line_id": "1", "picked": 3}]}, headers=H
    )
    assert_error(resp, 422, "picked_exceeds_quantity", "lines.0.picked")
    resp = client.post(
        f"/v1/fulfilments/{fid}/pick", json={"lines": [{"line_id": "9", "picked": 0}]}, headers=H
    )
    assert_error(resp, 422, "unknown_line", "lines.0.line_id")
    assert ok(client.get(f"/v1/fulfilments/{fid}", headers=H))["status"] == "accepted"


def test_ship_address_is_used(client: TestClient) -> None:
    """Guard for the fixtures: the default order ships and is allocated."""
    order = place(client)
    assert order["status"] == "allocated"
    assert order["delivery"]["address"]["postal_code"] == SHIP_ADDRESS["postal_code"]


# -- NUL characters, on every storage backend ------------------------------------------------

NUL = "a\u0000b"
NUL_CASES: list[tuple[str, str, Any]] = [
    ("PUT", "/v1/products/N1", {"name": NUL}),
    ("PUT", "/v1/products/N2", {"name": "n", "attributes": {"k": NUL}}),
    ("PUT", "/v1/locations/N1", {**DC1, "name": NUL}),
    ("POST", "/v1/orders", order_body(external_id=NUL)),
    ("POST", "/v1/orders", {**order_body(), "customer": {"name": NUL}}),
    ("POST", "/v1/orders", order_body(lines=[line(line_id=NUL)])),
    (
        "POST",
        "/v1/inventory/adjustments",
        {"adjustments": [{"id": NUL, "location_id": "DC1", "sku": "A", "delta": 1}]},
    ),
    ("POST", "/v1/tokens", {"name": NUL, "role": "viewer"}),
    ("GET", "/v1/orders/a%00b", None),
    ("GET", "/v1/fulfilments/a%00b", None),
    ("GET", "/v1/orders?external_id=a%00b", None),
    ("GET", "/v1/orders?status=a%00b", None),
    ("GET", "/v1/orders?cursor=a%00b", None),
    ("GET", "/v1/fulfilments?location_id=a%00b", None),
    ("GET", "/v1/products?cursor=a%00b", None),
]


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[pytest.mark.postgres],
        ),
    ],
)
def test_nul_characters_are_never_a_500(request: pytest.FixtureRequest, backend: str) -> None:
    url: str = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    server_errors = []
    with running_client(url=url) as api:
        seed(api)
        for method, path, body in NUL_CASES:
            resp = api.request(method, path, json=body, headers=H)
            if resp.status_code >= 500:
                server_errors.append((method, path, resp.status_code))
            elif resp.status_code >= 400:
                assert_envelope(resp)
    assert server_errors == []
