"""What locations do with their work: accept, pick, ship, hand over, reject, short-pick."""

from __future__ import annotations

import pytest
from tests.service.factories import World, line_counts, open_fulfilment, placed_at

from ordergrid.domain.errors import InvalidTransition
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.inventory import Position
from ordergrid.domain.orders import OrderStatus
from ordergrid.service.relay import relay_once


def test_accept_pick_ship_consumes_stock_and_order_is_shipped(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    order = world.place(("A", 2))
    fid = open_fulfilment(order)
    assert world.act(fid, "accept").status is OrderStatus.IN_PROGRESS
    world.act(fid, "pick", picked={"1": 2})
    assert world.position("DC-ATL", "A") == Position("DC-ATL", "A", on_hand=10, reserved=2)
    shipped = world.act(fid, "ship")
    assert shipped.status is OrderStatus.SHIPPED
    assert world.order(order.id).status is OrderStatus.SHIPPED
    assert world.position("DC-ATL", "A") == Position("DC-ATL", "A", on_hand=8, reserved=0)
    assert line_counts(shipped) == {
        "allocated": 0,
        "backordered": 0,
        "shipped": 2,
        "cancelled": 0,
        "unsourced": 0,
    }
    f = world.order(order.id).fulfilment(fid)
    assert f is not None
    assert f.parcels[0].tracking_number == "1Z999"
    types = world.event_types(order.id)
    assert (
        types.index("fulfilment.released")
        < types.index("fulfilment.accepted")
        < types.index("fulfilment.picked")
        < types.index("fulfilment.shipped")
    )
    assert types[-1] == "order.shipped"


def test_ready_for_pickup_then_collect_completes_the_order(world: World) -> None:
    world.stock("ST-CHI", "A", 3)
    order = world.place(("A", 1), method="pickup", pickup="ST-CHI")
    fid = open_fulfilment(order, "ST-CHI")
    world.act(fid, "accept")
    ready = world.act(fid, "ready_for_pickup")
    assert ready.status is OrderStatus.READY_FOR_PICKUP
    assert world.position("ST-CHI", "A").reserved == 1
    done = world.act(fid, "collect")
    assert done.status is OrderStatus.COMPLETED
    assert world.position("ST-CHI", "A") == Position("ST-CHI", "A", on_hand=2, reserved=0)
    assert "order.completed" in world.event_types(order.id)


def test_short_pick_writes_off_excludes_location_and_resources_missing_units(
    world: World,
) -> None:
    world.stock("DC-ATL", "A", 3)
    world.stock("DC-RNO", "A", 5)
    order = world.place(("A", 3))
    fid = open_fulfilment(order, "DC-ATL")
    world.act(fid, "accept")
    after = world.act(fid, "pick", picked={"1": 1})
    short = after.fulfilment(fid)
    assert short is not None
    assert short.status is FulfilmentStatus.PICKED
    assert (short.lines[0].quantity, short.lines[0].short) == (1, 2)
    # The two missing units are written off Atlanta's count and its reservation.
    assert world.position("DC-ATL", "A") == Position("DC-ATL", "A", on_hand=1, reserved=1)
    # ...and re-sourced elsewhere, never to Atlanta again.
    assert placed_at(after) == {"DC-ATL": 1, "DC-RNO": 2}
    assert "DC-ATL" in after.excluded_locations
    assert world.position("DC-RNO", "A").reserved == 2
    assert line_counts(after)["allocated"] == 3
    types = world.event_types(order.id)
    assert "fulfilment.short_picked" in types
    assert "order.rerouted" in types
    assert types[-1] in ("fulfilment.released", "order.rerouted", "order.in_progress")
    decisions = world.decisions(order.id)
    assert [d.explanation["trigger"] for d in decisions] == ["order_placed", "short_pick"]
    atl = next(c for c in decisions[1].explanation["candidates"] if c["location_id"] == "DC-ATL")
    assert (atl["status"], atl["reason"]) == ("excluded", "excluded_for_order")


def test_short_pick_of_everything_cancels_the_fulfilment(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    order = world.place(("A", 2))
    fid = open_fulfilment(order)
    world.act(fid, "accept")
    after = world.act(fid, "pick", picked={"1": 0})
    f = after.fulfilment(fid)
    assert f is not None
    assert f.status is FulfilmentStatus.CANCELLED
    assert world.position("DC-ATL", "A") == Position("DC-ATL", "A", on_hand=0, reserved=0)
    assert after.status is OrderStatus.BACKORDERED
    assert line_counts(after)["backordered"] == 2


def test_reject_resources_elsewhere_never_to_the_rejecting_location(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-RNO", "A", 5)
    order = world.place(("A", 2))
    atl = open_fulfilment(order, "DC-ATL")
    after = world.act(atl, "reject", reason="damaged")
    assert placed_at(after) == {"DC-RNO": 2}
    rejected = after.fulfilment(atl)
    assert rejected is not None
    assert rejected.status is FulfilmentStatus.REJECTED
    assert rejected.reason == "damaged"
    assert world.position("DC-ATL", "A").reserved == 0
    assert world.position("DC-RNO", "A").reserved == 2
    assert after.status is OrderStatus.ALLOCATED
    types = world.event_types(order.id)
    assert types.index("fulfilment.rejected") < len(types) - 1
    assert types.count("fulfilment.released") == 2


def test_reject_backorders_when_no_other_location_has_stock(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 2))
    after = world.act(open_fulfilment(order), "reject", reason="capacity")
    assert after.status is OrderStatus.BACKORDERED
    assert line_counts(after)["backordered"] == 2
    assert world.position("DC-ATL", "A").reserved == 0
    assert "order.backordered" in world.event_types(order.id)
    # Atlanta still has the stock, but it failed this order: never chosen again for it.
    world.stock("DC-ATL", "A", 10)
    relay_once(world.bus)
    assert world.order(order.id).status is OrderStatus.BACKORDERED
    world.stock("ST-CHI", "A", 2)
    relay_once(world.bus)
    assert placed_at(world.order(order.id)) == {"ST-CHI": 2}


def test_second_rejection_moves_on_to_a_third_location(world: World) -> None:
    for loc in ("DC-ATL", "ST-CHI", "DC-RNO"):
        world.stock(loc, "A", 1)
    order = world.place(("A", 1))
    first = open_fulfilment(order)
    order = world.act(first, "reject", reason="no_stock")
    second = open_fulfilment(order)
    order = world.act(second, "reject", reason="no_stock")
    third = open_fulfilment(order)
    locations = [f.location_id for f in order.fulfilments]
    assert len(set(locations)) == 3
    assert len({first, second, third}) == 3


def test_shipping_a_released_fulfilment_is_an_invalid_transition(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 1))
    fid = open_fulfilment(order)
    with pytest.raises(InvalidTransition) as err:
        world.act(fid, "ship")
    assert err.value.code == "invalid_transition"
    assert (err.value.details["current"], err.value.details["requested"]) == ("released", "shipped")
    assert world.position("DC-ATL", "A") == Position("DC-ATL", "A", on_hand=5, reserved=1)
    f = world.order(order.id).fulfilment(fid)
    assert f is not None
    assert f.status is FulfilmentStatus.RELEASED


def test_acting_on_a_finished_fulfilment_is_an_invalid_transition(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 1))
    fid = open_fulfilment(order)
    world.act(fid, "accept")
    world.act(fid, "ship")
    for action in ("accept", "reject", "ship", "cancel"):
        with pytest.raises(InvalidTransition):
            world.act(fid, action)
    assert world.position("DC-ATL", "A") == Position("DC-ATL", "A", on_hand=4, reserved=0)
