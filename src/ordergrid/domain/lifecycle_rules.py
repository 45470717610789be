"""Lifecycle rules of a routing policy: deadlines, what each failure leads to, attempt
limits, the click & collect choice and rule-based holds.

Parsed from the `lifecycle` section of a policy document that the edge has validated;
absent keys take the defaults of `DEFAULT_LIFECYCLE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ordergrid.domain.fulfilments import Fulfilment, FulfilmentStatus


class FailureAction(StrEnum):
    """What happens to units a location failed to fulfil."""

    RESOURCE = "resource"  # re-source, excluding the location
    RESOURCE_ZERO_STOCK = "resource_zero_stock"  # ... and its count of those SKUs was wrong
    HOLD = "hold"  # hold the order for a person (exception queue)


class PickupChoice(StrEnum):
    """What happens when the store a customer collects from cannot serve the order."""

    NEARBY_STORE = "nearby_store"  # move the pick-up to the nearest store that can
    HOME_DELIVERY = "home_delivery"  # ship to the customer's address instead
    CANCEL = "cancel"  # cancel the units and notify the customer
    HOLD = "hold"  # let a person decide


class DeadlineKind(StrEnum):
    ACCEPT = "accept_deadline"
    PICK = "pick_deadline"
    PICKUP_WINDOW = "pickup_window"


#: Reason codes of the failure table: the rejection reasons of the API, then the
#: failures the engine notices itself.
REJECT_REASONS = ("no_stock", "damaged", "capacity", "closed", "other")
REASON_CODES = (
    *REJECT_REASONS,
    "short_pick",
    "acceptance_expired",
    "pick_expired",
    "location_paused",
    "location_closed",
    "stock_discrepancy",
    "cancelled_by_location",
)

#: The count was wrong where a location says it has no stock or picks short.
_DEFAULT_ACTIONS = {
    "no_stock": FailureAction.RESOURCE_ZERO_STOCK,
    "short_pick": FailureAction.RESOURCE_ZERO_STOCK,
}


@dataclass(frozen=True, slots=True)
class Deadlines:
    """How long a location has for each step; None: no deadline."""

    accept: timedelta | None = timedelta(hours=4)
    pick: timedelta | None = timedelta(hours=24)
    pickup_window: timedelta | None = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class HoldRules:
    """Orders these rules catch wait on hold, out of sourcing, until a person releases them."""

    max_order_value: Decimal | None = None
    order_tags: frozenset[str] = frozenset({"fraud_review"})

    def reason(self, value: Decimal, tags: frozenset[str]) -> str | None:
        caught = sorted(tags & self.order_tags)
        if caught:
            return f"order_tag:{caught[0]}"
        if self.max_order_value is not None and value > self.max_order_value:
            return "order_value_above_threshold"
        return None


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    deadlines: Deadlines = field(default_factory=Deadlines)
    #: Deadlines per location type, replacing `deadlines` key by key.
    deadlines_by_type: Mapping[str, Deadlines] = field(default_factory=dict, hash=False)
    actions: Mapping[str, FailureAction] = field(
        default_factory=lambda: dict(_DEFAULT_ACTIONS), hash=False
    )
    max_attempts: int = 3
    pickup_failure: PickupChoice = PickupChoice.CANCEL
    nearby_store_km: float = 25.0
    holds: HoldRules = field(default_factory=HoldRules)

    def action_for(self, reason: str) -> FailureAction:
        return self.actions.get(reason, FailureAction.RESOURCE)

    def deadlines_for(self, location_type: str) -> Deadlines:
        return self.deadlines_by_type.get(location_type, self.deadlines)


DEFAULT_LIFECYCLE = LifecycleRules()

#: Which deadline runs while a fulfilment is in a status.
_RUNNING = {
    FulfilmentStatus.RELEASED: DeadlineKind.ACCEPT,
    FulfilmentStatus.ACCEPTED: DeadlineKind.PICK,
    FulfilmentStatus.READY_FOR_PICKUP: DeadlineKind.PICKUP_WINDOW,
}


def deadline_for(
    f: Fulfilment, location_type: str, rules: LifecycleRules, now: datetime
) -> tuple[DeadlineKind, datetime] | None:
    """The deadline that starts now for a fulfilment that just reached its status."""
    kind = _RUNNING.get(f.status)
    if kind is None:
        return None
    d = rules.deadlines_for(location_type)
    span = {DeadlineKind.ACCEPT: d.accept, DeadlineKind.PICK: d.pick}.get(kind, d.pickup_window)
    return None if span is None else (kind, now + span)


def running_deadline(f: Fulfilment) -> DeadlineKind | None:
    """The deadline a fulfilment in its current status may miss."""
    return _RUNNING.get(f.status)


# --- parsing ---------------------------------------------------------------------------


def lifecycle_from_document(doc: Mapping[str, Any] | None) -> LifecycleRules:
    """The rules a validated `lifecycle` section describes; absent keys keep defaults."""
    if not doc:
        return DEFAULT_LIFECYCLE
    base = DEFAULT_LIFECYCLE
    deadline_docs: Mapping[str, Any] = doc.get("deadlines") or {}
    default = _deadlines(deadline_docs.get("default") or {}, base.deadlines)
    by_type = {
        loc_type: _deadlines(spec or {}, default)
        for loc_type, spec in deadline_docs.items()
        if loc_type != "default"
    }
    actions = dict(base.actions)
    actions.update({k: FailureAction(v) for k, v in (doc.get("actions") or {}).items()})
    return LifecycleRules(
        deadlines=default,
        deadlines_by_type=by_type,
        actions=actions,
        max_attempts=int(doc.get("max_attempts", base.max_attempts)),
        pickup_failure=PickupChoice(doc.get("pickup_failure", base.pickup_failure.value)),
        nearby_store_km=float(doc.get("nearby_store_km", base.nearby_store_km)),
        holds=_holds(doc.get("holds"), base.holds),
    )


def _minutes(spec: Mapping[str, Any], key: str, inherited: timedelta | None) -> timedelta | None:
    if key not in spec:
        return inherited
    value = spec[key]
    return None if value is None else timedelta(minutes=float(value))


def _deadlines(spec: Mapping[str, Any], inherited: Deadlines) -> Deadlines:
    return Deadlines(
        accept=_minutes(spec, "accept_minutes", inherited.accept),
        pick=_minutes(spec, "pick_minutes", inherited.pick),
        pickup_window=_minutes(spec, "pickup_window_minutes", inherited.pickup_window),
    )


def _holds(doc: Mapping[str, Any] | None, base: HoldRules) -> HoldRules:
    if doc is None:
        return base
    value = doc.get("max_order_value")
    tags = doc.get("order_tags")
    return HoldRules(
        max_order_value=None if value is None else Decimal(str(value)),
        order_tags=base.order_tags if tags is None else frozenset(tags),
    )


def lifecycle_document(rules: LifecycleRules) -> dict[str, Any]:
    """The rules as a plain document (what the built-in policy shows)."""

    def minutes(span: timedelta | None) -> float | None:
        return None if span is None else span.total_seconds() / 60

    def deadlines(d: Deadlines) -> dict[str, float | None]:
        return {
            "accept_minutes": minutes(d.accept),
            "pick_minutes": minutes(d.pick),
            "pickup_window_minutes": minutes(d.pickup_window),
        }

    value = rules.holds.max_order_value
    return {
        "deadlines": {
            "default": deadlines(rules.deadlines),
            **{k: deadlines(v) for k, v in sorted(rules.deadlines_by_type.items())},
        },
        "actions": {k: v.value for k, v in sorted(rules.actions.items())},
        "max_attempts": rules.max_attempts,
        "pickup_failure": rules.pickup_failure.value,
        "nearby_store_km": rules.nearby_store_km,
        "holds": {
            "max_order_value": None if value is None else float(value),
            "order_tags": sorted(rules.holds.order_tags),
        },
    }
