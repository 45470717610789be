"""Cancelling whole orders or some units, and holding orders out of sourcing."""

from __future__ import annotations

import pytest
from tests.service.factories import World, line_counts, open_fulfilment, placed_at

from ordergrid.domain.errors import Conflict, InvalidTransition
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.orders import OrderStatus
from ordergrid.service.commands import SetHold
from ordergrid.service.relay import relay_once


def test_cancel_whole_order_releases_its_reservations(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    world.stock("DC-ATL", "B", 5)
    order = world.place(("A", 3), ("B", 1))  # one unit of A back-ordered
    world.act(open_fulfilment(order), "accept")
    cancelled = world.cancel(order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert world.order(order.id).status is OrderStatus.CANCELLED
    assert world.position("DC-ATL", "A").reserved == 0
    assert world.position("DC-ATL", "B").reserved == 0
    assert line_counts(cancelled, "1") == {
        "allocated": 0,
        "backordered": 0,
        "shipped": 0,
        "cancelled": 3,
        "unsourced": 0,
    }
    assert all(f.status is FulfilmentStatus.CANCELLED for f in cancelled.fulfilments)
    assert "order.cancelled" in world.event_types(order.id)
    with pytest.raises(InvalidTransition):
        world.cancel(order.id)


def test_cancel_part_of_a_line_keeps_the_rest_allocated(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 3))
    after = world.cancel(order.id, {"1": 1})
    assert after.status is OrderStatus.ALLOCATED
    assert line_counts(after) == {
        "allocated": 2,
        "backordered": 0,
        "shipped": 0,
        "cancelled": 1,
        "unsourced": 0,
    }
    assert placed_at(after) == {"DC-ATL": 2}
    assert world.position("DC-ATL", "A").reserved == 2


def test_partial_cancel_takes_backordered_units_first(world: World) -> None:
    world.stock("DC-ATL", "A", 1)
    order = world.place(("A", 3))
    after = world.cancel(order.id, {"1": 2})
    assert line_counts(after) == {
        "allocated": 1,
        "backordered": 0,
        "shipped": 0,
        "cancelled": 2,
        "unsourced": 0,
    }
    assert after.status is OrderStatus.ALLOCATED
    assert world.position("DC-ATL", "A").reserved == 1


def test_cancel_more_than_cancellable_is_a_conflict(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 2))
    fid = open_fulfilment(order)
    world.act(fid, "accept")
    world.act(fid, "ship")
    with pytest.raises(Conflict) as err:
        world.cancel(order.id, {"1": 1})
    assert err.value.code == "not_cancellable"


def test_cancel_after_ship_is_order_already_shipped(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 2))
    fid = open_fulfilment(order)
    world.act(fid, "accept")
    world.act(fid, "ship")
    with pytest.raises(Conflict) as err:
        world.cancel(order.id)
    assert err.value.code == "order_already_shipped"
    assert world.order(order.id).status is OrderStatus.SHIPPED
    assert world.position("DC-ATL", "A").on_hand == 3


def test_hold_keeps_order_out_of_sourcing_and_release_sources_it(world: World) -> None:
    order = world.place(("A", 2))
    assert order.status is OrderStatus.BACKORDERED
    held = world.bus.handle(SetHold(order.id, True, "fraud review"))
    assert held.status is OrderStatus.ON_HOLD
    world.stock("DC-ATL", "A", 5)
    relay_once(world.bus)
    assert world.order(order.id).status is OrderStatus.ON_HOLD
    assert world.position("DC-ATL", "A").reserved == 0
    released = world.bus.handle(SetHold(order.id, False, None))
    assert released.status is OrderStatus.ALLOCATED
    assert placed_at(released) == {"DC-ATL": 2}
    assert world.position("DC-ATL", "A").reserved == 2
    types = world.event_types(order.id)
    assert types.index("order.hold") < types.index("order.hold_released")


def test_hold_of_an_allocated_order_and_release_restores_its_status(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 1))
    assert world.bus.handle(SetHold(order.id, True, None)).status is OrderStatus.ON_HOLD
    with pytest.raises(Conflict) as err:
        world.bus.handle(SetHold(order.id, True, None))
    assert err.value.code == "already_on_hold"
    assert world.bus.handle(SetHold(order.id, False, None)).status is OrderStatus.ALLOCATED
    assert world.position("DC-ATL", "A").reserved == 1


def test_cancel_after_a_partial_shipment_cancels_only_what_is_left(world: World) -> None:
    world.stock("DC-ATL", "A", 1)
    world.stock("ST-CHI", "A", 1)
    order = world.place(("A", 2))
    assert placed_at(order) == {"DC-ATL": 1, "ST-CHI": 1}
    chi = open_fulfilment(order, "ST-CHI")
    world.act(chi, "accept")
    assert world.act(chi, "ship").status is OrderStatus.PARTIALLY_SHIPPED
    after = world.cancel(order.id)
    assert line_counts(after) == {
        "allocated": 0,
        "backordered": 0,
        "shipped": 1,
        "cancelled": 1,
        "unsourced": 0,
    }
    assert after.status is OrderStatus.SHIPPED
    assert world.position("DC-ATL", "A").reserved == 0
    assert world.position("ST-CHI", "A").on_hand == 0
