"""Locations of the fulfilment network."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum

from ordergrid.domain.calendar import LocationCalendar


class LocationType(StrEnum):
    DC = "dc"
    STORE = "store"
    DARK_STORE = "dark_store"
    THREE_PL = "3pl"
    DROPSHIP = "dropship"
    MARKETPLACE = "marketplace"


class Capability(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"
    SAME_DAY = "same_day"
    CURBSIDE = "curbside"
    RETURNS = "returns"


class LocationStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Address:
    line1: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    line2: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """A place that holds stock and can fulfil work; immutable, replaced as a whole."""

    id: str
    name: str
    type: LocationType
    address: Address
    capabilities: frozenset[Capability]
    status: LocationStatus = LocationStatus.ACTIVE
    handling_cost: float = 0.0
    orders_per_day: int | None = None
    units_per_day: int | None = None
    tags: frozenset[str] = field(default_factory=frozenset)
    channels: frozenset[str] = field(default_factory=frozenset)  # empty: every channel
    #: Orders in before this time of day (UTC) leave the same day; None: always.
    cutoff_utc: time | None = None
    #: Time zone, opening hours, holidays and per-service cut-offs; None: open around
    #: the clock in UTC (with `cutoff_utc` as the only cut-off).
    calendar: LocationCalendar | None = None

    @property
    def lat(self) -> float:
        # Locations are validated to carry coordinates when they are stored.
        assert self.address.lat is not None
        return self.address.lat

    @property
    def lon(self) -> float:
        assert self.address.lon is not None
        return self.address.lon

    @property
    def usable(self) -> bool:
        """Paused and closed locations are never given new work."""
        return self.status is LocationStatus.ACTIVE
