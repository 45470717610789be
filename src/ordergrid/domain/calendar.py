"""Location calendars: the time zone a location works in, its weekly opening hours, its
holidays and its order cut-off per service.

Opening hours are minutes after local midnight (0 to 1440), so a window may end at
midnight; every computation happens in local wall time and returns aware datetimes in the
location's zone, so daylight-saving changes and a customer in another zone never shift a
working day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 1440
#: A year and a bit: a calendar closed for longer than this is closed for good.
SEARCH_DAYS = 400

Window = tuple[int, int]  # open, close: minutes after local midnight
ALWAYS_OPEN: tuple[tuple[Window, ...], ...] = (((0, MINUTES_PER_DAY),),) * 7


class ClosedForGood(ValueError):
    """The calendar has no open hour in the coming year."""


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class LocationCalendar:
    """When a location works. The default works around the clock in UTC, every day."""

    timezone: str = "UTC"
    hours: tuple[tuple[Window, ...], ...] = ALWAYS_OPEN  # Monday first, 7 entries
    holidays: frozenset[date] = frozenset()
    #: Local time of day by which an order must be in to leave (or be prepared) the same
    #: day, per service (`standard`, `express`, `next_day`, `same_day`, `pickup`,
    #: `curbside`) or `default`; none: the day's closing time.
    cutoffs: Mapping[str, time] = field(default_factory=dict, hash=False)
    #: The hash of the fields above, worked out once: every date a quote works out looks
    #: up the calendar's days (`_windows`), and the weekly hours are tuples of tuples.
    _hash: int = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.timezone, self.hours, self.holidays)))

    def __hash__(self) -> int:
        return self._hash

    def __setstate__(self, state: Sequence[Any]) -> None:
        # Unpickled: the hash kept was of another process's strings, so it is made anew.
        for f, value in zip(fields(self), state, strict=True):
            object.__setattr__(self, f.name, value)
        self.__post_init__()

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open windows of a local day (none on a holiday), as aware datetimes."""
        return _windows(self, day)

    def is_working_day(self, day: date) -> bool:
        return bool(self.windows(day))

    def closing(self, day: date) -> datetime | None:
        windows = self.windows(day)
        return windows[-1][1] if windows else None

    def cutoff(self, day: date, service: str, cutoff_utc: time | None = None) -> datetime | None:
        """Last moment of a working day at which an order still counts for that day."""
        close = self.closing(day)
        if close is None:
            return None
        local = self.cutoffs.get(service) or self.cutoffs.get("default")
        if local is not None:
            return min(close, datetime.combine(day, local, self.tz))
        if cutoff_utc is not None:
            # A UTC time of day read on the location's local date.
            return min(close, datetime.combine(day, cutoff_utc, UTC).astimezone(self.tz))
        return close

    def work(self, start: datetime, duration: timedelta) -> datetime:
        """When `duration` of work begun at `start` is done, counting open hours only."""
        left = duration
        day = self.local(start).date()
        for _ in range(SEARCH_DAYS):
            for opens, closes in self.windows(day):
                begin = max(opens, start)
                if begin >= closes:
                    continue
                if begin + left <= closes:
                    return self.local(begin + left)
                left -= closes - begin
            day += timedelta(days=1)
        raise ClosedForGood(f"no open hours within {SEARCH_DAYS} days")

    def next_working_day(self, day: date) -> date:
        for _ in range(SEARCH_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ClosedForGood(f"no working day within {SEARCH_DAYS} days")

    def dispatch_day(
        self,
        now: datetime,
        processing: timedelta,
        service: str,
        cutoff_utc: time | None = None,
    ) -> tuple[date, datetime]:
        """The local day a shipment leaves and when it is ready: the first working day,
        from when the work is done, whose cut-off the order made."""
        ready = self.work(now, processing)
        day = ready.date()
        for _ in range(SEARCH_DAYS):
            cut = self.cutoff(day, service, cutoff_utc)
            if cut is not None and now < cut:
                return day, ready
            day = self.next_working_day(day)
            ready = max(ready, self.windows(day)[0][0])
        raise ClosedForGood(f"no cut-off within {SEARCH_DAYS} days")

    def start_of_work(self, now: datetime, service: str, cutoff_utc: time | None) -> datetime:
        """When work on an order placed `now` may begin for a service with a cut-off:
        now, or the next working day's opening when the order missed today's cut-off."""
        today = self.local(now).date()
        cut = self.cutoff(today, service, cutoff_utc)
        if cut is None or now < cut:
            return now
        return self.windows(self.next_working_day(today))[0][0]


@lru_cache(maxsize=4096)
def _windows(calendar: LocationCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """`LocationCalendar.windows`, remembered: every date a quote or deadline works out
    walks the same few days of the same calendars (calendars are immutable; the cut-offs,
    which windows do not read, are left out of their hash)."""
    if day in calendar.holidays:
        return ()
    midnight = datetime.combine(day, time(0), calendar.tz)
    return tuple(
        (midnight + timedelta(minutes=a), midnight + timedelta(minutes=b))
        for a, b in calendar.hours[day.weekday()]
    )


def weekly_hours(doc: Mapping[str, Sequence[tuple[int, int]]]) -> tuple[tuple[Window, ...], ...]:
    """Weekly hours from `{"mon": [(open, close), …], …}`; a day left out is closed."""
    return tuple(tuple(sorted(doc.get(name, ()))) for name in WEEKDAYS)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def calendar_document(cal: LocationCalendar) -> dict[str, Any]:
    """The calendar as JSON (the shape of the API's `calendar` and of stored locations);
    opening hours are left out when the location works around the clock."""
    doc: dict[str, Any] = {
        "timezone": cal.timezone,
        "holidays": sorted(d.isoformat() for d in cal.holidays),
        "cutoffs": {k: v.isoformat("minutes") for k, v in sorted(cal.cutoffs.items())},
    }
    if cal.hours != ALWAYS_OPEN:
        doc["opening_hours"] = {
            name: [[_clock(a), _clock(b)] for a, b in cal.hours[i]]
            for i, name in enumerate(WEEKDAYS)
            if cal.hours[i]
        }
    return doc


def calendar_from_document(doc: Mapping[str, Any]) -> LocationCalendar:
    """The calendar of a validated document; no `opening_hours`: around the clock."""
    hours = doc.get("opening_hours")
    return LocationCalendar(
        timezone=str(doc.get("timezone") or "UTC"),
        hours=ALWAYS_OPEN
        if hours is None
        else weekly_hours(
            {k: [(_minutes(a), _minutes(b)) for a, b in v] for k, v in hours.items()}
        ),
        holidays=frozenset(date.fromisoformat(str(d)) for d in doc.get("holidays") or ()),
        cutoffs={k: time.fromisoformat(str(v)) for k, v in (doc.get("cutoffs") or {}).items()},
    )
