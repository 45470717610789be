"""POST /v1/connectors/shopify/orders: Shopify's orders/create webhook, signed with the
configured secret, places an order on channel `shopify` once, however often it is delivered.

Shopify sends no bearer token: the HMAC of the raw body is the only authentication, and
this is the one /v1 path the token gate lets through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.e2e.conftest import NEW_YORK, Api, seed
from tests.e2e.helpers_errors import assert_error
from tests.samples.shopify_sample import (
    ORDER_ID,
    SECRET,
    SHOES,
    SHOES_SKU,
    TEE,
    TEE_SKU,
    delivery_headers,
    hmac_header,
    shopify_order,
)

from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints.api.app import create_app
from ordergrid.settings import Settings

PATH = "/v1/connectors/shopify/orders"
#: The Shopify location of the New York store's till.
NYC_TILL = 61440745603


@pytest.fixture
def shop(database_url: str) -> Iterator[Api]:
    app = bootstrap(
        Settings(
            database_url=database_url,
            admin_token="admin-secret",
            auto_migrate=True,
            shopify_webhook_secret=SECRET,
            shopify_pickup_locations={str(NYC_TILL): "ST-NYC"},
        )
    )
    with TestClient(create_app(app)) as client:
        api = Api(client, app)
        seed(api)
        products = [
            {"sku": TEE_SKU, "name": "Harbor & Pine Graphic Tee, Navy", "weight_kg": 0.2},
            {"sku": SHOES_SKU, "name": "Stridewell Running Shoes, Black", "weight_kg": 0.87},
        ]
        assert api.post("/v1/products/batch", {"products": products}).status_code == 200
        for n, (location, sku) in enumerate(
            [("ST-NYC", TEE_SKU), ("ST-NYC", SHOES_SKU), ("DC-ATL", TEE_SKU), ("DC-ATL", SHOES_SKU)]
        ):
            api.stock(location, sku, 10, f"receipt-{n}")
        yield api
    app.close()


def deliver(api: Api, order: dict[str, Any] | bytes, **headers: Any) -> httpx.Response:
    """POST as Shopify does: no Authorization header, the body's HMAC in the headers."""
    body = order if isinstance(order, bytes) else json.dumps(order).encode()
    return api.client.post(PATH, content=body, headers=delivery_headers(body, **headers))


def reserved(api: Api, sku: str) -> int:
    return sum(p["reserved"] for p in api.get(f"/v1/inventory/{sku}").json()["positions"])


def shopify_orders(api: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/v1/orders?channel=shopify").json()["items"]
    return items


def test_a_signed_order_is_placed_and_allocated_on_channel_shopify(shop: Api) -> None:
    r = deliver(shop, shopify_order())
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["channel"], order["external_id"], order["status"]) == (
        "shopify",
        ORDER_ID,
        "allocated",
    )
    lines = [(x["line_id"], x["sku"], x["quantity"], x["allocated"]) for x in order["lines"]]
    assert lines == [(TEE, TEE_SKU, 2, 2), (SHOES, SHOES_SKU, 1, 1)]
    assert [x["unit_price"] for x in order["lines"]] == [24.99, 129.0]
    assert order["delivery"] == {
        "method": "ship",
        "service_level": "standard",
        "address": {
            "line1": "350 5th Ave",
            "line2": "Suite 4100",
            "city": "New York",
            "region": "NY",
            "postal_code": "10118",
            "country": "US",
            "lat": 40.7484405,
            "lon": -73.9856644,
        },
    }
    assert order["tags"] == ["spring-sale", "vip"]
    assert order["customer"] == {"id": "7198341726339", "email": "maria.lopez@example.com"}
    assert (reserved(shop, TEE_SKU), reserved(shop, SHOES_SKU)) == (2, 1)
    events = shop.get(f"/v1/orders/{order['id']}/events").json()
    assert events[0]["type"] == "order.received"
    assert events[0]["actor"] == "shopify:harbor-pine.myshopify.com"


