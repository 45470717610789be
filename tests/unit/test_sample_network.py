"""Tests for the seeded sample network and order stream (ordergrid.demo.sample)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ordergrid.demo.calendars import thanksgiving
from ordergrid.demo.sample import (
    OrderStream,
    SampleNetwork,
    build_network,
    load_cities,
    popularity_order,
)
from ordergrid.domain.calendar import calendar_from_document
from ordergrid.entrypoints.api.schemas_calendar import CalendarIn

LOCATION_TYPES = {"dc", "store", "dark_store", "3pl", "dropship", "marketplace"}
CAPABILITIES = {"ship", "pickup", "same_day", "curbside", "returns"}
STATUSES = {"active", "paused", "closed"}
METHODS = {"ship", "same_day", "pickup", "curbside"}
SERVICE_LEVELS = {"standard", "express", "next_day"}
ORDER_COUNT = 2000

# Bounding boxes as latitude min/max, longitude min/max.
US_BOXES = {
    "continental": (24.4, 49.5, -125.0, -66.9),
    "alaska": (51.0, 71.5, -180.0, -129.9),
    "hawaii": (18.9, 22.3, -160.3, -154.8),
}


@pytest.fixture(scope="module")
def network() -> SampleNetwork:
    return build_network()


@pytest.fixture(scope="module")
def orders(network: SampleNetwork) -> list[dict[str, Any]]:
    stream = OrderStream(network)
    return [stream.next_order() for _ in range(ORDER_COUNT)]


def _by_type(network: SampleNetwork, kind: str) -> dict[str, dict[str, Any]]:
    return {lid: body for lid, body in network.locations if body["type"] == kind}


def _in_us(lat: float, lon: float) -> bool:
    return any(
        lat_min <= lat <= lat_max and lon_min <= lon <= lon_max
        for lat_min, lat_max, lon_min, lon_max in US_BOXES.values()
    )


def _tagged(network: SampleNetwork, tag: str) -> set[str]:
    return {p["sku"] for p in network.products if tag in p["tags"]}


def _stock_at(network: SampleNetwork, location_id: str) -> dict[str, int]:
    return {s["sku"]: s["delta"] for s in network.stock if s["location_id"] == location_id}


# ------------------------------------------------------------------------ cities


def test_load_cities_returns_about_250_us_cities_largest_first() -> None:
    cities = load_cities()
    assert 240 <= len(cities) <= 260
    populations = [c.population for c in cities]
    assert populations == sorted(populations, reverse=True)
    assert (cities[0].city, cities[0].state) == ("New York", "NY")
    assert all(len(c.postal_code) == 5 and c.postal_code.isdigit() for c in cities)
    assert all(len(c.state) == 2 for c in cities)
    assert all(_in_us(c.lat, c.lon) for c in cities)


def test_load_cities_rows_are_unique_by_city_and_state_and_postal_code() -> None:
    cities = load_cities()
    assert len({(c.city, c.state) for c in cities}) == len(cities)
    assert len({c.postal_code for c in cities}) == len(cities)


# ----------------------------------------------------------------------- network


def test_default_network_has_10_dcs_160_stores_1_dropship_vendor(
    network: SampleNetwork,
) -> None:
    counts = Counter(body["type"] for _, body in network.locations)
    assert counts == {"dc": 10, "store": 160, "dropship": 1}


def test_default_network_has_300_products_with_unique_skus(
    network: SampleNetwork,
) -> None:
    skus = [p["sku"] for p in network.products]
    assert len(skus) == 300
    assert len(set(skus)) == 300
    assert skus[0] == "SKU-00001"


def test_location_ids_are_unique_and_follow_naming(network: SampleNetwork) -> None:
    ids = [lid for lid, _ in network.locations]
    assert len(set(ids)) == len(ids)
    assert all(lid.startswith("DC-") for lid in _by_type(network, "dc"))
    assert all(lid.startswith("ST-") for lid in _by_type(network, "store"))
    assert "DC-ATL" in ids
    assert "ST-NYC-01" in ids


def test_every_location_lies_inside_us_bounds(network: SampleNetwork) -> None:
    for lid, body in network.locations:
        address = body["address"]
        assert _in_us(address["lat"], address["lon"]), lid
        assert address["country"] == "US"
        assert all(address[k] for k in ("line1", "city", "postal_code"))


def test_location_bodies_use_only_contract_enum_values(network: SampleNetwork) -> None:
    for lid, body in network.locations:
        assert body["type"] in LOCATION_TYPES, lid
        assert set(body["capabilities"]) <= CAPABILITIES, lid
        assert body["status"] in STATUSES, lid
        assert isinstance(body["capacity"]["orders_per_day"], int)
        assert isinstance(body["handling_cost"], float)
        assert isinstance(body["tags"], list)


def test_dcs_ship_and_take_returns_with_high_capacity_and_low_cost(
    network: SampleNetwork,
) -> None:
    for lid, body in _by_type(network, "dc").items():
        assert body["capabilities"] == ["ship", "returns"], lid
        assert 4000 <= body["capacity"]["orders_per_day"] <= 12000
        assert 1.0 <= body["handling_cost"] <= 1.5


def test_stores_have_store_capabilities_capacity_and_cost_ranges(
    network: SampleNetwork,
) -> None:
    stores = _by_type(network, "store")
    for lid, body in stores.items():
        assert {"ship", "pickup", "curbside", "returns"} <= set(body["capabilities"]), lid
        assert 80 <= body["capacity"]["orders_per_day"] <= 300
        assert 2.5 <= body["handling_cost"] <= 4.0
    same_day = [lid for lid, b in stores.items() if "same_day" in b["capabilities"]]
    assert 0 < len(same_day) < len(stores)


def test_biggest_metros_get_several_stores(network: SampleNetwork) -> None:
    per_metro = Counter(lid.rsplit("-", 1)[0] for lid in _by_type(network, "store"))
    assert per_metro["ST-NYC"] >= 3
    assert per_metro["ST-LAX"] >= 3
    assert per_metro["ST-CHI"] >= 2


def test_about_3_percent_stores_paused_and_5_percent_no_ecom(
    network: SampleNetwork,
) -> None:
    stores = list(_by_type(network, "store").values())
    paused = sum(b["status"] == "paused" for b in stores)
    no_ecom = sum("no-ecom" in b["tags"] for b in stores)
    assert 2 <= paused <= 8
    assert 4 <= no_ecom <= 12


def test_dropship_vendor_only_ships(network: SampleNetwork) -> None:
    (body,) = _by_type(network, "dropship").values()
    assert body["capabilities"] == ["ship"]


def test_product_tags_hit_their_target_shares(network: SampleNetwork) -> None:
    count = len(network.products)
    assert len(_tagged(network, "hazmat")) == round(0.03 * count)
    assert len(_tagged(network, "oversize")) == round(0.04 * count)
    assert len(_tagged(network, "ship-alone")) == round(0.02 * count)
    assert len(_tagged(network, "dropship-only")) == round(0.02 * count)


def test_products_have_category_brand_price_and_positive_weight(
    network: SampleNetwork,
) -> None:
    categories = {
        "apparel",
        "footwear",
        "home",
        "electronics",
        "outdoor",
        "beauty",
        "toys",
    }
    for product in network.products:
        attributes = product["attributes"]
        assert attributes["category"] in categories
        assert attributes["brand"]
        assert attributes["price"] > 0
        assert product["weight_kg"] > 0
        assert product["name"]


def test_oversize_products_are_heavier_than_typical_products(
    network: SampleNetwork,
) -> None:
    oversize = _tagged(network, "oversize")
    weights = {p["sku"]: p["weight_kg"] for p in network.products}
    assert min(weights[s] for s in oversize) >= 10
    typical = sorted(w for s, w in weights.items() if s not in oversize)
    assert typical[len(typical) // 2] < 3


def test_stock_adjustment_ids_are_unique_and_deltas_positive(
    network: SampleNetwork,
) -> None:
    ids = [s["id"] for s in network.stock]
    assert len(set(ids)) == len(ids)
    assert all(s["id"] == f"seed-{s['location_id']}-{s['sku']}" for s in network.stock)
    assert all(s["delta"] >= 1 for s in network.stock)
    location_ids = {lid for lid, _ in network.locations}
    skus = {p["sku"] for p in network.products}
    assert all(s["location_id"] in location_ids and s["sku"] in skus for s in network.stock)


def test_stores_never_stock_oversize_or_dropship_only_skus(
    network: SampleNetwork,
) -> None:
    banned = _tagged(network, "oversize") | _tagged(network, "dropship-only")
    stores = _by_type(network, "store")
    assert not [s for s in network.stock if s["location_id"] in stores and s["sku"] in banned]


def test_dropship_only_skus_are_stocked_only_at_the_dropship_vendor(
    network: SampleNetwork,
) -> None:
    dropship_only = _tagged(network, "dropship-only")
    (vendor,) = _by_type(network, "dropship")
    holders = {s["location_id"] for s in network.stock if s["sku"] in dropship_only}
    assert holders == {vendor}
    assert dropship_only <= set(_stock_at(network, vendor))


def test_stock_quantity_and_coverage_ranges_per_location_type(
    network: SampleNetwork,
) -> None:
    sku_count = len(network.products)
    for lid in _by_type(network, "dc"):
        stock = _stock_at(network, lid)
        assert 0.75 * sku_count <= len(stock) <= 0.95 * sku_count
        assert all(20 <= qty <= 400 for qty in stock.values())
    store_stock = [_stock_at(network, lid) for lid in _by_type(network, "store")]
    coverage = sum(len(s) for s in store_stock) / (len(store_stock) * sku_count)
    assert 0.28 <= coverage <= 0.40
    assert all(1 <= qty <= 12 for stock in store_stock for qty in stock.values())


def test_fast_moving_skus_have_more_dc_stock_than_slow_ones(
    network: SampleNetwork,
) -> None:
    ranking = popularity_order(network.products)
    dc_totals: Counter[str] = Counter()
    for item in network.stock:
        if item["location_id"].startswith("DC-"):
            dc_totals[item["sku"]] += item["delta"]
    top = sum(dc_totals[s] for s in ranking[:10])
    bottom = sum(dc_totals[s] for s in ranking[-10:])
    assert top > 3 * bottom


def test_same_seed_builds_identical_network() -> None:
    assert build_network(seed=3) == build_network(seed=3)


def test_different_seeds_build_different_networks() -> None:
    first, second = build_network(seed=1), build_network(seed=2)
    assert first.products != second.products
    assert first.stock != second.stock
    assert first.locations != second.locations


def test_store_count_argument_is_honoured() -> None:
    network = build_network(stores=20, products=50)
    assert len(_by_type(network, "store")) == 20
    assert len(network.products) == 50


def test_build_network_rejects_negative_stores_and_empty_catalog() -> None:
    with pytest.raises(ValueError):
        build_network(stores=-1)
    with pytest.raises(ValueError):
        build_network(products=0)


# ------------------------------------------------------------------------ orders


def test_orders_have_required_fields_and_contract_enum_values(
    orders: list[dict[str, Any]],
) -> None:
    for order in orders:
        assert order["external_id"]
        assert order["channel"] in {"web", "app", "marketplace"}
        assert order["customer"]["id"]
        assert "@" in order["customer"]["email"]
        assert order["delivery"]["method"] in METHODS
        assert order["delivery"]["service_level"] in SERVICE_LEVELS
        assert order["lines"]


def test_order_line_ids_are_unique_within_each_order(
    orders: list[dict[str, Any]],
) -> None:
    for order in orders:
        line_ids = [line["line_id"] for line in order["lines"]]
        assert len(set(line_ids)) == len(line_ids), order["external_id"]


def test_order_lines_have_positive_quantity_and_catalog_sku_and_price(
    network: SampleNetwork, orders: list[dict[str, Any]]
) -> None:
    prices = {p["sku"]: p["attributes"]["price"] for p in network.products}
    for order in orders:
        assert 1 <= len(order["lines"]) <= 5
        for line in order["lines"]:
            assert isinstance(line["quantity"], int)
            assert line["quantity"] >= 1
            assert line["unit_price"] == prices[line["sku"]]


def test_ship_and_same_day_orders_carry_a_us_address_with_a_known_postal_code(
    orders: list[dict[str, Any]],
) -> None:
    postal_codes = {c.postal_code for c in load_cities()}
    for order in orders:
        delivery = order["delivery"]
        if delivery["method"] not in {"ship", "same_day"}:
            continue
        address = delivery["address"]
        assert "pickup_location_id" not in delivery
        assert address["country"] == "US"
        assert all(address[k] for k in ("line1", "city"))
        assert address["postal_code"] in postal_codes
        assert _in_us(address["lat"], address["lon"])


def test_pickup_and_curbside_orders_name_an_active_capable_store_without_address(
    network: SampleNetwork, orders: list[dict[str, Any]]
) -> None:
    stores = _by_type(network, "store")
    pickups = [o for o in orders if o["delivery"]["method"] in {"pickup", "curbside"}]
    assert pickups
    for order in pickups:
        delivery = order["delivery"]
        assert "address" not in delivery
        store = stores[delivery["pickup_location_id"]]
        assert store["status"] == "active"
        assert delivery["method"] in store["capabilities"]
        assert "pickup" in store["capabilities"]


def test_pickup_orders_only_use_skus_in_stock_at_the_pickup_store(
    network: SampleNetwork, orders: list[dict[str, Any]]
) -> None:
    for order in orders:
        delivery = order["delivery"]
        if delivery["method"] not in {"pickup", "curbside"}:
            continue
        on_hand = _stock_at(network, delivery["pickup_location_id"])
        for line in order["lines"]:
            assert 1 <= line["quantity"] <= on_hand[line["sku"]]


def test_same_day_orders_go_only_to_cities_with_an_active_same_day_store(
    network: SampleNetwork, orders: list[dict[str, Any]]
) -> None:
    same_day_postal_codes = {
        body["address"]["postal_code"]
        for body in _by_type(network, "store").values()
        if body["status"] == "active" and "same_day" in body["capabilities"]
    }
    same_day = [o for o in orders if o["delivery"]["method"] == "same_day"]
    assert same_day
    for order in same_day:
        assert order["delivery"]["address"]["postal_code"] in same_day_postal_codes


def test_external_ids_are_unique_across_2000_orders_and_match_channel_prefix(
    orders: list[dict[str, Any]],
) -> None:
    ids = [o["external_id"] for o in orders]
    assert len(set(ids)) == ORDER_COUNT
    prefixes = {"web": "WEB-", "app": "APP-", "marketplace": "MKT-"}
    assert all(o["external_id"].startswith(prefixes[o["channel"]]) for o in orders)
    assert "WEB-100001" in ids


def test_delivery_method_and_service_level_mix_is_roughly_as_specified(
    orders: list[dict[str, Any]],
) -> None:
    methods = Counter(o["delivery"]["method"] for o in orders)
    assert 0.74 <= methods["ship"] / ORDER_COUNT <= 0.86
    assert 0.02 <= methods["same_day"] / ORDER_COUNT <= 0.08
    assert 0.10 <= (methods["pickup"] + methods["curbside"]) / ORDER_COUNT <= 0.20
    levels = Counter(
        o["delivery"]["service_level"] for o in orders if o["delivery"]["method"] == "ship"
    )
    assert levels["standard"] > levels["express"] > levels["next_day"] > 0


def test_orders_average_about_1_6_lines_and_mostly_quantity_1(
    orders: list[dict[str, Any]],
) -> None:
    mean_lines = sum(len(o["lines"]) for o in orders) / ORDER_COUNT
    assert 1.4 <= mean_lines <= 1.8
    quantities = Counter(line["quantity"] for o in orders for line in o["lines"])
    assert quantities[1] / sum(quantities.values()) > 0.75


def test_order_lines_favour_popular_skus(
    network: SampleNetwork, orders: list[dict[str, Any]]
) -> None:
    ranking = popularity_order(network.products)
    picks = Counter(line["sku"] for o in orders for line in o["lines"])
    top = sum(picks[s] for s in ranking[:10])
    bottom = sum(picks[s] for s in ranking[-10:])
    assert top > 5 * bottom


def test_order_stream_is_deterministic_per_seed(network: SampleNetwork) -> None:
    first, second = OrderStream(network, seed=5), OrderStream(network, seed=5)
    assert [first.next_order() for _ in range(200)] == [second.next_order() for _ in range(200)]


def test_order_streams_with_different_seeds_differ(network: SampleNetwork) -> None:
    first, second = OrderStream(network, seed=5), OrderStream(network, seed=6)
    assert [first.next_order() for _ in range(50)] != [second.next_order() for _ in range(50)]


def test_channel_mix_limits_channels_and_prefixes(network: SampleNetwork) -> None:
    stream = OrderStream(network, channel_mix={"app": 1.0})
    orders = [stream.next_order() for _ in range(50)]
    assert {o["channel"] for o in orders} == {"app"}
    assert orders[0]["external_id"] == "APP-100001"


def test_channel_mix_rejects_unknown_channel_and_zero_total(
    network: SampleNetwork,
) -> None:
    with pytest.raises(ValueError):
        OrderStream(network, channel_mix={"fax": 1.0})
    with pytest.raises(ValueError):
        OrderStream(network, channel_mix={"web": 0.0})


def test_every_location_has_a_calendar_the_api_accepts(network: SampleNetwork) -> None:
    for location_id, body in network.locations:
        parsed = CalendarIn.model_validate(body["calendar"])
        assert parsed.opening_hours, location_id


def test_stores_work_in_their_city_time_zone_and_dcs_in_their_hub(
    network: SampleNetwork,
) -> None:
    zones = {c.postal_code: c.timezone for c in load_cities()}
    for body in _by_type(network, "store").values():
        assert body["calendar"]["timezone"] == zones[body["address"]["postal_code"]]
    dcs = _by_type(network, "dc")
    assert dcs["DC-PHX"]["calendar"]["timezone"] == "America/Phoenix"  # no daylight saving
    assert dcs["DC-ABE"]["calendar"]["timezone"] == "America/New_York"
    assert dcs["DC-ONT"]["calendar"]["timezone"] == "America/Los_Angeles"


def test_stores_open_every_day_and_close_on_thanksgiving_and_christmas(
    network: SampleNetwork,
) -> None:
    store = calendar_from_document(_by_type(network, "store")["ST-NYC-03"]["calendar"])
    sunday, monday = date(2026, 11, 29), date(2026, 11, 30)
    [(opens, closes)] = store.windows(monday)
    assert (opens.hour, closes.hour, opens.tzinfo) == (10, 20, ZoneInfo("America/New_York"))
    assert [(w[0].hour, w[1].hour) for w in store.windows(sunday)] == [(11, 18)]
    assert thanksgiving(2026) == date(2026, 11, 26)
    assert not store.is_working_day(date(2026, 11, 26))
    assert not store.is_working_day(date(2026, 12, 25))


def test_dcs_rest_on_sundays_and_pack_express_parcels_before_the_carrier_collects(
    network: SampleNetwork,
) -> None:
    dc = calendar_from_document(_by_type(network, "dc")["DC-CHI"]["calendar"])
    assert not dc.is_working_day(date(2026, 11, 29))  # a Sunday
    monday = date(2026, 11, 30)
    express, standard = dc.cutoff(monday, "express"), dc.cutoff(monday, "standard")
    assert express is not None
    assert standard is not None
    assert (express.hour, standard.hour) == (15, 17)
    assert not dc.is_working_day(date(2027, 1, 1))
