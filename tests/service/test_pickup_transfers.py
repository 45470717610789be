"""Pick-up orders sourced through a transfer, on the in-memory backend: the store's
missing units reserved at a source by a transfer created for the order, the pick-up
ready only once the store received it, a source that rejects excluded and the units
sourced again, and the policy switch the promise obeys too."""

from __future__ import annotations

import pytest
from tests.service.factories import World, line_counts, open_fulfilment

from ordergrid.domain.errors import Conflict
from ordergrid.domain.orders import Order, OrderStatus
from ordergrid.domain.supply import Supply, SupplyStatus
from ordergrid.service.commands import PutPolicy
from ordergrid.service.pickup_transfers import awaiting_transfer
from ordergrid.service.supply_commands import DispatchSupply, ReceiveSupply, RejectTransfer


def transfers_of(world: World, order: Order) -> list[Supply]:
    with world.uow() as uow:
        ids = {p.supply_id for p in uow.supply.pegs_of_order(order.id)}
        found = [uow.supply.get(i) for i in sorted(ids)]
    return [s for s in found if s is not None]


def a_pickup_order_lacking_b(world: World) -> Order:
    world.stock("ST-NY1", "A", 1)
    world.stock("DC-ATL", "B", 5)
    return world.place(("A", 1), ("B", 2), method="pickup", pickup="ST-NY1")


def test_missing_units_travel_to_the_store_by_a_transfer_reserved_at_the_source(
    world: World,
) -> None:
    order = a_pickup_order_lacking_b(world)
    [transfer] = transfers_of(world, order)
    assert (transfer.origin, transfer.location_id, transfer.order_id) == (
        "DC-ATL",
        "ST-NY1",
        order.id,
    )
    assert [(x.sku, x.quantity, x.pegged) for x in transfer.lines] == [("B", 2, 2)]
    assert world.position("DC-ATL", "B").reserved == 2
    assert order.pickup_ready_by is not None
    # As the promise quotes it: received at the store's opening on the arrival day.
    assert order.pickup_ready_by.date() == transfer.expected_at.date()
    assert "order.transfer_requested" in world.event_types(order.id)
    assert line_counts(order, "2")["backordered"] == 2


def test_the_pickup_is_ready_only_after_the_store_received_the_transfer(world: World) -> None:
    order = a_pickup_order_lacking_b(world)
    [transfer] = transfers_of(world, order)
    at_store = open_fulfilment(order, "ST-NY1")
    world.act(at_store, "accept")
    world.act(at_store, "pick", picked={"1": 1})
    with pytest.raises(Conflict) as early:
        world.act(at_store, "ready_for_pickup")
    assert early.value.code == "awaiting_transfer"
    world.bus.handle(DispatchSupply(transfer.id))
    world.bus.handle(ReceiveSupply(transfer.id, "R-1", (("B", 2),)))
    order = world.order(order.id)
    assert line_counts(order, "2")["allocated"] == 2
    with world.uow() as uow:
        assert awaiting_transfer(uow, order) == []
    for f in [f for f in order.fulfilments if f.is_open]:
        if f.status.value == "released":
            world.act(f.id, "accept")
            world.act(f.id, "pick", picked={line.line_id: line.quantity for line in f.lines})
        world.act(f.id, "ready_for_pickup")
        world.act(f.id, "collect")
    order = world.order(order.id)
    assert order.status is OrderStatus.COMPLETED
    assert world.position("DC-ATL", "B").on_hand == 3


def test_a_source_that_rejects_is_excluded_and_the_units_sourced_again(world: World) -> None:
    order = a_pickup_order_lacking_b(world)
    world.stock("DC-RNO", "B", 5)
    [first] = transfers_of(world, order)
    world.bus.handle(RejectTransfer(first.id, "no_stock"))
    order = world.order(order.id)
    assert "DC-ATL" in order.excluded_locations
    assert world.position("DC-ATL", "B").reserved == 0
    again = [t for t in transfers_of(world, order) if t.status is SupplyStatus.OPEN]
    assert [(t.origin, t.order_id) for t in again] == [("DC-RNO", order.id)]
    assert world.position("DC-RNO", "B").reserved == 2


def test_with_no_other_source_the_units_stay_back_ordered(world: World) -> None:
    order = a_pickup_order_lacking_b(world)
    [first] = transfers_of(world, order)
    world.bus.handle(RejectTransfer(first.id, "damaged"))
    order = world.order(order.id)
    assert transfers_of(world, order) == []
    assert line_counts(order, "2")["backordered"] == 2
    assert order.pickup_ready_by is None


def test_the_policy_switch_turns_transfers_off_for_orders(world: World) -> None:
    doc = {"name": "pickup", "promise": {"pickup_transfers": False}}
    world.bus.handle(PutPolicy("pickup", doc, activate=True))
    order = a_pickup_order_lacking_b(world)
    assert transfers_of(world, order) == []
    assert world.position("DC-ATL", "B").reserved == 0
    assert line_counts(order, "2")["backordered"] == 2