def test_a_repeated_delivery_answers_the_same_order_and_reserves_once(shop: Api) -> None:
    first = deliver(shop, shopify_order())
    assert first.status_code == 201, first.text
    retry = deliver(shop, shopify_order())  # Shopify's retry: the same X-Shopify-Webhook-Id
    other = deliver(shop, shopify_order(), webhook_id="0e8a3c5f-6d0b-4e0f-9a4e-4f2b1c7d9e21")
    for again in (retry, other):
        assert again.status_code == 200, again.text
        assert again.json()["id"] == first.json()["id"]
    assert (reserved(shop, TEE_SKU), reserved(shop, SHOES_SKU)) == (2, 1)
    assert [o["id"] for o in shopify_orders(shop)] == [first.json()["id"]]


def test_simultaneous_deliveries_of_one_order_place_it_once(shop: Api) -> None:
    """Two subscriptions, or a retry racing a slow first answer: the unique (channel,
    external id) settles it, and the losers answer with the winner's order."""
    body = json.dumps(shopify_order()).encode()
    headers = [delivery_headers(body, webhook_id=f"webhook-{n}") for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda h: shop.client.post(PATH, content=body, headers=h), headers))
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert len(shopify_orders(shop)) == 1
    assert (reserved(shop, TEE_SKU), reserved(shop, SHOES_SKU)) == (2, 1)


def test_the_signature_is_checked_over_the_bytes_as_sent(shop: Api) -> None:
    """Indentation and non-ASCII text stay as Shopify wrote them: nothing is re-serialised."""
    order = shopify_order()
    order["shipping_address"]["address2"] = "Bureau 4100, 5ᵉ étage"
    body = json.dumps(order, indent=2, ensure_ascii=False).encode()
    r = deliver(shop, body)
    assert r.status_code == 201, r.text
    assert r.json()["delivery"]["address"]["line2"] == "Bureau 4100, 5ᵉ étage"


def test_a_wrong_signature_is_401_and_places_nothing(shop: Api) -> None:
    body = json.dumps(shopify_order()).encode()
    tampered = body.replace(b'"quantity": 2', b'"quantity": 20')
    for sent, headers in [
        (body, delivery_headers(body, secret="another-shops-secret")),
        (tampered, delivery_headers(body)),
    ]:
        r = shop.client.post(PATH, content=sent, headers=headers)
        assert_error(r, 401, "shopify_signature_invalid")
    assert shopify_orders(shop) == []
    assert reserved(shop, TEE_SKU) == 0


def test_a_missing_signature_is_401(shop: Api) -> None:
    body = json.dumps(shopify_order()).encode()
    headers = delivery_headers(body)
    del headers["X-Shopify-Hmac-Sha256"]
    assert_error(
        shop.client.post(PATH, content=body, headers=headers), 401, "shopify_signature_missing"
    )
    assert shopify_orders(shop) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/orders"),
        ("GET", "/v1/orders"),
        ("POST", "/v1/connectors/shopify/orders/"),
        ("POST", "/v1/connectors/shopify/orders/extra"),
        ("POST", "/v1/connectors/shopify"),
        ("GET", "/v1/connectors/shopify/orders/../../orders"),
    ],
)
def test_every_other_v1_path_still_needs_a_bearer_token(shop: Api, method: str, path: str) -> None:
    """Even with a valid Shopify signature: only the connector's exact path is let through."""
    body = json.dumps(shopify_order()).encode()
    r = shop.client.request(method, path, content=body, headers=delivery_headers(body))
    assert_error(r, 401, "unauthorized")


def test_another_topic_is_refused(shop: Api) -> None:
    r = deliver(shop, shopify_order(), topic="orders/updated")
    err = assert_error(r, 422, "shopify_topic_unsupported", field="X-Shopify-Topic")
    assert err["details"]["topic"] == "orders/updated"
    assert shopify_orders(shop) == []


def test_a_malformed_body_is_422_naming_the_shopify_field(shop: Api) -> None:
    order = shopify_order()
    order["line_items"][1]["quantity"] = "one"
    assert_error(deliver(shop, order), 422, "validation_error", field="line_items[1].quantity")
    assert_error(deliver(shop, b"{not json"), 422, "validation_error", field="body")


