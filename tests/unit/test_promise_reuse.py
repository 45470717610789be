"""What quotes share (tightened rules, carrier arrival days, a quote's shipment dates and
cart facts) never changes an answer: quotes made one after another equal each option
worked out on its own, and each quote made first."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.promise_worlds import CALENDARS, NOW, PROMISE_RULES, World, worlds

from ordergrid.domain.network import Address, Capability, Location, LocationType
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.promise import carrier_calendar, quote
from ordergrid.domain.promise.carrier_calendar import CarrierCalendar, DeliveryArea
from ordergrid.domain.promise.dates import service_key, shipment_dates
from ordergrid.domain.promise.pickup import pickup_options
from ordergrid.domain.promise.quote import (
    PROMISE_ORDER_ID,
    SHIP_OPTIONS,
    Cart,
    PlannedShipment,
    PromiseView,
    ShipOption,
    for_quote,
    quote_rules,
    ship_options,
    unavailable_reason,
)
from ordergrid.domain.sourcing import Policy, SourcingRequest, SourcingView, select_policy, source
from ordergrid.domain.sourcing.network_index import index_of
from ordergrid.domain.sourcing.policy import Constraints
from ordergrid.domain.sourcing.screening import serves_nowhere

SERVICES = ("standard", "express", "next_day", "same_day")
AREAS = (DeliveryArea(), DeliveryArea.of("US", None), DeliveryArea.of("US", "CA"))


def fresh(view: SourcingView) -> SourcingView:
    """The view as the engine gets it from the service: no columns built beforehand."""
    return SourcingView(dict(view.locations), view.positions, view.product_tags, view.load)


def option_alone(cart: Cart, world: World, method: str, level: str) -> ShipOption | None:
    """One ship option worked out on its own: the policy its facts select, tightened for
    the service, one engine run on a fresh view, each shipment dated."""
    _, view, chosen = world
    facts = cart.facts(method, level)
    policy = select_policy(chosen, facts)
    service = service_key(method, level)
    if service not in policy.promise.offer:
        return None
    rules = for_quote(policy, service)
    if serves_nowhere(rules, index_of(view.locations), cart.channel, DeliveryMethod(method)):
        nowhere = f"no location may serve {service} on channel {cart.channel!r} under the policy"
        reason, detail = unavailable_reason(cart, PromiseView(fresh(view), chosen), nowhere)
        return ShipOption(method, level, False, policy.id, reason=reason, detail=detail)
    req = SourcingRequest(
        PROMISE_ORDER_ID,
        cart.channel,
        DeliveryMethod(method),
        cart.units(),
        cart.destination,
        facts=facts,
    )
    decision = source(req, fresh(view), rules, NOW)
    plan = decision.plan
    if plan.units < sum(q for _, q in cart.lines):
        promise = PromiseView(fresh(view), chosen)
        reason, detail = unavailable_reason(cart, promise, decision.summary)
        return ShipOption(method, level, False, policy.id, reason=reason, detail=detail)
    shipments = []
    for s in plan.shipments:
        loc = view.locations[s.location_id]
        km = s.distance_km or 0.0
        dates = shipment_dates(loc, km, service, NOW, policy.promise, cart.timezone, cart.area)
        if dates is None:
            detail = f"{s.location_id} has no working day ahead"
            return ShipOption(
                method, level, False, policy.id, reason="no_delivery_date", detail=detail
            )
        shipments.append(PlannedShipment(dates, s.units, s.distance_km))
    return ShipOption(
        method,
        level,
        True,
        policy.id,
        earliest=max(s.dates.earliest for s in shipments),
        latest=max(s.dates.latest for s in shipments),
        cost=round(plan.cost, 2),
        shipments=tuple(shipments),
    )


def quoted(world: World) -> tuple[list[ShipOption], list[object]]:
    cart, view, chosen = world
    promise = PromiseView(view, chosen)
    return ship_options(cart, promise, NOW), list(pickup_options(cart, promise, NOW))


def forget_quotes() -> None:
    """The process as if nothing had been quoted yet."""
    quote._quote_rules.clear()
    carrier_calendar._arrival.cache_clear()


@settings(max_examples=60, deadline=None)
@given(world_list=st.lists(worlds(promise_rules=True), min_size=1, max_size=3))
def test_ship_options_quoted_in_a_row_equal_each_option_worked_out_alone(
    world_list: list[World],
) -> None:
    for world in world_list:
        cart, view, chosen = world
        expected = [option_alone(cart, world, m, lvl) for m, lvl in SHIP_OPTIONS]
        assert ship_options(cart, PromiseView(view, chosen), NOW) == [
            o for o in expected if o is not None
        ]


@settings(max_examples=40, deadline=None)
@given(world_list=st.lists(worlds(promise_rules=True), min_size=2, max_size=3))
def test_a_quote_answers_alike_whatever_was_quoted_before(world_list: list[World]) -> None:
    in_a_row = [quoted(world) for world in world_list]
    for world, answer in zip(world_list, in_a_row, strict=True):
        forget_quotes()
        assert quoted(world) == answer


def a_location(calendar_at: int, kind: LocationType) -> Location:
    return Location(
        "L1",
        "L1",
        kind,
        Address(lat=40.0, lon=-74.0, country="US"),
        frozenset({Capability.SHIP}),
        calendar=CALENDARS[calendar_at],
    )


@settings(max_examples=200, deadline=None)
@given(
    asks=st.lists(
        st.tuples(
            st.integers(0, len(CALENDARS) - 1),
            st.sampled_from([LocationType.STORE, LocationType.DC]),
            st.floats(0, 2500),
            st.sampled_from(SERVICES),
            st.integers(0, 30),
            st.integers(0, len(PROMISE_RULES) - 1),
            st.sampled_from(AREAS),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_quotes_shipment_dates_equal_those_worked_out_alone(
    asks: list[tuple[int, LocationType, float, str, int, int, DeliveryArea]],
) -> None:
    promise = PromiseView(SourcingView({}), [])
    for calendar_at, kind, km, service, hours, rules_at, area in asks:
        loc, rules = a_location(calendar_at, kind), PROMISE_RULES[rules_at]
        start = NOW + timedelta(hours=hours)
        calendar = CALENDARS[calendar_at]
        tz = None if calendar is None else calendar.tz
        alone = shipment_dates(loc, km, service, start, rules, tz, area)
        assert promise.dates(loc, km, service, start, rules, tz, area) == alone


def walked_arrival(
    calendar: CarrierCalendar, ships_on: date, days: int, service: str, area: DeliveryArea
) -> date:
    """The arrival day found by walking the calendar, day by day."""
    day = ships_on
    for _ in range(days):
        day = calendar.next_delivery_day(day + timedelta(days=1), service, area)
    return calendar.next_delivery_day(day, service, area)


def test_carrier_calendars_alike_but_for_their_holidays_answer_apart() -> None:
    plain = CarrierCalendar(holidays={"US": "us_federal"})
    strict = replace(plain, holidays={"US": "us_federal", "US-CA": frozenset({date(2026, 9, 8)})})
    california = DeliveryArea.of("US", "CA")
    friday = date(2026, 9, 4)  # Labor Day is the Monday after
    assert hash(plain) == hash(strict)  # only the delivery weekdays are hashed
    for calendar in (plain, strict, plain):
        expected = walked_arrival(calendar, friday, 1, "standard", california)
        assert calendar.arrival(friday, 1, "standard", california) == expected
    assert plain.arrival(friday, 1, "standard", california) == date(2026, 9, 8)
    assert strict.arrival(friday, 1, "standard", california) == date(2026, 9, 9)


def test_rules_tightened_for_a_quote_follow_the_policy_they_were_made_from() -> None:
    near = Policy("p", 1, "near", constraints=Constraints(max_distance_km=10.0))
    far = replace(near, constraints=Constraints(max_distance_km=900.0))
    assert quote_rules(near, "same_day").constraints.max_distance_km == 10.0
    assert quote_rules(far, "same_day").constraints.max_distance_km == 50.0
    assert quote_rules(far, "standard").constraints.max_distance_km == 900.0
    assert quote_rules(near, "same_day") is quote_rules(near, "same_day")
    assert quote_rules(near, None) == for_quote(near, None)
