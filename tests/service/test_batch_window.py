"""Batch windows through the service layer: orders wait, then are sourced together."""

from __future__ import annotations

from tests.service.factories import World, placed_at

from ordergrid.domain.orders import OrderStatus
from ordergrid.service.commands import PutPolicy

# Distance matters more than the store's handling cost, so the store near the customer
# wins any order it can serve alone.
NEAR_FIRST = {"name": "near first", "costs": {"per_unit_km": 0.01}}
BATCHED = {**NEAR_FIRST, "name": "batched web", "batch_window_seconds": 30}


def _stock_for_the_conflict(world: World) -> None:
    # The New York store holds one A and the only B; Atlanta holds plenty of A.
    world.stock("ST-NY1", "A", 1)
    world.stock("ST-NY1", "B", 1)
    world.stock("DC-ATL", "A", 5)


def test_without_a_window_the_first_order_takes_the_stock_the_second_needed(
    world: World,
) -> None:
    world.bus.handle(PutPolicy("web", NEAR_FIRST, activate=True))
    _stock_for_the_conflict(world)
    first = world.place(("A", 1))
    second = world.place(("A", 1), ("B", 1))
    assert placed_at(first) == {"ST-NY1": 1}
    assert placed_at(second) == {"ST-NY1": 1, "DC-ATL": 1}  # two parcels


def test_orders_in_a_window_wait_then_ship_in_fewer_parcels(world: World) -> None:
    world.bus.handle(PutPolicy("web", BATCHED, activate=True))
    _stock_for_the_conflict(world)
    first = world.place(("A", 1))
    second = world.place(("A", 1), ("B", 1))
    for order in (first, second):
        assert order.status is OrderStatus.RECEIVED
        assert "order.waiting" in world.event_types(order.id)
        assert world.decisions(order.id) == []
    assert world.work() == 0  # the window is still open
    world.clock.advance(seconds=30)
    assert world.work() == 1  # one batch sourced both; the second timer went with it
    assert placed_at(world.order(first.id)) == {"DC-ATL": 1}
    assert placed_at(world.order(second.id)) == {"ST-NY1": 2}
    [decision] = world.decisions(second.id)
    assert decision.explanation["trigger"] == "batch_window"
    assert world.position("ST-NY1", "A").reserved == 1
    assert world.position("DC-ATL", "A").reserved == 1
    with world.uow() as uow:
        assert uow.timers.claim_kind("batch_sourcing", 10) == []


def test_a_held_order_is_not_batched_and_a_window_of_zero_sources_at_once(
    world: World,
) -> None:
    world.bus.handle(PutPolicy("web", {**BATCHED, "batch_window_seconds": 0}, activate=True))
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 1))
    assert placed_at(order) == {"DC-ATL": 1}
    assert "order.waiting" not in world.event_types(order.id)


def test_a_pickup_in_a_window_is_sent_what_its_store_lacks_by_transfer(world: World) -> None:
    world.bus.handle(PutPolicy("web", BATCHED, activate=True))
    world.stock("ST-NY1", "A", 1)
    world.stock("DC-ATL", "B", 5)
    order = world.place(("A", 1), ("B", 2), method="pickup", pickup="ST-NY1")
    assert order.status is OrderStatus.RECEIVED
    world.clock.advance(seconds=30)
    assert world.work() == 1
    with world.uow() as uow:
        pegs = uow.supply.pegs_of_order(order.id)
    assert [(p.sku, p.quantity) for p in pegs] == [("B", 2)]
    assert world.position("DC-ATL", "B").reserved == 2
    assert "order.transfer_requested" in world.event_types(order.id)
