"""The days a carrier delivers at a destination: the weekdays each service delivers on
and the holidays of the destination's country and region, on which nothing is delivered
and which do not count as transit days.

Holidays are keyed by ISO 3166-1 country (`"US"`) or ISO 3166-2 region (`"US-CA"`); a
destination in a region keeps both its country's holidays and its region's. A key maps
to dates or to the name of a rule set that generates them for any year (`us_federal`),
so the built-in default never runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

#: A carrier calendar looks this far ahead for a delivery day before it gives up (a
#: calendar with a delivery weekday always finds one much sooner).
SEARCH_DAYS = 400

MON, THU = 0, 3
SAT, SUN = 5, 6
#: Juneteenth National Independence Day became a federal holiday in 2021.
JUNETEENTH_SINCE = 2021


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday of a month (n = -1: the last one)."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    after = date(year + (month == 12), month % 12 + 1, 1)
    last = after - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A fixed-date holiday falling on a weekend is observed on the nearest weekday."""
    if day.weekday() == SAT:
        return day - timedelta(days=1)
    if day.weekday() == SUN:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def us_federal_holidays(year: int) -> frozenset[date]:
    """The US federal holidays of `year` (5 U.S.C. 6103), each fixed-date one on its day
    and, when that is a weekend, on the Friday before or the Monday after where it is
    observed. New Year's Day of the next year observed on 31 December counts too."""
    fixed = [(1, 1), (7, 4), (11, 11), (12, 25)]
    if year >= JUNETEENTH_SINCE:
        fixed.append((6, 19))
    # Carriers that deliver on weekends keep the holiday itself too.
    days = {date(year, m, d) for m, d in fixed} | {_observed(date(year, m, d)) for m, d in fixed}
    days.add(_observed(date(year + 1, 1, 1)))
    days |= {
        _nth_weekday(year, 1, MON, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, MON, 3),  # Washington's Birthday
        _nth_weekday(year, 5, MON, -1),  # Memorial Day
        _nth_weekday(year, 9, MON, 1),  # Labor Day
        _nth_weekday(year, 10, MON, 2),  # Columbus Day
        _nth_weekday(year, 11, THU, 4),  # Thanksgiving Day
    }
    return frozenset(d for d in days if d.year == year)


#: Named holiday sets a calendar may refer to instead of listing dates.
HOLIDAY_RULES: Mapping[str, Callable[[int], frozenset[date]]] = {
    "us_federal": us_federal_holidays,
}


@dataclass(frozen=True, slots=True)
class DeliveryArea:
    """Where a parcel is delivered, as far as carrier holidays care."""

    country: str | None = None
    region: str | None = None

    @classmethod
    def of(cls, country: str | None, region: str | None) -> DeliveryArea:
        """The area of an address: the country upper-cased, the region as an ISO 3166-2
        code (`"CA"` in the US is `"US-CA"`)."""
        return _area(country, region)

    def holiday_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.country, self.region) if k)


NOWHERE = DeliveryArea()


@lru_cache(maxsize=4096)
def _area(country: str | None, region: str | None) -> DeliveryArea:
    """`DeliveryArea.of`, remembered: a quote asks for the area of each store it sends a
    transfer to, and of the customer for each option."""
    nation = (country or "").strip().upper() or None
    sub = (region or "").strip().upper() or None
    if sub is not None and nation is not None and not sub.startswith(f"{nation}-"):
        sub = f"{nation}-{sub}"
    return DeliveryArea(nation, sub)


#: A key's holidays: fixed dates, or the name of a rule set in `HOLIDAY_RULES`.
HolidaySource = frozenset[date] | str


@dataclass(frozen=True, slots=True)
class CarrierCalendar:
    """When the carrier delivers. `delivery_days` per service overrides `default_days`
    (0 = Monday); `holidays` are non-delivery dates per country or region."""

    default_days: frozenset[int] = frozenset(range(5))
    delivery_days: Mapping[str, frozenset[int]] = field(default_factory=dict, hash=False)
    holidays: Mapping[str, HolidaySource] = field(default_factory=dict, hash=False)

    def days_of(self, service: str) -> frozenset[int]:
        return self.delivery_days.get(service, self.default_days)

    def holidays_in(self, year: int, area: DeliveryArea) -> frozenset[date]:
        found: set[date] = set()
        for key in area.holiday_keys():
            source = self.holidays.get(key)
            if isinstance(source, str):
                found |= HOLIDAY_RULES[source](year)
            elif source:
                found |= source
        return frozenset(found)

    def delivers_on(self, day: date, service: str, area: DeliveryArea) -> bool:
        return day.weekday() in self.days_of(service) and day not in self.holidays_in(
            day.year, area
        )

    def next_delivery_day(self, day: date, service: str, area: DeliveryArea) -> date:
        """`day` itself when the carrier delivers on it, else the first day after."""
        for _ in range(SEARCH_DAYS):
            if self.delivers_on(day, service, area):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no {service} delivery day within {SEARCH_DAYS} days")

    def arrival(self, ships_on: date, days: int, service: str, area: DeliveryArea) -> date:
        """The day a parcel handed over on `ships_on` arrives after `days` delivery days
        of the service at the destination; a transit of 0 days arrives on the first
        delivery day from `ships_on` on."""
        return _arrival(self, ships_on, days, service, area)


@lru_cache(maxsize=4096)
def _arrival(
    calendar: CarrierCalendar, ships_on: date, days: int, service: str, area: DeliveryArea
) -> date:
    """`CarrierCalendar.arrival`, remembered: every quote of a day asks for the same few
    departures, services and areas, and each answer walks the days one by one (calendars
    are immutable; equal ones answer alike)."""
    day = ships_on
    for _ in range(days):
        day = calendar.next_delivery_day(day + timedelta(days=1), service, area)
    return calendar.next_delivery_day(day, service, area)


def holiday_table(doc: Mapping[str, Iterable[str] | str]) -> dict[str, HolidaySource]:
    """Holidays of a validated document: `{"US": "us_federal", "US-CA": ["2026-03-31"]}`."""
    return {
        key.upper(): value
        if isinstance(value, str)
        else frozenset(date.fromisoformat(str(d)) for d in value)
        for key, value in doc.items()
    }


#: Carriers of the built-in rules keep the US federal holidays; a policy's
#: `carrier_holidays` replaces a key's entry (an empty list delivers on every one).
DEFAULT_CARRIER_HOLIDAYS: Mapping[str, HolidaySource] = {"US": "us_federal"}
#: Same-day couriers deliver every day of the week unless the policy says otherwise.
DEFAULT_DELIVERY_DAYS: Mapping[str, frozenset[int]] = {"same_day": frozenset(range(7))}
