"""A Shopify `orders/create` body to the order ordergrid places: lines, address, service
level, tags, customer; what is skipped, what is refused and which field is named."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from tests.samples.shopify_sample import (
    GIFT_CARD,
    ORDER_ID,
    SECRET,
    SHOES,
    SHOES_SKU,
    TEE,
    TEE_SKU,
    shopify_order,
)

from ordergrid.adapters.connectors.shopify import (
    Ignored,
    Placement,
    ShopifyConnector,
    SkippedLine,
    check_topic,
)
from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.network import Address
from ordergrid.service.commands import LineInput
from ordergrid.settings import Settings

CONNECTOR = ShopifyConnector(SECRET, pickup_locations={"61440745603": "ST-NYC"})


def translate(
    order: dict[str, Any], connector: ShopifyConnector = CONNECTOR
) -> Placement | Ignored:
    return connector.translate(json.dumps(order).encode(), "harbor-pine.myshopify.com")


def placed(order: dict[str, Any], connector: ShopifyConnector = CONNECTOR) -> Placement:
    outcome = translate(order, connector)
    assert isinstance(outcome, Placement), outcome
    return outcome


def refused(order: dict[str, Any] | bytes) -> InvalidInput:
    body = order if isinstance(order, bytes) else json.dumps(order).encode()
    with pytest.raises(InvalidInput) as caught:
        CONNECTOR.translate(body)
    return caught.value


# -- the sample order ------------------------------------------------------------------------------


def test_the_sample_order_becomes_a_shopify_order_with_its_physical_lines() -> None:
    p = placed(shopify_order())
    cmd = p.command
    assert (cmd.channel, cmd.external_id) == ("shopify", ORDER_ID)
    assert cmd.lines == (
        LineInput(TEE, TEE_SKU, 2, Decimal("24.99")),
        LineInput(SHOES, SHOES_SKU, 1, Decimal("129.00")),
    )
    assert p.skipped == (SkippedLine(GIFT_CARD, "gift_card"),)
    assert (cmd.method, cmd.service_level, cmd.pickup_location_id) == ("ship", "standard", None)
    assert cmd.address == Address(
        line1="350 5th Ave",
        line2="Suite 4100",
        city="New York",
        region="NY",
        postal_code="10118",
        country="US",
        lat=40.7484405,
        lon=-73.9856644,
    )
    assert cmd.tags == frozenset({"vip", "spring-sale"})
    assert cmd.customer == {"id": "7198341726339", "email": "maria.lopez@example.com"}
    assert cmd.actor.name == "shopify:harbor-pine.myshopify.com"
    assert cmd.idempotency_key is None  # repeats are found by (channel, external id)


@pytest.mark.parametrize(
    ("domain", "actor"),
    [
        (None, "shopify"),
        ("", "shopify"),
        ("a shop\u2028", "shopify"),
        ("x.myshopify.com", "shopify:x.myshopify.com"),
    ],
)
def test_the_shop_domain_names_the_actor_only_when_it_is_a_host_name(
    domain: str | None, actor: str
) -> None:
    outcome = CONNECTOR.translate(json.dumps(shopify_order()).encode(), domain)
    assert isinstance(outcome, Placement)
    assert outcome.command.actor.name == actor


def test_an_order_id_beyond_double_precision_is_kept_exact() -> None:
    order = shopify_order()
    order["id"] = 820982911946154508
    assert placed(order).command.external_id == "820982911946154508"


# -- service level -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "title", "method", "level"),
    [
        ("Standard", "Standard Shipping", "ship", "standard"),
        ("EXPRESS", "Express Shipping", "ship", "express"),
        ("ups_next-day_air", None, "ship", "next_day"),
        (None, "Overnight", "ship", "next_day"),
        ("Same Day Delivery", "Same Day Delivery", "same_day", "standard"),
        ("Next Day Express", "Next Day Express", "ship", "next_day"),
        (None, None, "ship", "standard"),
    ],
)
def test_the_shipping_line_chooses_the_service_level(
    code: str | None, title: str | None, method: str, level: str
) -> None:
    order = shopify_order()
    order["shipping_lines"] = [{"code": code, "title": title, "source": "shopify"}]
    cmd = placed(order).command
    assert (cmd.method, cmd.service_level) == (method, level)


def test_an_order_without_shipping_lines_is_standard() -> None:
    order = shopify_order()
    order["shipping_lines"] = []
    assert placed(order).command.service_level == "standard"


def test_a_configured_table_replaces_the_default_one() -> None:
    connector = ShopifyConnector(SECRET, service_levels={"2nd day": "express"})
    order = shopify_order()
    order["shipping_lines"] = [{"code": "UPS 2nd Day Air", "title": "UPS 2nd Day Air"}]
    assert placed(order, connector).command.service_level == "express"
    order["shipping_lines"] = [{"code": "Express", "title": "Express"}]
    assert placed(order, connector).command.service_level == "standard"


def test_the_table_is_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ORDERGRID_SHOPIFY_SERVICE_LEVELS", '{"priority": "express", "courier": "same_day"}'
    )
    monkeypatch.setenv("ORDERGRID_SHOPIFY_PICKUP_LOCATIONS", '{"61440745603": "ST-NYC"}')
    settings = Settings()
    assert list(settings.shopify_service_levels.items()) == [
        ("priority", "express"),
        ("courier", "same_day"),
    ]
    assert settings.shopify_pickup_locations == {"61440745603": "ST-NYC"}


def test_a_table_naming_an_unknown_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERGRID_SHOPIFY_SERVICE_LEVELS", '{"rush": "warp_speed"}')
    with pytest.raises(ValidationError):
        Settings()


# -- address -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"), [(None, None), (0, 0), (40.7, None), (None, -73.9)], ids=str
)
def test_without_usable_coordinates_the_postal_code_is_left_to_geocode(
    lat: float | None, lon: float | None
) -> None:
    order = shopify_order()
    order["shipping_address"].update(latitude=lat, longitude=lon)
    address = placed(order).command.address
    assert address is not None
    assert (address.lat, address.lon, address.postal_code) == (None, None, "10118")


def test_an_order_without_shipping_address_placed_at_a_mapped_till_is_collected_there() -> None:
    order = shopify_order()
    order.update(shipping_address=None, location_id=61440745603, source_name="pos")
    cmd = placed(order).command
    assert (cmd.method, cmd.pickup_location_id, cmd.address) == ("pickup", "ST-NYC", None)


def test_an_unmapped_till_is_refused_naming_location_id() -> None:
    order = shopify_order()
    order.update(shipping_address=None, location_id=99)
    err = refused(order)
    assert (err.code, err.details["field"]) == ("pickup_location_unmapped", "location_id")
    assert err.details["shopify_location_id"] == "99"


def test_no_shipping_address_and_no_location_is_refused() -> None:
    order = shopify_order()
    order["shipping_address"] = None
    err = refused(order)
    assert (err.code, err.details["field"]) == ("shipping_address_required", "shipping_address")


# -- lines ---------------------------------------------------------------------------------------


def test_units_still_to_fulfil_are_ordered_not_those_handed_over_at_the_till() -> None:
    order = shopify_order()
    order["line_items"][0].update(quantity=3, fulfillable_quantity=1)
    del order["line_items"][1]["fulfillable_quantity"]
    lines = placed(order).command.lines
    assert [(x.line_id, x.quantity) for x in lines] == [(TEE, 1), (SHOES, 1)]


def test_lines_with_nothing_to_ship_are_skipped_with_their_reason() -> None:
    order = shopify_order()
    order["line_items"][0]["requires_shipping"] = False  # a digital download
    order["line_items"][1]["fulfillable_quantity"] = 0
    outcome = translate(order)
    assert outcome == Ignored(
        ORDER_ID,
        "nothing_to_fulfil",
        (
            SkippedLine(TEE, "no_shipping_required"),
            SkippedLine(SHOES, "already_fulfilled"),
            SkippedLine(GIFT_CARD, "gift_card"),
        ),
    )


def test_a_cancelled_order_places_nothing() -> None:
    order = shopify_order()
    order.update(cancelled_at="2026-03-02T10:20:00-05:00", cancel_reason="customer")
    assert translate(order) == Ignored(ORDER_ID, "order_cancelled", ())


@pytest.mark.parametrize("sku", [None, "", "   "])
def test_a_line_to_ship_without_sku_is_refused_naming_it(sku: str | None) -> None:
    order = shopify_order()
    order["line_items"][1]["sku"] = sku
    err = refused(order)
    assert (err.code, err.details["field"]) == ("sku_missing", "line_items[1].sku")


def test_refusals_of_the_service_name_the_field_shopify_sent() -> None:
    order = shopify_order()
    order["line_items"].insert(0, order["line_items"].pop())  # the gift card comes first
    p = placed(order)
    assert p.sources == (1, 2)
    unknown = InvalidInput("unknown SKU 'SKU-00042'", code="unknown_sku", field="lines.1.sku")
    err = p.refusal(unknown)
    assert (err.code, err.message) == ("unknown_sku", "unknown SKU 'SKU-00042'")
    assert err.details == {"field": "line_items[2].sku"}
    assert p.shopify_field("lines.0.line_id") == "line_items[1].id"
    assert p.shopify_field("delivery.address.postal_code") == "shipping_address.zip"
    assert p.shopify_field("delivery.pickup_location_id") == "location_id"


# -- tags and customer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "test", "expected"),
    [
        ("  gift, vip ,,wholesale , ", False, {"gift", "vip", "wholesale"}),
        ("", False, set()),
        (None, False, set()),
        ("vip", True, {"vip", "test"}),
    ],
)
def test_tags_are_split_on_commas(tags: str | None, test: bool, expected: set[str]) -> None:
    order = shopify_order()
    order.update(tags=tags, test=test)
    assert placed(order).command.tags == expected


def test_a_guest_order_keeps_the_order_email_as_customer() -> None:
    order = shopify_order()
    order["customer"] = None
    assert placed(order).command.customer == {"email": "maria.lopez@example.com"}
    order["email"] = None
    assert placed(order).command.customer == {}


# -- malformed bodies and topics -----------------------------------------------------------------


def _with(path: list[str | int], value: Any) -> dict[str, Any]:
    order = shopify_order()
    target: Any = order
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return order


@pytest.mark.parametrize(
    ("order", "field"),
    [
        (_with(["line_items", 2, "quantity"], "two"), "line_items[2].quantity"),
        (_with(["line_items", 0, "price"], "free"), "line_items[0].price"),
        (
            _with(["line_items", 1, "fulfillable_quantity"], -1),
            "line_items[1].fulfillable_quantity",
        ),
        (_with(["shipping_address", "latitude"], 200), "shipping_address.latitude"),
        (_with(["line_items"], None), "line_items"),
        (_with(["id"], "order-1"), "id"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_malformed_body_names_the_field_in_shopify_terms(
    order: dict[str, Any], field: str
) -> None:
    err = refused(order)
    assert (err.code, err.details["field"]) == ("validation_error", field)
    assert err.details["errors"][0]["field"] == field


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"", b'{"id": 1'])
def test_a_body_that_is_not_an_order_is_refused_as_body(body: bytes) -> None:
    err = refused(body)
    assert (err.code, err.details["field"]) == ("validation_error", "body")


def test_a_missing_field_is_named() -> None:
    order = shopify_order()
    del order["line_items"][0]["id"]
    assert refused(order).details["field"] == "line_items[0].id"


@pytest.mark.parametrize("topic", ["orders/updated", "orders/paid", "", None])
def test_only_orders_create_and_cancelled_are_accepted(topic: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_topic(topic)
    assert (caught.value.code, caught.value.details["field"]) == (
        "shopify_topic_unsupported",
        "X-Shopify-Topic",
    )
    assert check_topic("orders/create") == "orders/create"
    assert check_topic("orders/cancelled") == "orders/cancelled"
