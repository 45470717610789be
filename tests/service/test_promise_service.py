"""Promise quotes on the in-memory adapters: options, pick-up, edge cases, and orders
placed with a promised option."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from tests.service.factories import World

from ordergrid.domain.calendar import LocationCalendar, weekly_hours
from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.network import Address
from ordergrid.domain.orders import DeliveryPromise
from ordergrid.service.commands import (
    LineInput,
    PlaceOrder,
    ProductInput,
    PutLocation,
    PutPolicy,
    PutProducts,
)
from ordergrid.service.promise import (
    Destination,
    PromiseLine,
    Quote,
    QuotePromise,
    quote_promise,
)

NYC = Destination("US", "10001")
STORE_HOURS = weekly_hours(
    {d: [(10 * 60, 20 * 60)] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
)


def quote(world: World, *lines: tuple[str, int], to: Destination = NYC) -> Quote:
    cmd = QuotePromise("web", tuple(PromiseLine(s, q) for s, q in lines), to)
    return quote_promise(cmd, world.ctx)


def option(q: Quote, method: str, level: str = "standard"):  # type: ignore[no-untyped-def]
    return next(o for o in q.options if (o.method, o.service_level) == (method, level))


def put_store(world: World, loc_id: str, lat: float, lon: float, caps: set[str], **kw) -> None:  # type: ignore[no-untyped-def]
    world.bus.handle(
        PutLocation(
            location_id=loc_id,
            name=loc_id,
            type="store",
            address=Address(country="US", lat=lat, lon=lon),
            capabilities=frozenset(caps),
            **kw,
        )
    )


def test_each_ship_option_has_dates_and_the_plans_cost(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    q = quote(world, ("A", 2))
    standard, express, next_day = (
        option(q, "ship", lvl) for lvl in ("standard", "express", "next_day")
    )
    assert standard.available
    assert express.available
    assert next_day.available
    assert next_day.earliest is not None
    assert express.earliest is not None
    assert standard.earliest is not None
    assert standard.latest is not None
    assert next_day.latest <= express.latest <= standard.latest  # type: ignore[operator]
    assert standard.earliest <= standard.latest
    assert [s.dates.location_id for s in standard.shipments] == ["DC-ATL"]
    assert standard.cost == pytest.approx(
        8.759 + 2 * (0.423 + 0.000336 * (standard.shipments[0].distance_km or 0)), abs=0.01
    )


def test_a_quote_reserves_and_writes_nothing(world: World) -> None:
    world.stock("DC-ATL", "A", 3)
    before = world.position("DC-ATL", "A")
    quote(world, ("A", 3))
    assert world.position("DC-ATL", "A") == before
    with world.uow() as uow:
        assert uow.orders.count_by_status() == {}


def test_more_than_the_network_holds_is_unavailable_with_the_reason(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    world.stock("ST-CHI", "A", 1)
    q = quote(world, ("A", 5))
    standard = option(q, "ship")
    assert not standard.available
    assert standard.reason == "insufficient_stock"
    assert "A short by 2" in (standard.detail or "")
    assert standard.earliest is None


def test_same_day_needs_a_same_day_location_within_reach(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    nowhere = option(quote(world, ("A", 1)), "same_day")
    assert nowhere.reason == "no_location_can_serve"
    assert "no location may serve same_day on channel 'web'" in (nowhere.detail or "")
    put_store(world, "ST-MAN", 40.76, -73.98, {"ship", "same_day"})
    world.stock("ST-MAN", "A", 1)
    same_day = option(quote(world, ("A", 1)), "same_day")
    assert same_day.available
    assert same_day.earliest is not None
    assert same_day.earliest.date() == date(2026, 3, 2)


def test_an_unknown_sku_names_its_line(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        quote(world, ("A", 1), ("NOPE", 1))
    assert err.value.code == "unknown_sku"
    assert err.value.details["field"] == "lines.1.sku"


def test_an_unknown_postal_code_without_coordinates_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        quote(world, ("A", 1), to=Destination("US", "00000"))
    assert err.value.code == "unknown_postal_code"
    assert err.value.details["field"] == "destination.postal_code"


def test_given_coordinates_make_an_unknown_postal_code_usable(world: World) -> None:
    world.stock("DC-ATL", "A", 1)
    q = quote(world, ("A", 1), to=Destination("FR", "69003", 45.76, 4.86))
    assert q.destination == (45.76, 4.86)
    assert option(q, "ship").available


def test_empty_carts_are_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        quote(world)
    assert err.value.code == "no_lines"


def test_pickup_in_stock_is_ready_after_preparation_in_opening_hours(world: World) -> None:
    cal = LocationCalendar("America/New_York", STORE_HOURS)
    put_store(
        world, "ST-NY1", 40.7128, -74.006, {"ship", "pickup"}, handling_cost=3.0, calendar=cal
    )
    world.stock("ST-NY1", "A", 2)
    # 09:00 UTC is 04:00 in New York: the store opens at 10:00, ready two hours later.
    q = quote(world, ("A", 2))
    ny1 = next(p for p in q.pickup if p.location_id == "ST-NY1")
    assert ny1.available
    assert ny1.mode == "now"
    assert ny1.ready_by == datetime(2026, 3, 2, 12, 0, tzinfo=cal.tz)
    assert ny1.ready_by is not None
    assert ny1.ready_by.utcoffset() is not None


def test_pickup_after_a_transfer_when_the_store_lacks_the_units(world: World) -> None:
    world.stock("ST-NY1", "A", 1)
    world.stock("DC-ATL", "A", 5)
    q = quote(world, ("A", 3))
    ny1 = next(p for p in q.pickup if p.location_id == "ST-NY1")
    assert ny1.available
    assert ny1.mode == "after_transfer"
    assert ny1.transfer_from == ("DC-ATL",)
    assert ny1.ready_by is not None
    assert ny1.ready_by.date() > date(2026, 3, 2)


def test_pickup_unavailable_when_nothing_can_reach_the_store(world: World) -> None:
    world.stock("ST-NY1", "A", 1)
    q = quote(world, ("A", 3))
    ny1 = next(p for p in q.pickup if p.location_id == "ST-NY1")
    assert not ny1.available
    assert ny1.reason == "insufficient_stock"


def test_pickup_stores_are_those_within_the_radius_and_usable(world: World) -> None:
    world.stock("ST-CHI", "A", 5)
    ids = {p.location_id for p in quote(world, ("A", 1)).pickup}
    assert ids == {"ST-NY1"}  # ST-NY2 is paused, ST-CHI is 1,100 km away


def test_each_collection_method_lists_only_stores_with_its_capability_and_channel(
    world: World,
) -> None:
    put_store(world, "ST-CURB", 40.75, -73.99, {"curbside"})
    put_store(world, "ST-BOTH", 40.74, -73.99, {"pickup", "curbside"})
    put_store(world, "ST-APP", 40.73, -73.99, {"pickup", "curbside"}, channels=frozenset({"app"}))
    for store in ("ST-CURB", "ST-BOTH", "ST-APP"):
        world.stock(store, "A", 2)
    q = quote(world, ("A", 1))
    by_method = {
        m: [p.location_id for p in q.pickup if p.method == m] for m in ("pickup", "curbside")
    }
    assert by_method["pickup"][0] == "ST-BOTH"  # nearest first; ST-CURB has no counter
    assert "ST-CURB" not in by_method["pickup"]
    assert by_method["curbside"][:2] == ["ST-CURB", "ST-BOTH"]
    assert "ST-APP" not in by_method["pickup"] + by_method["curbside"]  # another channel's


def test_the_policy_promise_section_decides_what_is_offered(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.bus.handle(
        PutPolicy(
            "web-narrow",
            {
                "name": "web",
                "selector": {"channels": ["web"]},
                "promise": {"offer": ["standard", "pickup"], "pickup_radius_km": 2000},
            },
            activate=True,
        )
    )
    q = quote(world, ("A", 1))
    assert [(o.method, o.service_level) for o in q.options] == [("ship", "standard")]
    assert {p.location_id for p in q.pickup} == {"ST-NY1", "ST-CHI"}
    assert all(p.method == "pickup" for p in q.pickup)


def place_promised(world: World, promise: DeliveryPromise | None) -> str:
    order, _ = world.bus.handle(
        PlaceOrder(
            external_id=f"P-{promise is not None}",
            channel="web",
            method="ship",
            lines=(LineInput("1", "A", 1),),
            address=Address(postal_code="10001", country="US", lat=40.75, lon=-73.99),
            promise=promise,
        )
    )
    assert order.promise == promise
    return order.fulfilments[0].location_id


def test_an_order_with_a_promise_is_sourced_to_keep_it(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("ST-NY1", "A", 5)
    # Cheapest is the Atlanta DC (no handling), but it delivers NYC in 3-4 days.
    assert place_promised(world, None) == "DC-ATL"
    by = option(quote(world, ("A", 1)), "ship")
    assert by.latest is not None
    promised = datetime.combine(date(2026, 3, 4), time(20, 0), by.latest.tzinfo)
    assert place_promised(world, DeliveryPromise(promised)) == "ST-NY1"
    with world.uow() as uow:
        stored = uow.orders.by_external_id("web", "P-True")
    assert stored is not None
    assert stored.promise == DeliveryPromise(promised)


def test_a_promise_no_location_can_keep_still_gets_the_stock(world: World) -> None:
    world.stock("DC-RNO", "A", 5)
    promised = datetime(2026, 3, 3, 20, 0, tzinfo=NYC_TZ)
    assert place_promised(world, DeliveryPromise(promised)) == "DC-RNO"


NYC_TZ = LocationCalendar("America/New_York").tz


def test_a_store_the_policy_keeps_from_the_cart_offers_no_pickup(world: World) -> None:
    world.bus.handle(
        PutProducts((ProductInput("H", "Paint thinner", tags=frozenset({"not-from-store"})),))
    )
    world.stock("ST-NY1", "H", 2)
    world.stock("DC-ATL", "H", 2)
    ny1 = next(p for p in quote(world, ("H", 1)).pickup if p.location_id == "ST-NY1")
    assert not ny1.available
    assert ny1.reason == "location_cannot_serve"


def test_a_store_that_never_opens_answers_without_a_date(world: World) -> None:
    never = LocationCalendar("UTC", weekly_hours({}))
    put_store(world, "ST-NY1", 40.7128, -74.006, {"ship", "pickup"}, calendar=never)
    world.stock("ST-NY1", "A", 1)
    q = quote(world, ("A", 1))
    ny1 = next(p for p in q.pickup if p.location_id == "ST-NY1")
    assert not ny1.available
    assert ny1.reason == "no_opening_hours"
    assert option(q, "ship").reason == "no_delivery_date"
