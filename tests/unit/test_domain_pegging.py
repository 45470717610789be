"""Where an order may wait for supply, and the decision that places pegged units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ordergrid.domain.network import Address, Capability, Location, LocationStatus, LocationType
from ordergrid.domain.orders import Delivery, DeliveryMethod, Order, OrderLine
from ordergrid.domain.pegging import (
    RECEIPT_SOLVER,
    location_may_serve,
    may_peg,
    pegging_horizon,
    receipt_decision,
)
from ordergrid.domain.sourcing.policy import DEFAULT_POLICY, policy_from_document
from ordergrid.domain.supply import Incoming, Supply, SupplyKind, SupplyLine, SupplyStatus

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALLOWING = policy_from_document("p", 1, {"future_supply": {"allow": True, "max_days": 10}})


def a_location(
    location_id: str = "DC1",
    kind: LocationType = LocationType.DC,
    caps: frozenset[Capability] = frozenset({Capability.SHIP}),
    status: LocationStatus = LocationStatus.ACTIVE,
    tags: frozenset[str] = frozenset(),
) -> Location:
    return Location(
        id=location_id,
        name=location_id,
        type=kind,
        address=Address(country="US", lat=33.75, lon=-84.39),  # Atlanta
        capabilities=caps,
        status=status,
        tags=tags,
    )


def an_order(
    method: DeliveryMethod = DeliveryMethod.SHIP, pickup: str | None = None, backordered: int = 3
) -> Order:
    address = None if pickup else Address(country="US", lat=40.75, lon=-73.99)  # New York
    return Order(
        id="O1",
        external_id="W-1",
        channel="web",
        delivery=Delivery(method, address=address, pickup_location_id=pickup),
        lines=[
            OrderLine("1", "A", 3, backordered=backordered),
            OrderLine("2", "B", 2, backordered=2),
        ],
        created_at=T0,
        updated_at=T0,
    )


def a_supply(days: float = 5, status: SupplyStatus = SupplyStatus.OPEN) -> Supply:
    return Supply(
        id="PO-1",
        kind=SupplyKind.TRANSFER,
        location_id="DC1",
        expected_at=T0 + timedelta(days=days),
        lines=[SupplyLine("A", 10)],
        created_at=T0,
        updated_at=T0,
        status=status,
    )


def incoming(days: float = 5) -> Incoming:
    return Incoming("PO-1", "DC1", T0 + timedelta(days=days), 10)


def test_the_default_policy_never_pegs() -> None:
    assert pegging_horizon(DEFAULT_POLICY, T0) is None
    assert not may_peg(incoming(), a_location(), an_order(), DEFAULT_POLICY, T0)


def test_supply_within_the_horizon_may_hold_the_order() -> None:
    assert pegging_horizon(ALLOWING, T0) == T0 + timedelta(days=10)
    assert may_peg(incoming(days=10), a_location(), an_order(), ALLOWING, T0)
    assert not may_peg(incoming(days=10.5), a_location(), an_order(), ALLOWING, T0)


@pytest.mark.parametrize(
    ("doc", "location", "fits"),
    [
        ({}, a_location(), True),
        ({"constraints": {"location_types": ["store"]}}, a_location(), False),
        (
            {"constraints": {"exclude_location_tags": ["no-ecom"]}},
            a_location(tags=frozenset({"no-ecom"})),
            False,
        ),
        ({"constraints": {"include_location_tags": ["east"]}}, a_location(), False),
        ({"constraints": {"max_distance_km": 500}}, a_location(), False),  # ATL-NYC ~1200 km
        ({"constraints": {"max_distance_km": 1500}}, a_location(), True),
        ({}, a_location(status=LocationStatus.CLOSED), False),
        ({}, a_location(status=LocationStatus.PAUSED), True),  # may reopen before arrival
        ({}, a_location(caps=frozenset({Capability.PICKUP})), False),
    ],
)
def test_the_policy_rules_decide_where_an_order_may_wait(
    doc: dict[str, object], location: Location, fits: bool
) -> None:
    assert location_may_serve(location, an_order(), policy_from_document("p", 1, doc)) is fits


def test_a_pickup_order_waits_only_for_supply_at_its_store() -> None:
    store = a_location("ST1", LocationType.STORE, frozenset({Capability.SHIP, Capability.PICKUP}))
    other = a_location("ST2", LocationType.STORE, frozenset({Capability.SHIP, Capability.PICKUP}))
    order = an_order(DeliveryMethod.PICKUP, pickup="ST1")
    assert location_may_serve(store, order, ALLOWING)
    assert not location_may_serve(other, order, ALLOWING)


def test_a_location_that_failed_the_order_is_not_waited_for() -> None:
    order = an_order()
    order.excluded_locations.add("DC1")
    assert not location_may_serve(a_location(), order, ALLOWING)


def test_receipt_decision_places_the_units_and_keeps_the_rest_backordered() -> None:
    decision = receipt_decision(an_order(), ALLOWING, a_supply(), {"1": 2})
    [shipment] = decision.plan.shipments
    assert shipment.location_id == "DC1"
    assert [(a.line_id, a.sku, a.quantity) for a in shipment.allocations] == [("1", "A", 2)]
    assert decision.backordered == {"1": 1, "2": 2}
    assert decision.outcome == "partially_allocated"
    assert decision.solver == RECEIPT_SOLVER
    assert decision.candidates[0].reason == "pegged_supply_received"


def test_receipt_decision_covering_everything_is_allocated() -> None:
    order = an_order()
    decision = receipt_decision(order, ALLOWING, a_supply(), {"1": 3, "2": 2})
    assert decision.backordered == {}
    assert decision.outcome == "allocated"
