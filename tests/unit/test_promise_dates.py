"""Date arithmetic of promises: cut-offs, weekends, holidays, time zones, opening hours,
transit tables."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordergrid.domain.calendar import (
    LocationCalendar,
    calendar_document,
    calendar_from_document,
    weekly_hours,
)
from ordergrid.domain.network import Address, Capability, Location, LocationType
from ordergrid.domain.promise.carrier_calendar import NOWHERE, CarrierCalendar
from ordergrid.domain.promise.dates import keeps_promise, shipment_dates
from ordergrid.domain.promise.rules import (
    DEFAULT_PROMISE_RULES,
    TransitBand,
    promise_rules_from_document,
)

NY = ZoneInfo("America/New_York")
WEEKDAY_HOURS = {d: [(9 * 60, 18 * 60)] for d in ("mon", "tue", "wed", "thu", "fri")}
OFFICE = LocationCalendar(
    timezone="America/New_York",
    hours=weekly_hours(WEEKDAY_HOURS),
    cutoffs={"standard": time(14, 0)},
)
# 2026-03-02 is a Monday.
MONDAY = date(2026, 3, 2)


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = NY) -> datetime:
    return datetime.combine(day, time(hour, minute), tz)


def dc(calendar: LocationCalendar | None = OFFICE, cutoff_utc: time | None = None) -> Location:
    return Location(
        id="DC",
        name="DC",
        type=LocationType.DC,
        address=Address(lat=40.7, lon=-74.0),
        capabilities=frozenset({Capability.SHIP}),
        cutoff_utc=cutoff_utc,
        calendar=calendar,
    )


def test_an_order_before_the_cutoff_ships_the_same_day() -> None:
    day, ready = OFFICE.dispatch_day(at(MONDAY, 10), timedelta(hours=2), "standard")
    assert day == MONDAY
    assert ready == at(MONDAY, 12)


def test_an_order_after_the_cutoff_ships_the_next_working_day() -> None:
    day, ready = OFFICE.dispatch_day(at(MONDAY, 15), timedelta(hours=2), "standard")
    assert day == MONDAY + timedelta(days=1)
    assert ready >= at(MONDAY, 17)


def test_a_friday_evening_order_ships_on_monday() -> None:
    friday = MONDAY + timedelta(days=4)
    day, _ = OFFICE.dispatch_day(at(friday, 16), timedelta(hours=2), "standard")
    assert day == MONDAY + timedelta(days=7)


def test_a_holiday_is_skipped() -> None:
    tuesday = MONDAY + timedelta(days=1)
    cal = LocationCalendar(
        "America/New_York", weekly_hours(WEEKDAY_HOURS), frozenset({tuesday}), {}
    )
    day, ready = cal.dispatch_day(at(MONDAY, 19), timedelta(hours=1), "standard")
    assert day == tuesday + timedelta(days=1)
    assert ready == at(tuesday + timedelta(days=1), 10)


def test_processing_runs_in_opening_hours_only() -> None:
    done = OFFICE.work(at(MONDAY, 17), timedelta(hours=3))
    assert done == at(MONDAY + timedelta(days=1), 11)


def test_processing_that_ends_after_closing_leaves_the_next_day() -> None:
    cal = LocationCalendar("America/New_York", weekly_hours(WEEKDAY_HOURS))
    day, _ = cal.dispatch_day(at(MONDAY, 13), timedelta(hours=6), "standard")
    assert day == MONDAY + timedelta(days=1)


def test_the_utc_cutoff_is_read_on_the_local_day() -> None:
    # 19:00 UTC is 14:00 in New York (EST): 13:30 local makes it, 14:30 does not.
    cal = LocationCalendar("America/New_York", weekly_hours(WEEKDAY_HOURS))
    early, _ = cal.dispatch_day(at(MONDAY, 13, 30), timedelta(0), "standard", time(19, 0))
    late, _ = cal.dispatch_day(at(MONDAY, 14, 30), timedelta(0), "standard", time(19, 0))
    assert early == MONDAY
    assert late == MONDAY + timedelta(days=1)


def test_a_late_utc_evening_is_still_the_same_local_day_in_new_york() -> None:
    # 02:00 UTC Tuesday is 21:00 Monday in New York: after Monday's cut-off, so the
    # parcel leaves Tuesday (the local day after), not Wednesday.
    now = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    day, _ = OFFICE.dispatch_day(now, timedelta(hours=1), "standard")
    assert day == MONDAY + timedelta(days=1)


def test_per_service_cutoffs_differ() -> None:
    cal = LocationCalendar(
        "America/New_York",
        weekly_hours(WEEKDAY_HOURS),
        cutoffs={"standard": time(16, 0), "express": time(12, 0)},
    )
    assert cal.dispatch_day(at(MONDAY, 13), timedelta(0), "standard")[0] == MONDAY
    assert cal.dispatch_day(at(MONDAY, 13), timedelta(0), "express")[0] > MONDAY


def test_dates_cross_daylight_saving_without_shifting_the_day() -> None:
    # US clocks move forward on 2026-03-08; the delivery hour stays 20:00 local.
    friday = date(2026, 3, 6)
    dates = shipment_dates(dc(), 100.0, "standard", at(friday, 10), DEFAULT_PROMISE_RULES)
    assert dates is not None
    assert dates.earliest == at(date(2026, 3, 9), 20)
    assert dates.earliest.utcoffset() == timedelta(hours=-4)


def test_carrier_days_skip_the_weekend() -> None:
    friday = MONDAY + timedelta(days=4)
    weekdays, six_days = CarrierCalendar(frozenset(range(5))), CarrierCalendar(frozenset(range(6)))
    assert weekdays.arrival(friday, 1, "standard", NOWHERE) == MONDAY + timedelta(days=7)
    assert weekdays.arrival(friday, 0, "standard", NOWHERE) == friday
    assert six_days.arrival(friday, 1, "standard", NOWHERE) == friday + timedelta(days=1)


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    hours=st.floats(min_value=0, max_value=40),
)
def test_work_ends_inside_opening_hours_and_never_before_it_starts(
    start: datetime, hours: float
) -> None:
    done = OFFICE.work(start, timedelta(hours=hours))
    assert done >= start
    local = done.astimezone(NY)
    assert local.weekday() < 5
    assert time(9, 0) <= local.time() <= time(18, 0)


@given(
    now=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    )
)
def test_the_dispatch_day_is_a_working_day_whose_cutoff_the_order_made(now: datetime) -> None:
    day, ready = OFFICE.dispatch_day(now, timedelta(hours=2), "standard")
    cut = OFFICE.cutoff(day, "standard")
    assert cut is not None
    assert now < cut
    assert OFFICE.is_working_day(day)
    assert ready.date() <= day


def test_transit_bands_by_distance_and_service() -> None:
    rules = DEFAULT_PROMISE_RULES
    assert rules.band("standard", 250) == TransitBand(300.0, 1, 2)
    assert rules.band("standard", 5000) == TransitBand(None, 4, 6)
    assert rules.band("same_day", 80) is None
    assert rules.reach_km("same_day") == 50.0
    assert rules.reach_km("standard") is None


def test_a_promise_section_replaces_only_what_it_names() -> None:
    rules = promise_rules_from_document(
        {
            "transit": {"express": [{"max_km": 500, "min_days": 1, "max_days": 2}]},
            "processing_hours": {"store": 0.5},
            "carrier_days": ["mon", "tue", "wed", "thu", "fri", "sat"],
            "delivery_by": "18:00",
            "offer": ["standard", "pickup"],
        }
    )
    assert rules.band("express", 600) is None
    assert rules.band("standard", 100) == DEFAULT_PROMISE_RULES.band("standard", 100)
    assert rules.processing("store") == timedelta(minutes=30)
    assert rules.processing("dc") == timedelta(hours=4)
    assert 5 in rules.carrier_days
    assert rules.delivery_by == time(18, 0)
    assert rules.offer == frozenset({"standard", "pickup"})


def test_earliest_and_latest_follow_the_band() -> None:
    dates = shipment_dates(dc(), 1500.0, "standard", at(MONDAY, 10), DEFAULT_PROMISE_RULES)
    assert dates is not None
    assert dates.ships_on == MONDAY
    assert dates.earliest.date() == date(2026, 3, 5)  # 3 carrier days
    assert dates.latest.date() == date(2026, 3, 6)  # 4 carrier days


def test_dates_are_given_in_the_destinations_zone_when_known() -> None:
    la = ZoneInfo("America/Los_Angeles")
    dates = shipment_dates(dc(), 100.0, "standard", at(MONDAY, 10), DEFAULT_PROMISE_RULES, la)
    assert dates is not None
    assert dates.earliest == datetime.combine(date(2026, 3, 3), time(20, 0), la)


def test_a_location_without_a_calendar_works_around_the_clock_in_utc() -> None:
    now = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # Saturday night
    dates = shipment_dates(dc(None), 100.0, "standard", now, DEFAULT_PROMISE_RULES)
    assert dates is not None
    assert dates.ships_on == date(2026, 3, 8)  # 4 h processing crosses midnight
    assert dates.earliest.tzinfo is not None
    assert dates.earliest.utcoffset() == timedelta(0)


def test_keeps_promise_compares_days_in_the_zone_the_promise_was_given_in() -> None:
    rules = DEFAULT_PROMISE_RULES
    now = at(MONDAY, 10)
    promised = datetime.combine(date(2026, 3, 4), time(20, 0), NY)
    assert keeps_promise(dc(), 100.0, "standard", now, rules, promised)
    assert not keeps_promise(dc(), 1500.0, "standard", now, rules, promised)


def test_calendar_documents_round_trip() -> None:
    cal = LocationCalendar(
        "Europe/Paris",
        weekly_hours({"mon": [(540, 720), (780, 1140)], "sat": [(600, 1440)]}),
        frozenset({date(2026, 12, 25)}),
        {"standard": time(15, 30)},
    )
    assert calendar_from_document(calendar_document(cal)) == cal
    assert calendar_from_document({"timezone": "UTC"}) == LocationCalendar()


def test_a_calendar_closed_every_day_is_refused() -> None:
    closed = LocationCalendar("UTC", weekly_hours({}))
    with pytest.raises(ValueError, match="no open hours"):
        closed.work(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))


def test_calendars_alike_but_for_their_holidays_open_apart() -> None:
    holiday = replace(OFFICE, holidays=frozenset({MONDAY}))
    for calendar in (OFFICE, holiday, OFFICE):  # each asked after the other
        expected = () if calendar is holiday else ((at(MONDAY, 9), at(MONDAY, 18)),)
        assert calendar.windows(MONDAY) == expected
    assert OFFICE.windows(MONDAY + timedelta(days=5)) == ()  # Saturday
    assert OFFICE.is_working_day(MONDAY)
    assert not holiday.is_working_day(MONDAY)


def test_equal_calendars_hash_alike_and_an_unpickled_calendar_is_still_found() -> None:
    shop = LocationCalendar(
        timezone="America/New_York",
        hours=weekly_hours({"mon": [(540, 1080)], "sat": [(600, 960)]}),
        holidays=frozenset({date(2025, 12, 25)}),
    )
    twin = calendar_from_document(calendar_document(shop))  # built anew from its document
    other = LocationCalendar(shop.timezone, shop.hours, frozenset())
    assert twin == shop
    assert hash(twin) == hash(shop)
    assert other != shop
    kept = {shop: "kept"}
    assert kept[pickle.loads(pickle.dumps(shop))] == "kept"
