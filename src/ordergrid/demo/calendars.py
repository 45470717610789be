"""Working calendars of the sample network, as location `calendar` bodies: stores open
their usual retail hours in their city's time zone, DCs work two shifts on weekdays and
a short Saturday, the dropship vendor office hours; all close on the US holidays retail
closes for, and each takes orders for the same day up to its cut-offs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

__all__ = ["dc_calendar", "dropship_calendar", "store_calendar"]

#: Years whose holidays the calendars list: the demo's clock is the real one.
HOLIDAY_YEARS = range(2025, 2036)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

#: Store hours by kind: (Monday to Saturday, Sunday).
_STORE_HOURS = {
    "flagship": (("09:00", "22:00"), ("10:00", "20:00")),
    "mall": (("10:00", "21:00"), ("11:00", "19:00")),
    "outlet": (("09:00", "21:00"), ("09:00", "21:00")),
    "store": (("10:00", "20:00"), ("11:00", "18:00")),
}
#: Orders for the same day: same-day deliveries leave by mid-afternoon, collections are
#: prepared until two hours before closing, parcels meet the carrier's collection.
_STORE_CUTOFFS = {"same_day": "14:00", "pickup": "18:00", "curbside": "18:00", "default": "16:00"}
_DC_CUTOFFS = {"next_day": "14:00", "express": "15:00", "default": "17:00"}


def thanksgiving(year: int) -> date:
    """The fourth Thursday of November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def _closed(new_year: bool) -> list[str]:
    days = []
    for year in HOLIDAY_YEARS:
        if new_year:
            days.append(date(year, 1, 1))
        days += [thanksgiving(year), date(year, 12, 25)]
    return [d.isoformat() for d in days]


def _calendar(
    timezone: str, hours: dict[str, list[list[str]]], holidays: list[str], cutoffs: dict[str, str]
) -> dict[str, Any]:
    """A location's `calendar` body."""
    return {
        "timezone": timezone,
        "opening_hours": hours,
        "holidays": holidays,
        "cutoffs": dict(cutoffs),
    }


def store_calendar(timezone: str, tags: list[str]) -> dict[str, Any]:
    """A store's hours by its kind (flagship, mall, outlet, else high street); closed on
    Thanksgiving and Christmas Day."""
    kind = next((t for t in ("flagship", "mall", "outlet") if t in tags), "store")
    week, sunday = _STORE_HOURS[kind]
    hours = {day: [list(week)] for day in (*_WEEKDAYS, "sat")} | {"sun": [list(sunday)]}
    return _calendar(timezone, hours, _closed(new_year=False), _STORE_CUTOFFS)


def dc_calendar(timezone: str) -> dict[str, Any]:
    """Two shifts on weekdays and a Saturday morning; carriers collect from 17:00 (next
    day and express parcels must be packed earlier); closed on New Year's Day,
    Thanksgiving and Christmas Day."""
    hours = {day: [["06:00", "22:00"]] for day in _WEEKDAYS} | {"sat": [["07:00", "13:00"]]}
    return _calendar(timezone, hours, _closed(new_year=True), _DC_CUTOFFS)


def dropship_calendar(timezone: str) -> dict[str, Any]:
    """A vendor's office hours, orders in by noon leave the same day."""
    hours = {day: [["08:00", "17:00"]] for day in _WEEKDAYS}
    return _calendar(timezone, hours, _closed(new_year=True), {"default": "12:00"})
