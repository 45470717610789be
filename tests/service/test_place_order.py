"""Placing orders: where units are sourced, idempotency, validation, explanations."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.service.factories import (
    DESTINATIONS,
    World,
    line_counts,
    open_fulfilment,
    placed_at,
)

from ordergrid.adapters.memory import InMemoryUnitOfWork
from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.inventory import Position
from ordergrid.domain.orders import OrderStatus
from ordergrid.service.bus import MessageBus
from ordergrid.service.context import Context


def test_order_is_sourced_to_the_cheapest_covering_location(world: World) -> None:
    # The New York store is 4 km away but its handling cost (3.0) outweighs Atlanta's
    # 1,200 km of per-unit-km cost for two units; Chicago is both far and expensive.
    for loc in ("ST-NY1", "DC-ATL", "ST-CHI"):
        world.stock(loc, "A", 5)
    order = world.place(("A", 2))
    assert order.status is OrderStatus.ALLOCATED
    assert placed_at(order) == {"DC-ATL": 2}
    assert world.position("DC-ATL", "A") == Position("DC-ATL", "A", on_hand=5, reserved=2)
    assert world.position("ST-NY1", "A").reserved == 0
    [decision] = world.decisions(order.id)
    plan = decision.explanation["plan"]
    candidates = decision.explanation["candidates"]
    costs = {c["location_id"]: c["single_location_cost"] for c in candidates}
    assert plan["cost"] == min(costs.values()) == costs["DC-ATL"]


def test_a_covering_location_beats_a_nearer_one_that_cannot_cover(world: World) -> None:
    world.stock("ST-NY1", "A", 1)
    world.stock("DC-ATL", "A", 3)
    order = world.place(("A", 3))
    assert placed_at(order) == {"DC-ATL": 3}


@pytest.mark.parametrize(("destination", "nearer"), [("NYC", "DC-ATL"), ("SAC", "DC-RNO")])
def test_nearer_of_two_equal_dcs_wins(world: World, destination: str, nearer: str) -> None:
    world.stock("DC-ATL", "A", 10)
    world.stock("DC-RNO", "A", 10)
    order = world.place(("A", 2), to=destination)
    assert placed_at(order) == {nearer: 2}


def test_paused_location_is_never_used(world: World) -> None:
    world.stock("ST-NY2", "A", 50)  # paused, next door to the customer
    order = world.place(("A", 1))
    assert order.status is OrderStatus.BACKORDERED
    assert order.fulfilments == []
    [decision] = world.decisions(order.id)
    [candidate] = decision.explanation["candidates"]
    assert (candidate["location_id"], candidate["status"], candidate["reason"]) == (
        "ST-NY2",
        "excluded",
        "location_paused",
    )

    world.stock("DC-RNO", "A", 1)
    other = world.place(("A", 1))
    assert placed_at(other) == {"DC-RNO": 1}


def test_order_is_split_when_no_single_location_covers_it(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    world.stock("ST-CHI", "A", 2)
    world.stock("DC-RNO", "A", 2)
    world.stock("DC-ATL", "B", 1)
    order = world.place(("A", 5), ("B", 1))
    assert order.status is OrderStatus.ALLOCATED
    # Nearest first within the chosen set: Chicago, then Atlanta, then Reno for the last unit.
    assert placed_at(order) == {"ST-CHI": 2, "DC-ATL": 3, "DC-RNO": 1}
    assert line_counts(order, "1")["allocated"] == 5
    assert line_counts(order, "2")["allocated"] == 1


def test_split_is_capped_at_three_shipments_and_the_rest_backordered(world: World) -> None:
    for loc in ("DC-ATL", "DC-RNO", "ST-CHI", "ST-NY1"):
        world.stock(loc, "A", 1)
    order = world.place(("A", 4))
    assert len(placed_at(order)) == 3
    assert line_counts(order) == {
        "allocated": 3,
        "backordered": 1,
        "shipped": 0,
        "cancelled": 0,
        "unsourced": 0,
    }
    assert order.status is OrderStatus.PARTIALLY_ALLOCATED


def test_partial_allocation_backorders_the_rest_with_default_fallback(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    order = world.place(("A", 5))
    assert order.status is OrderStatus.PARTIALLY_ALLOCATED
    assert line_counts(order) == {
        "allocated": 2,
        "backordered": 3,
        "shipped": 0,
        "cancelled": 0,
        "unsourced": 0,
    }
    assert world.position("DC-ATL", "A").reserved == 2
    stored = world.order(order.id)
    assert stored.status is OrderStatus.PARTIALLY_ALLOCATED
    assert "order.backordered" in world.event_types(order.id)
    [decision] = world.decisions(order.id)
    assert decision.explanation["outcome"] == "partially_allocated"
    assert decision.explanation["backordered"] == [{"line_id": "1", "quantity": 3}]


def test_duplicate_channel_and_external_id_returns_the_existing_order(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    first, created = world.place_returning_created(("A", 2), external_id="WEB-1")
    again, created_again = world.place_returning_created(("A", 2), external_id="WEB-1")
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert world.position("DC-ATL", "A").reserved == 2
    assert len(world.decisions(first.id)) == 1
    # The same external id on another channel is another order.
    other = world.place(("A", 1), external_id="WEB-1", channel="app")
    assert other.id != first.id
    assert world.position("DC-ATL", "A").reserved == 3


def test_idempotency_key_with_same_body_returns_the_same_order(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    first = world.place(("A", 1), external_id="E1", key="K1", fingerprint="body-1")
    again, created = world.place_returning_created(
        ("A", 1), external_id="E1", key="K1", fingerprint="body-1"
    )
    assert (again.id, created) == (first.id, False)
    assert world.position("DC-ATL", "A").reserved == 1


def test_idempotency_key_reused_with_another_body_is_refused(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    world.place(("A", 1), external_id="E1", key="K1", fingerprint="body-1")
    with pytest.raises(InvalidInput) as err:
        world.place(("A", 2), external_id="E2", key="K1", fingerprint="body-2")
    assert err.value.code == "idempotency_key_reused"
    assert world.position("DC-ATL", "A").reserved == 1


def test_unknown_sku_is_invalid_input_naming_the_line(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    with pytest.raises(InvalidInput) as err:
        world.place(("A", 1), ("NOPE", 1))
    assert err.value.code == "unknown_sku"
    assert err.value.details["field"] == "lines.1.sku"
    assert world.position("DC-ATL", "A").reserved == 0
    with world.uow() as uow:
        assert uow.orders.count_by_status() == {}


def test_pickup_order_goes_to_its_pickup_store_only(world: World) -> None:
    world.stock("ST-CHI", "A", 2)
    world.stock("ST-NY1", "A", 20)
    world.stock("DC-ATL", "A", 20)
    order = world.place(("A", 2), method="pickup", pickup="ST-CHI")
    assert placed_at(order) == {"ST-CHI": 2}
    short = world.place(("A", 3), method="pickup", pickup="ST-CHI")
    assert short.fulfilments == []
    assert short.status is OrderStatus.BACKORDERED
    [decision] = world.decisions(short.id)
    reasons = {c["location_id"]: c["reason"] for c in decision.explanation["candidates"]}
    assert reasons == {
        "DC-ATL": "capability_missing",
        "ST-NY1": "not_pickup_location",
        "ST-CHI": "no_available_stock",
    }


def test_decision_lists_every_stock_holding_location_with_status_and_reason(
    world: World,
) -> None:
    for loc in ("DC-ATL", "DC-RNO", "ST-NY1", "ST-NY2", "ST-CHI"):
        world.stock(loc, "A", 3)
    world.place(("A", 3), external_id="TAKES-CHI", to="NYC", method="pickup", pickup="ST-CHI")
    order = world.place(("A", 1))
    [decision] = world.decisions(order.id)
    candidates = {c["location_id"]: c for c in decision.explanation["candidates"]}
    assert set(candidates) == {"DC-ATL", "DC-RNO", "ST-NY1", "ST-NY2", "ST-CHI"}
    status = {k: (c["status"], c["reason"]) for k, c in candidates.items()}
    assert status == {
        "DC-ATL": ("chosen", None),
        "DC-RNO": ("scored", "beaten"),
        "ST-NY1": ("scored", "beaten"),
        "ST-NY2": ("excluded", "location_paused"),
        "ST-CHI": ("excluded", "no_available_stock"),
    }
    assert decision.explanation["trigger"] == "order_placed"
    assert decision.explanation["plan"]["shipments"][0]["location_id"] == "DC-ATL"
    assert decision.explanation["runner_ups"], "beaten plans are kept as runner-ups"


class _LosesFirstReservation:
    """Inventory whose first reservation finds the stock gone, as a concurrent one would."""

    def __init__(self, inner: object, lost: list[bool]) -> None:
        self._inner = inner
        self._lost = lost

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def reserve(self, location_id: str, sku: str, quantity: int, keep: int = 0) -> Position | None:
        if not self._lost:
            self._lost.append(True)
            return None
        reserve = getattr(self._inner, "reserve")  # noqa: B009 - keeps the wrapper untyped
        result: Position | None = reserve(location_id, sku, quantity, keep)
        return result


def test_lost_reservation_race_is_retried_by_the_bus(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    lost: list[bool] = []
    attempts: list[int] = []

    def racing_uow(readonly: bool = False) -> InMemoryUnitOfWork:
        uow = InMemoryUnitOfWork(world.store, readonly)
        uow.inventory = _LosesFirstReservation(uow.inventory, lost)  # type: ignore[assignment]
        attempts.append(1)
        return uow

    ctx = Context(uow=racing_uow, clock=world.clock, ids=world.ctx.ids, geocoder=world.ctx.geocoder)
    world.bus = MessageBus(ctx)
    order = world.place(("A", 2))
    assert lost == [True]
    assert len(attempts) == 2  # the first transaction was rolled back and run again
    assert placed_at(order) == {"DC-ATL": 2}
    assert world.position("DC-ATL", "A").reserved == 2
    with world.uow() as uow:
        assert uow.orders.count_by_status() == {"allocated": 1}
    assert len(world.decisions(order.id)) == 1  # the lost attempt left nothing behind
    assert open_fulfilment(order, "DC-ATL")


def test_address_without_coordinates_is_geocoded_from_its_postal_code(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-RNO", "A", 5)
    order = world.place(("A", 1), to=replace(DESTINATIONS["SAC"], lat=None, lon=None))
    assert order.delivery.address is not None
    assert (order.delivery.address.lat, order.delivery.address.lon) == (38.58, -121.49)
    assert placed_at(order) == {"DC-RNO": 1}
    nowhere = replace(DESTINATIONS["SAC"], lat=None, lon=None, postal_code="00000")
    with pytest.raises(InvalidInput) as err:
        world.place(("A", 1), to=nowhere)
    assert err.value.code == "address_not_geocodable"
    assert err.value.details["field"] == "delivery.address.postal_code"