def test_an_unknown_sku_is_the_orders_api_refusal_naming_the_line_item(shop: Api) -> None:
    order = shopify_order()
    order["line_items"].insert(0, order["line_items"].pop())  # the gift card first
    order["line_items"][2]["sku"] = "SKU-99999"
    assert_error(deliver(shop, order), 422, "unknown_sku", field="line_items[2].sku")
    same_via_orders_api = shop.post(
        "/v1/orders",
        {
            "external_id": "X-1",
            "channel": "web",
            "delivery": {"method": "ship", "address": NEW_YORK},
            "lines": [{"line_id": "1", "sku": "SKU-99999", "quantity": 1}],
        },
    )
    assert_error(same_via_orders_api, 422, "unknown_sku", field="lines.0.sku")
    assert shopify_orders(shop) == []


def test_an_address_that_cannot_be_located_names_the_zip(shop: Api) -> None:
    order = shopify_order()
    order["shipping_address"].update(zip="00000", latitude=None, longitude=None)
    assert_error(deliver(shop, order), 422, "address_not_geocodable", field="shipping_address.zip")


def test_without_coordinates_the_zip_is_geocoded(shop: Api) -> None:
    order = shopify_order()
    order["shipping_address"].update(latitude=None, longitude=None)
    r = deliver(shop, order)
    assert r.status_code == 201, r.text
    address = r.json()["delivery"]["address"]
    assert round(address["lat"]) == 41
    assert round(address["lon"]) == -74


def test_a_cancelled_order_is_acknowledged_and_places_nothing(shop: Api) -> None:
    order = shopify_order()
    order.update(cancelled_at="2026-03-02T10:20:00-05:00", cancel_reason="customer")
    r = deliver(shop, order)
    assert r.status_code == 202, r.text
    assert r.json() == {
        "outcome": "ignored",
        "external_id": ORDER_ID,
        "reason": "order_cancelled",
        "skipped_lines": [],
    }
    assert shopify_orders(shop) == []
    assert reserved(shop, TEE_SKU) == 0


def test_an_order_with_nothing_to_ship_is_acknowledged_and_places_nothing(shop: Api) -> None:
    order = shopify_order()
    order["line_items"] = order["line_items"][2:]  # the gift card alone
    r = deliver(shop, order)
    assert r.status_code == 202, r.text
    assert r.json()["reason"] == "nothing_to_fulfil"
    assert r.json()["skipped_lines"] == [{"line_item_id": "13703614472323", "reason": "gift_card"}]
    assert shopify_orders(shop) == []


def test_a_till_order_without_shipping_address_is_collected_at_the_mapped_store(shop: Api) -> None:
    order = shopify_order()
    order.update(shipping_address=None, shipping_lines=[], location_id=NYC_TILL, source_name="pos")
    r = deliver(shop, order)
    assert r.status_code == 201, r.text
    placed = r.json()
    assert placed["delivery"] == {
        "method": "pickup",
        "service_level": "standard",
        "pickup_location_id": "ST-NYC",
    }
    assert {f["location_id"] for f in placed["fulfilments"]} == {"ST-NYC"}


def test_an_order_without_address_or_known_store_is_refused(shop: Api) -> None:
    order = shopify_order()
    order.update(shipping_address=None, location_id=12345)
    assert_error(deliver(shop, order), 422, "pickup_location_unmapped", field="location_id")
    order["location_id"] = None
    assert_error(deliver(shop, order), 422, "shipping_address_required", field="shipping_address")


def test_without_a_configured_secret_the_connector_refuses_every_delivery(sqlite_url: str) -> None:
    app = bootstrap(
        Settings(database_url=sqlite_url, admin_token="admin-secret", auto_migrate=True)
    )
    with TestClient(create_app(app)) as client:
        body = json.dumps(shopify_order()).encode()
        r = client.post(PATH, content=body, headers=delivery_headers(body))
        assert_error(r, 503, "connector_not_configured")
        r = client.post(
            PATH, content=body, headers={"X-Shopify-Hmac-Sha256": hmac_header(body, "")}
        )
        assert_error(r, 503, "connector_not_configured")
    app.close()


# ---------------------------------------------------------------- orders/cancelled


