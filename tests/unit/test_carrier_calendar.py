"""Carrier delivery calendars: the destination's holidays and each service's delivery
weekdays roll the promised dates past days nothing is delivered."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from ordergrid.domain.network import Address, Capability, Location, LocationType
from ordergrid.domain.promise.carrier_calendar import (
    NOWHERE,
    CarrierCalendar,
    DeliveryArea,
    us_federal_holidays,
)
from ordergrid.domain.promise.dates import keeps_promise, shipment_dates
from ordergrid.domain.promise.rules import DEFAULT_PROMISE_RULES, promise_rules_from_document

NY = ZoneInfo("America/New_York")
# Labor Day 2026 is Monday 7 September; the 4th is the Friday before it.
FRIDAY = date(2026, 9, 4)
LABOR_DAY = date(2026, 9, 7)
US = DeliveryArea.of("US", None)


def dc() -> Location:
    return Location(
        id="DC",
        name="DC",
        type=LocationType.DC,
        address=Address(country="US", lat=40.7, lon=-74.0),
        capabilities=frozenset({Capability.SHIP}),
    )


def friday_morning() -> datetime:
    return datetime.combine(FRIDAY, time(10), NY)


@pytest.mark.parametrize("year", range(2000, 2041))
def test_built_in_us_holidays_match_the_holidays_package(year: int) -> None:
    expected = {d for d in holidays.US(years=year, observed=True) if d.year == year}
    assert us_federal_holidays(year) == expected


def test_a_friday_order_skips_a_monday_holiday_in_the_us() -> None:
    dates = shipment_dates(dc(), 100.0, "standard", friday_morning(), DEFAULT_PROMISE_RULES, NY, US)
    assert dates is not None
    assert dates.ships_on == FRIDAY
    # Band 1-2 days: Monday is Labor Day, so Tuesday and Wednesday.
    assert dates.earliest == datetime.combine(LABOR_DAY + timedelta(days=1), time(20), NY)
    assert dates.latest == datetime.combine(LABOR_DAY + timedelta(days=2), time(20), NY)


def test_the_same_friday_order_abroad_arrives_on_monday() -> None:
    abroad = DeliveryArea.of("CA", None)
    rules = DEFAULT_PROMISE_RULES
    dates = shipment_dates(dc(), 100.0, "standard", friday_morning(), rules, NY, abroad)
    assert dates is not None
    assert dates.earliest.date() == LABOR_DAY


def test_a_region_keeps_its_own_holidays_and_its_countrys() -> None:
    rules = promise_rules_from_document({"carrier_holidays": {"US-CA": ["2026-09-08"]}})
    california = DeliveryArea.of("US", "CA")
    new_york = DeliveryArea.of("US", "NY")
    cal = rules.carrier
    assert cal.arrival(FRIDAY, 1, "standard", california) == date(2026, 9, 9)
    assert cal.arrival(FRIDAY, 1, "standard", new_york) == date(2026, 9, 8)


def test_a_policy_may_replace_the_built_in_holidays_of_a_country() -> None:
    rules = promise_rules_from_document({"carrier_holidays": {"US": []}})
    assert rules.carrier.arrival(FRIDAY, 1, "standard", US) == LABOR_DAY


def test_listed_dates_replace_the_country_default() -> None:
    rules = promise_rules_from_document({"carrier_holidays": {"FR": ["2026-07-14"]}})
    france = DeliveryArea.of("fr", None)
    assert rules.carrier.arrival(date(2026, 7, 13), 1, "standard", france) == date(2026, 7, 15)
    # The US default is kept beside it.
    assert rules.carrier.arrival(FRIDAY, 1, "standard", US) == date(2026, 9, 8)


def test_each_service_has_its_own_delivery_weekdays() -> None:
    rules = promise_rules_from_document(
        {"delivery_days": {"express": ["mon", "tue", "wed", "thu", "fri", "sat"]}}
    )
    cal = rules.carrier
    assert cal.arrival(FRIDAY, 1, "express", NOWHERE) == date(2026, 9, 5)
    assert cal.arrival(FRIDAY, 1, "standard", NOWHERE) == LABOR_DAY


def test_same_day_delivers_on_weekends_but_not_on_holidays() -> None:
    cal = DEFAULT_PROMISE_RULES.carrier
    saturday = date(2026, 9, 5)
    assert cal.arrival(saturday, 0, "same_day", US) == saturday
    assert cal.arrival(LABOR_DAY, 0, "same_day", US) == LABOR_DAY + timedelta(days=1)


def test_a_zero_day_transit_on_a_non_delivery_day_rolls_forward() -> None:
    cal = CarrierCalendar(frozenset(range(5)))
    assert cal.arrival(date(2026, 9, 5), 0, "standard", NOWHERE) == LABOR_DAY


def test_new_years_day_on_a_saturday_is_observed_the_friday_before() -> None:
    # 2028-01-01 is a Saturday: observed on Friday 2027-12-31.
    assert date(2027, 12, 31) in us_federal_holidays(2027)
    assert date(2028, 1, 1) in us_federal_holidays(2028)


def test_promise_risk_counts_the_destinations_holidays() -> None:
    promised = datetime.combine(LABOR_DAY, time(20), NY)
    rules = DEFAULT_PROMISE_RULES
    now = friday_morning()
    assert keeps_promise(dc(), 100.0, "next_day", now, rules, promised, NOWHERE)
    assert not keeps_promise(dc(), 100.0, "next_day", now, rules, promised, US)


def test_area_names_a_region_by_its_country() -> None:
    assert DeliveryArea.of("us", "ca").holiday_keys() == ("US", "US-CA")
    assert DeliveryArea.of("US", "US-CA").holiday_keys() == ("US", "US-CA")
    assert DeliveryArea.of(None, None).holiday_keys() == ()
