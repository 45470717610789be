"""Back-orders: nobody starves behind orders that cannot be served, held orders wait
without losing units, and a periodic sweep catches a missed wake-up."""

from __future__ import annotations

from tests.service.factories import World, open_fulfilment

from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import OrderStatus
from ordergrid.service.backorders import PAGE
from ordergrid.service.commands import SetHold, SweepBackorders
from ordergrid.service.relay import relay_once


def test_orders_that_cannot_be_served_do_not_block_the_queue(world: World) -> None:
    # More pick-up orders than a page, waiting at a Chicago store that never gets stock.
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