def cancelled_order(**changes: Any) -> dict[str, Any]:
    """Shopify's body for `orders/cancelled`: the order with its cancellation, nothing
    left to fulfil."""
    order = shopify_order()
    order.update(cancelled_at="2026-03-02T10:20:00-05:00", cancel_reason="customer", **changes)
    for item in order["line_items"]:
        item["fulfillable_quantity"] = 0
    return order


def cancel_delivery(api: Api, order: dict[str, Any]) -> httpx.Response:
    return deliver(api, order, topic="orders/cancelled")


def test_a_cancellation_releases_what_the_order_reserved(shop: Api) -> None:
    placed = deliver(shop, shopify_order())
    assert placed.status_code == 201, placed.text
    r = cancel_delivery(shop, cancelled_order())
    assert r.status_code == 200, r.text
    order = r.json()
    assert (order["id"], order["status"]) == (placed.json()["id"], "cancelled")
    assert [x["cancelled"] for x in order["lines"]] == [2, 1]
    assert (reserved(shop, TEE_SKU), reserved(shop, SHOES_SKU)) == (0, 0)
    events = shop.get(f"/v1/orders/{order['id']}/events").json()
    [cancelled] = [e for e in events if e["type"] == "order.lines_cancelled"]
    assert cancelled["data"]["reason"] == "shopify: customer"
    assert cancelled["actor"] == "shopify:harbor-pine.myshopify.com"


def test_a_repeated_cancellation_answers_the_cancelled_order(shop: Api) -> None:
    deliver(shop, shopify_order())
    first = cancel_delivery(shop, cancelled_order())
    again = cancel_delivery(shop, cancelled_order())
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()


def test_a_cancellation_before_the_order_records_it_cancelled_and_the_order_reserves_nothing(
    shop: Api,
) -> None:
    """Shopify does not promise to deliver `orders/create` before `orders/cancelled`."""
    early = cancel_delivery(shop, cancelled_order())
    assert early.status_code == 200, early.text
    recorded = early.json()
    assert (recorded["external_id"], recorded["status"]) == (ORDER_ID, "cancelled")
    assert [(x["quantity"], x["cancelled"]) for x in recorded["lines"]] == [(2, 2), (1, 1)]
    late = deliver(shop, shopify_order())
    assert late.status_code == 200, late.text
    assert (late.json()["id"], late.json()["status"]) == (recorded["id"], "cancelled")
    assert (reserved(shop, TEE_SKU), reserved(shop, SHOES_SKU)) == (0, 0)
    assert shop.get(f"/v1/orders/{recorded['id']}/decisions").json() == []


def test_a_cancellation_after_everything_shipped_cancels_nothing(shop: Api) -> None:
    order = deliver(shop, shopify_order()).json()
    for f in order["fulfilments"]:
        shop.act(f["id"], "accept")
        shop.act(
            f["id"],
            "pick",
            {"lines": [{"line_id": x["line_id"], "picked": x["quantity"]} for x in f["lines"]]},
        )
        shop.act(f["id"], "ship", {"carrier": "ups", "tracking_number": "1Z999"})
    r = cancel_delivery(shop, cancelled_order())
    assert r.status_code == 202, r.text
    assert r.json() == {
        "outcome": "ignored",
        "external_id": ORDER_ID,
        "reason": "order_already_shipped",
        "skipped_lines": [],
    }
    assert shop.get(f"/v1/orders/{order['id']}").json()["status"] == "shipped"


def test_a_cancelled_order_ordergrid_could_not_take_is_acknowledged(shop: Api) -> None:
    unknown = cancelled_order()
    unknown["line_items"][0]["sku"] = "NOT-A-PRODUCT"
    r = cancel_delivery(shop, unknown)
    assert r.status_code == 202, r.text
    assert r.json()["reason"] == "order_unknown"
    assert shopify_orders(shop) == []


def test_a_cancellation_is_signed_like_an_order(shop: Api) -> None:
    body = json.dumps(cancelled_order()).encode()
    headers = delivery_headers(body, secret="another-secret", topic="orders/cancelled")
    r = shop.client.post(PATH, content=body, headers=headers)
    assert_error(r, 401, "shopify_signature_invalid")
    assert shopify_orders(shop) == []
