"""Which supply may hold an order's back-ordered units, and the decision that places
pegged units at the receiving location once they arrive."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from ordergrid.domain.geo import great_circle_km
from ordergrid.domain.network import Location, LocationStatus
from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing.decision import (
    Allocation,
    Candidate,
    Decision,
    Explanation,
    Plan,
    Shipment,
)
from ordergrid.domain.sourcing.policy import Policy
from ordergrid.domain.sourcing.screening import CAPABILITY_FOR
from ordergrid.domain.supply import Incoming, Supply

#: The solver name recorded on decisions that place units a receipt brought in.
RECEIPT_SOLVER = "supply_receipt"


def pegging_horizon(policy: Policy, now: datetime) -> datetime | None:
    """Supply expected up to this time may hold the policy's back-orders; None: none may."""
    rules = policy.future_supply
    return now + timedelta(days=rules.max_days) if rules.allow else None


def location_may_serve(location: Location, order: Order, policy: Policy) -> bool:
    """The policy's hard rules on where an order may come from, applied to the receiving
    location of a supply document (capacity and stock are judged when the units land)."""
    c = policy.constraints
    pickup = order.delivery.pickup_location_id
    fits = (
        location.status is not LocationStatus.CLOSED
        and location.id not in order.excluded_locations
        and (c.location_types is None or location.type.value in c.location_types)
        and (not location.channels or order.channel in location.channels)
        and CAPABILITY_FOR[order.delivery.method] in location.capabilities
        and not (location.tags & c.exclude_location_tags)
        and (not c.include_location_tags or bool(location.tags & c.include_location_tags))
    )
    if not fits:
        return False
    if order.delivery.method.collects_at_store:
        return location.id == pickup
    return _within_distance(location, order, c.max_distance_km)


def _within_distance(location: Location, order: Order, limit: float | None) -> bool:
    address = order.delivery.address
    if limit is None or address is None or address.lat is None or address.lon is None:
        return True
    a = location.address
    if a.lat is None or a.lon is None:
        return False
    return great_circle_km(a.lat, a.lon, address.lat, address.lon) <= limit


def may_peg(
    incoming: Incoming, location: Location, order: Order, policy: Policy, now: datetime
) -> bool:
    """Supply the policy lets the order wait for: expected within the horizon, at a
    location that may serve the order."""
    horizon = pegging_horizon(policy, now)
    return (
        horizon is not None
        and incoming.expected_at <= horizon
        and location_may_serve(location, order, policy)
    )


def receipt_decision(
    order: Order, policy: Policy, supply: Supply, units: Mapping[str, int]
) -> Decision:
    """Place `units` (per line id) at the receiving location; the order's other waiting
    units stay back-ordered. Explained as what it is: the units were pegged to this
    supply, so no other location was considered."""
    wanted = order.to_source()
    allocations = tuple(
        Allocation(line_id, _sku(order, line_id), quantity)
        for line_id, quantity in sorted(units.items())
        if quantity > 0
    )
    shipment = Shipment(supply.location_id, allocations, None, {})
    backordered = {
        line_id: left
        for line_id, waiting in wanted.items()
        if (left := waiting - units.get(line_id, 0)) > 0
    }
    chosen = Candidate(
        supply.location_id,
        "chosen",
        reason="pegged_supply_received",
        detail=f"units pegged to supply {supply.id!r} arrived",
    )
    return Decision(
        policy_id=policy.id,
        policy_version=policy.version,
        outcome="partially_allocated" if backordered else "allocated",
        plan=Plan((shipment,)),
        backordered=backordered,
        cancelled={},
        explanation=Explanation(((chosen,), ())),
        solver=RECEIPT_SOLVER,
        summary=f"pegged units received at {supply.location_id} (supply {supply.id})",
    )


def _sku(order: Order, line_id: str) -> str:
    line = order.line(line_id)
    assert line is not None
    return line.sku
