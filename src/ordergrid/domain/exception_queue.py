"""The exception queue: orders the engine could not place on its own, for a person.

A case opens when re-sourcing ran out of attempts, when nothing can serve the units, or
when a failure's action says "hold for a person"; it keeps the history of what happened
and closes when the order is placed, re-routed or cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ordergrid.domain.errors import Conflict
from ordergrid.domain.orders import Order


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CaseReason(StrEnum):
    """Why the engine stopped: the failure reason codes of the policy's table are used
    as they are when their action is `hold`."""

    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    NO_LOCATION_CAN_SERVE = "no_location_can_serve"
    NO_NEARBY_STORE = "no_nearby_store"
    NO_DELIVERY_ADDRESS = "no_delivery_address"


@dataclass(slots=True)
class ExceptionCase:
    id: str
    order_id: str
    channel: str
    reason: str
    opened_at: datetime
    updated_at: datetime
    status: CaseStatus = CaseStatus.OPEN
    resolution: str | None = None
    resolved_at: datetime | None = None
    #: Locations that had failed the order when the case opened (or since).
    locations: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status is CaseStatus.OPEN

    def note(self, what: str, now: datetime, actor: str | None, **detail: Any) -> None:
        self.history.append({"at": now.isoformat(), "what": what, "by": actor, **detail})
        self.updated_at = now

    def check_open(self) -> None:
        if not self.is_open:
            raise Conflict(
                "this exception is already resolved",
                code="exception_resolved",
                resolution=self.resolution,
            )


def open_case(
    order: Order,
    case_id: str,
    reason: str,
    now: datetime,
    actor: str | None,
    **detail: Any,
) -> ExceptionCase:
    """Open a case for the order and announce it (`order.exception`)."""
    case = ExceptionCase(
        id=case_id,
        order_id=order.id,
        channel=order.channel,
        reason=reason,
        opened_at=now,
        updated_at=now,
        locations=sorted(order.excluded_locations),
    )
    case.note("opened", now, actor, reason=reason, **detail)
    order.exception_id = case.id
    order.record(
        "order.exception",
        actor,
        exception_id=case.id,
        reason=reason,
        failed_locations=case.locations,
        waiting=order.to_source(),
        **detail,
    )
    return case


def reopen_note(
    case: ExceptionCase, order: Order, reason: str, now: datetime, actor: str | None, **detail: Any
) -> None:
    """Another reason to look at an order already in the queue: added to its history."""
    case.locations = sorted(set(case.locations) | order.excluded_locations)
    case.note("again", now, actor, reason=reason, **detail)


def resolve_case(
    case: ExceptionCase, order: Order, resolution: str, now: datetime, actor: str | None
) -> None:
    """Close the case (`order.exception_resolved`)."""
    case.check_open()
    case.status = CaseStatus.RESOLVED
    case.resolution = resolution
    case.resolved_at = now
    case.note("resolved", now, actor, resolution=resolution)
    if order.exception_id == case.id:
        order.exception_id = None
    order.record("order.exception_resolved", actor, exception_id=case.id, resolution=resolution)
