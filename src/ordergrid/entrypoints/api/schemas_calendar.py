"""The `calendar` of a location: time zone, opening hours, holidays, cut-offs."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ServiceName = Literal["standard", "express", "next_day", "same_day", "pickup", "curbside"]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


def check_timezone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PydanticCustomError(
            "unknown_timezone", "{name} is not an IANA time zone", {"name": name}
        ) from exc
    return name


class CalendarIn(BaseModel):
    """When a location works; dates of its shipments and pick-ups follow it."""

    # A base of its own: `schemas` (whose `Body` the others use) imports this module.
    model_config = ConfigDict(extra="forbid")

    timezone: str = Field("UTC", max_length=64, description="IANA time zone")
    opening_hours: dict[Weekday, list[tuple[ClockTime, ClockTime]]] | None = Field(
        None,
        description='e.g. {"mon": [["09:00", "18:00"]]}; a day left out is closed; '
        "absent: open around the clock",
    )
    holidays: list[date] = Field(default_factory=list, max_length=400)
    cutoffs: dict[ServiceName | Literal["default"], time] = Field(
        default_factory=dict, description="local time of day orders must be in by, per service"
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value) or "UTC"

    @field_validator("opening_hours")
    @classmethod
    def _windows(
        cls, value: dict[str, list[tuple[str, str]]] | None
    ) -> dict[str, list[tuple[str, str]]] | None:
        if value is not None and not any(value.values()):
            raise PydanticCustomError("never_open", "give at least one opening window")
        for windows in (value or {}).values():
            spans = sorted((minutes(a), minutes(b)) for a, b in windows)
            for (a, b), nxt in zip(spans, [*spans[1:], None], strict=True):
                if b <= a:
                    raise PydanticCustomError("empty_window", "a window must close after it opens")
                if nxt is not None and nxt[0] < b:
                    raise PydanticCustomError("overlapping_windows", "windows may not overlap")
        return value


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)
