"""Back-orders: nobody starves behind orders that cannot be served, held orders wait
without losing units, a periodic sweep catches a missed wake-up, and stock wakes only
the orders it can help."""

from __future__ import annotations

from typing import Any

import pytest
from tests.service.factories import World, line_counts, open_fulfilment

from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import Order, OrderStatus
from ordergrid.domain.supply import Peg
from ordergrid.service import backorders
from ordergrid.service.backorders import PAGE
from ordergrid.service.commands import PutPolicy, SetHold, SweepBackorders
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.relay import relay_once


def test_orders_that_cannot_be_served_do_not_block_the_queue(world: World) -> None:
    # More pick-up orders than a page, waiting at a Chicago store that never gets stock
    # nor transfers.
    no_transfers = {"name": "pickup", "promise": {"pickup_transfers": False}}
    world.bus.handle(PutPolicy("pickup", no_transfers, activate=True))
    for _ in range(PAGE + 5):
        world.place(("A", 1), method="pickup", pickup="ST-CHI")
    shipped = world.place(("A", 1))
    assert world.order(shipped.id).status is OrderStatus.BACKORDERED
    world.stock("DC-ATL", "A", 3)
    relay_once(world.bus)
    assert world.order(shipped.id).status is OrderStatus.ALLOCATED


def test_units_freed_while_on_hold_wait_as_backordered(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 2))
    world.bus.handle(SetHold(order.id, True, "review"))
    world.act(open_fulfilment(world.order(order.id)), "reject")
    held = world.order(order.id)
    c = held.counts(held.lines[0])
    assert (c.allocated, c.backordered, c.unsourced) == (0, 2, 0)
    world.stock("DC-RNO", "A", 5)
    relay_once(world.bus)
    assert world.order(order.id).status is OrderStatus.ON_HOLD  # waits for the release
    world.bus.handle(SetHold(order.id, False, "ok"))
    released = world.order(order.id)
    assert released.status is OrderStatus.ALLOCATED
    assert world.event_types(order.id).count("order.received") == 1


def test_sweep_finds_a_backorder_whose_wake_up_was_missed(world: World) -> None:
    order = world.place(("A", 1))
    while relay_once(world.bus):  # everything announced so far is handled
        pass
    with world.uow() as uow:  # stock that arrived without an event the order could see
        uow.inventory.move(Movement("DC-ATL", "A", 4, 0, MovementReason.RECEIPT))
        uow.commit()
    relay_once(world.bus)
    assert world.order(order.id).status is OrderStatus.BACKORDERED
    assert world.bus.handle(SweepBackorders()) == 1
    assert world.order(order.id).status is OrderStatus.ALLOCATED


def test_a_full_pick_does_not_resource_the_orders_backorders(world: World) -> None:
    world.stock("DC-ATL", "A", 1)
    order = world.place(("A", 3))
    fid = open_fulfilment(world.order(order.id))
    world.act(fid, "accept")
    world.act(fid, "pick")
    triggers = [d.explanation["trigger"] for d in world.decisions(order.id)]
    assert triggers == ["order_placed"]


def _pickup_lacking_b_brought_by_transfer(world: World) -> Order:
    """A pick-up at ST-NY1 whose two B are on their way from DC-ATL by transfer."""
    world.stock("ST-NY1", "A", 1)
    world.stock("DC-ATL", "B", 2)
    order = world.place(("A", 1), ("B", 2), method="pickup", pickup="ST-NY1")
    assert [p.quantity for p in _pegs(world, order)] == [2]
    while relay_once(world.bus):
        pass
    return order


def _pegs(world: World, order: Order) -> list[Peg]:
    with world.uow() as uow:
        return uow.supply.pegs_of_order(order.id)


def _counting_sourcing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sourced: list[str] = []
    real = backorders.source_order

    def counting(uow: UnitOfWork, order: Order, *args: Any, **kwargs: Any) -> Any:
        sourced.append(order.id)
        return real(uow, order, *args, **kwargs)

    monkeypatch.setattr(backorders, "source_order", counting)
    return sourced


def test_stock_elsewhere_passes_over_a_pickup_whose_units_are_on_their_way(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _pickup_lacking_b_brought_by_transfer(world)
    sourced = _counting_sourcing(monkeypatch)
    world.stock("DC-RNO", "B", 5)
    relay_once(world.bus)
    assert sourced == []
    assert line_counts(world.order(order.id), "2")["backordered"] == 2


def test_stock_at_its_store_sources_a_pickup_whose_units_are_on_their_way(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _pickup_lacking_b_brought_by_transfer(world)
    sourced = _counting_sourcing(monkeypatch)
    world.stock("ST-NY1", "B", 2)
    relay_once(world.bus)
    assert sourced == [order.id]
    assert line_counts(world.order(order.id), "2")["allocated"] == 2


def test_stock_elsewhere_wakes_a_pickup_with_units_nothing_brings(world: World) -> None:
    world.stock("ST-NY1", "A", 1)
    order = world.place(("A", 1), ("B", 2), method="pickup", pickup="ST-NY1")
    assert _pegs(world, order) == []
    while relay_once(world.bus):
        pass
    world.stock("DC-ATL", "B", 5)
    relay_once(world.bus)
    assert [p.quantity for p in _pegs(world, order)] == [2]
    assert world.position("DC-ATL", "B").reserved == 2


def test_the_sweep_passes_over_a_pickup_on_its_way_unless_its_store_has_stock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _pickup_lacking_b_brought_by_transfer(world)
    world.stock("DC-RNO", "B", 5)
    relay_once(world.bus)
    sourced = _counting_sourcing(monkeypatch)
    assert world.bus.handle(SweepBackorders()) == 0
    assert sourced == []
    with world.uow() as uow:  # stock at its store that arrived without an event
        uow.inventory.move(Movement("ST-NY1", "B", 2, 0, MovementReason.RECEIPT))
        uow.commit()
    assert world.bus.handle(SweepBackorders()) == 1
    assert sourced == [order.id]
    assert line_counts(world.order(order.id), "2")["allocated"] == 2
