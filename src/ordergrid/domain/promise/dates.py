"""A shipment's dates: leaves its location on the first working day whose cut-off the
order made once processing is done, then travels the carrier's transit days for the
distance and service, counting only days the carrier delivers at the destination (the
service's weekdays, less the holidays of the destination's country and region). Dates
are delivered by the rules' `delivery_by` local time in the destination's zone (or the
location's when the destination's is unknown)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from ordergrid.domain.calendar import ClosedForGood, LocationCalendar
from ordergrid.domain.network import Location
from ordergrid.domain.promise.carrier_calendar import NOWHERE, DeliveryArea
from ordergrid.domain.promise.rules import PromiseRules

ROUND_THE_CLOCK = LocationCalendar()


def calendar_of(loc: Location) -> LocationCalendar:
    return loc.calendar or ROUND_THE_CLOCK


def service_key(method: str, service_level: str) -> str:
    """The transit table a delivery uses: same-day is a method, the others are levels."""
    return "same_day" if method == "same_day" else service_level


@dataclass(frozen=True, slots=True)
class ShipmentDates:
    location_id: str
    ready_at: datetime  # processing done, in the location's zone
    ships_on: date  # local date at the location
    earliest: datetime
    latest: datetime


def shipment_dates(
    loc: Location,
    km: float,
    service: str,
    now: datetime,
    rules: PromiseRules,
    destination_tz: tzinfo | None = None,
    area: DeliveryArea = NOWHERE,
) -> ShipmentDates | None:
    """When a shipment from `loc` over `km` to `area` arrives; None where the service
    does not go or the location has no working day ahead."""
    band = rules.band(service, km)
    if band is None:
        return None
    cal = calendar_of(loc)
    try:
        day, ready = cal.dispatch_day(
            now, rules.processing(loc.type.value), service, loc.cutoff_utc
        )
    except ClosedForGood:
        return None
    first = rules.carrier.arrival(day, band.min_days, service, area)
    last = rules.carrier.arrival(day, band.max_days, service, area)
    tz = destination_tz or cal.tz
    return ShipmentDates(
        loc.id,
        ready,
        day,
        datetime.combine(first, rules.delivery_by, tz),
        datetime.combine(last, rules.delivery_by, tz),
    )


def keeps_promise(
    loc: Location,
    km: float,
    service: str,
    now: datetime,
    rules: PromiseRules,
    promised: datetime,
    area: DeliveryArea = NOWHERE,
) -> bool:
    """Whether a shipment from `loc` to `area` arrives by the promised day at the latest
    (the day read in the zone the promise was given in)."""
    dates = shipment_dates(loc, km, service, now, rules, promised.tzinfo, area)
    return dates is not None and dates.latest.date() <= promised.date()
