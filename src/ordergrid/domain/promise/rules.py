"""How a routing policy turns a plan into dates: carrier transit days by distance zone
and service, processing time per location type, pick-up preparation and radius, and
which options the policy offers at all (the `promise` section of a policy document)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from ordergrid.domain.calendar import WEEKDAYS
from ordergrid.domain.promise.carrier_calendar import (
    DEFAULT_CARRIER_HOLIDAYS,
    DEFAULT_DELIVERY_DAYS,
    CarrierCalendar,
    holiday_table,
)

#: The options a promise can quote; `same_day`, `pickup` and `curbside` are delivery
#: methods, the others service levels of `ship`.
OPTIONS = ("standard", "express", "next_day", "same_day", "pickup", "curbside")


@dataclass(frozen=True, slots=True)
class TransitBand:
    """Parcels travelling up to `max_km` (None: any distance) arrive after `min_days`
    to `max_days` carrier working days."""

    max_km: float | None
    min_days: int
    max_days: int


def _bands(*rows: tuple[float | None, int, int]) -> tuple[TransitBand, ...]:
    return tuple(TransitBand(*row) for row in rows)


DEFAULT_TRANSIT: Mapping[str, tuple[TransitBand, ...]] = {
    "standard": _bands((300.0, 1, 2), (1000.0, 2, 3), (2000.0, 3, 4), (None, 4, 6)),
    "express": _bands((300.0, 1, 1), (1000.0, 1, 2), (2000.0, 2, 2), (None, 2, 3)),
    "next_day": _bands((None, 1, 1)),
    "same_day": _bands((50.0, 0, 0)),
}
DEFAULT_PROCESSING_HOURS: Mapping[str, float] = {
    "dc": 4.0,
    "store": 2.0,
    "dark_store": 1.0,
    "3pl": 6.0,
    "dropship": 24.0,
    "marketplace": 24.0,
}
DEFAULT_READY_HOURS: Mapping[str, float] = {"pickup": 2.0, "curbside": 1.0}


@dataclass(frozen=True, slots=True)
class PromiseRules:
    transit: Mapping[str, tuple[TransitBand, ...]] = field(
        default_factory=lambda: DEFAULT_TRANSIT, hash=False
    )
    processing_hours: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_PROCESSING_HOURS, hash=False
    )
    #: Weekdays carriers deliver on (0 = Monday; `"mon"`… in documents).
    carrier_days: frozenset[int] = frozenset(range(5))
    #: The carrier's delivery days per service and the destination's holidays (its
    #: `default_days` are `carrier_days`).
    carrier: CarrierCalendar = field(
        default_factory=lambda: CarrierCalendar(
            delivery_days=DEFAULT_DELIVERY_DAYS, holidays=DEFAULT_CARRIER_HOLIDAYS
        )
    )
    #: Local time by which a parcel due on a day is delivered.
    delivery_by: time = time(20, 0)
    pickup_radius_km: float = 50.0
    #: The nearest stores quoted for pick-up.
    pickup_locations: int = 5
    ready_hours: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_READY_HOURS, hash=False
    )
    #: Service level of a transfer that replenishes a pick-up store.
    transfer_service: str = "standard"
    #: Whether a pick-up store lacking units is sent them by transfer: quoted as
    #: `after_transfer`, and a pick-up order's missing units are transferred to it.
    pickup_transfers: bool = True
    offer: frozenset[str] = frozenset(OPTIONS)
    #: Added to a location that cannot deliver by the date promised to the customer
    #: (orders that carry a promise), unless the policy prices promise risk itself.
    broken_promise_penalty: float = 1000.0
    #: Longest a quote lets the exact solver search a large cart before taking the best
    #: plan found (orders take the policy's own budget).
    time_budget_ms: int = 25

    def band(self, service: str, km: float) -> TransitBand | None:
        """The transit of a service over a distance; None where the service does not go."""
        for b in self.transit.get(service, ()):
            if b.max_km is None or km <= b.max_km:
                return b
        return None

    def reach_km(self, service: str) -> float | None:
        """How far the service goes (None: any distance)."""
        bands = self.transit.get(service, ())
        if not bands:
            return 0.0
        last = bands[-1].max_km
        return None if last is None else last

    def processing(self, location_type: str) -> timedelta:
        return timedelta(hours=self.processing_hours.get(location_type, 0.0))

    def ready(self, method: str) -> timedelta:
        return timedelta(hours=self.ready_hours.get(method, 0.0))


DEFAULT_PROMISE_RULES = PromiseRules()


def promise_rules_from_document(doc: Mapping[str, Any] | None) -> PromiseRules:
    """The rules of a validated `promise` section; absent keys keep their defaults (a
    service's transit table replaces that service's default table)."""
    if not doc:
        return DEFAULT_PROMISE_RULES
    base = DEFAULT_PROMISE_RULES
    transit = {
        **base.transit,
        **{
            level: tuple(
                TransitBand(
                    None if b.get("max_km") is None else float(b["max_km"]),
                    int(b["min_days"]),
                    int(b["max_days"]),
                )
                for b in bands
            )
            for level, bands in (doc.get("transit") or {}).items()
        },
    }
    delivery_by = doc.get("delivery_by")
    offer = doc.get("offer")
    carrier_days = (
        base.carrier_days
        if doc.get("carrier_days") is None
        else frozenset(WEEKDAYS.index(d) for d in doc["carrier_days"])
    )
    return PromiseRules(
        transit=transit,
        processing_hours={**base.processing_hours, **(doc.get("processing_hours") or {})},
        carrier_days=carrier_days,
        carrier=_carrier(doc, base.carrier, carrier_days),
        delivery_by=base.delivery_by
        if delivery_by is None
        else time.fromisoformat(str(delivery_by)),
        pickup_radius_km=float(doc.get("pickup_radius_km", base.pickup_radius_km)),
        pickup_locations=int(doc.get("pickup_locations", base.pickup_locations)),
        ready_hours={**base.ready_hours, **(doc.get("ready_hours") or {})},
        transfer_service=str(doc.get("transfer_service", base.transfer_service)),
        pickup_transfers=bool(doc.get("pickup_transfers", base.pickup_transfers)),
        offer=base.offer if offer is None else frozenset(offer),
        broken_promise_penalty=float(
            doc.get("broken_promise_penalty", base.broken_promise_penalty)
        ),
        time_budget_ms=int(doc.get("time_budget_ms", base.time_budget_ms)),
    )


def _carrier(
    doc: Mapping[str, Any], base: CarrierCalendar, carrier_days: frozenset[int]
) -> CarrierCalendar:
    """The carrier calendar of a `promise` section: `delivery_days` per service and
    `carrier_holidays` per country or region each replace the default's entry."""
    days = {
        service: frozenset(WEEKDAYS.index(d) for d in names)
        for service, names in (doc.get("delivery_days") or {}).items()
    }
    return CarrierCalendar(
        default_days=carrier_days,
        delivery_days={**base.delivery_days, **days},
        holidays={**base.holidays, **holiday_table(doc.get("carrier_holidays") or {})},
    )
