"""Stock feeds (adjustments, snapshots) and the back-orders they wake up."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.service.factories import World, line_counts, open_fulfilment, placed_at

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Address
from ordergrid.domain.orders import OrderStatus
from ordergrid.service.commands import (
    AdjustInventory,
    AdjustmentInput,
    ApplySnapshot,
    PutLocation,
)
from ordergrid.service.inventory import FeedResult
from ordergrid.service.relay import relay_once


def test_adjustment_applies_once_by_id(world: World) -> None:
    first = world.stock("DC-ATL", "A", 5, adjustment_id="adj-x")
    again = world.stock("DC-ATL", "A", 5, adjustment_id="adj-x")
    assert first.positions == [Position("DC-ATL", "A", on_hand=5)]
    assert again.skipped == [{"id": "adj-x", "reason": "already_applied"}]
    assert world.position("DC-ATL", "A").on_hand == 5


def test_replayed_adjustment_still_answers_with_the_resulting_position(world: World) -> None:
    # API.md: "Each adjustment applies once (its id makes it idempotent). Response 200 with
    # the resulting positions." A client retrying after a timeout must get them too.
    world.stock("DC-ATL", "A", 5, adjustment_id="adj-x")
    again = world.stock("DC-ATL", "A", 5, adjustment_id="adj-x")
    assert again.positions == [Position("DC-ATL", "A", on_hand=5)]


def test_adjustment_repeated_within_one_batch_applies_once(world: World) -> None:
    a = AdjustmentInput("adj-y", "DC-ATL", "A", 4, "receipt")
    result: FeedResult = world.bus.handle(AdjustInventory((a, a)))
    assert world.position("DC-ATL", "A").on_hand == 4
    assert result.skipped == [{"id": "adj-y", "reason": "already_applied"}]


def test_negative_on_hand_refuses_the_whole_batch(world: World) -> None:
    world.stock("DC-RNO", "A", 3)
    batch = AdjustInventory(
        (
            AdjustmentInput("ok-1", "DC-ATL", "A", 5, "receipt"),
            AdjustmentInput("bad-1", "DC-RNO", "A", -4, "write_off"),
        )
    )
    with pytest.raises(InvalidInput) as err:
        world.bus.handle(batch)
    assert err.value.code == "on_hand_negative"
    assert err.value.details["field"] == "adjustments.1.delta"
    assert err.value.details["on_hand"] == 3
    assert world.position("DC-ATL", "A").on_hand == 0
    assert world.position("DC-RNO", "A").on_hand == 3
    # Nothing was marked applied: the good adjustment goes through when sent again.
    world.bus.handle(AdjustInventory((AdjustmentInput("ok-1", "DC-ATL", "A", 5, "receipt"),)))
    assert world.position("DC-ATL", "A").on_hand == 5


def test_adjustment_of_unknown_location_or_sku_names_the_field(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        world.stock("NOWHERE", "A", 1)
    assert (err.value.code, err.value.details["field"]) == (
        "unknown_location",
        "adjustments.0.location_id",
    )
    with pytest.raises(InvalidInput) as err:
        world.stock("DC-ATL", "ZZZ", 1)
    assert (err.value.code, err.value.details["field"]) == ("unknown_sku", "adjustments.0.sku")


def test_snapshot_adds_movements_recorded_after_as_of(world: World) -> None:
    world.stock("DC-ATL", "A", 10)  # recorded at t0
    world.clock.advance(minutes(5))
    counted_at = world.clock.now()  # the WMS counts 10 at t0 + 5 min
    world.clock.advance(minutes(5))
    order = world.place(("A", 2))
    fid = open_fulfilment(order)
    world.act(fid, "accept")
    world.act(fid, "ship")  # 2 units leave after the count
    world.stock("DC-ATL", "A", 1, reason="receipt")  # and one arrives
    assert world.position("DC-ATL", "A").on_hand == 9
    world.clock.advance(minutes(5))
    result = snapshot(world, counted_at, 10)
    assert result.positions[0].on_hand == 10 - 2 + 1
    after = world.position("DC-ATL", "A")
    assert (after.on_hand, after.snapshot_as_of) == (9, counted_at)


def test_snapshot_replaces_a_wrong_count(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    world.clock.advance(minutes(1))
    counted_at = world.clock.now()
    world.clock.advance(minutes(1))
    snapshot(world, counted_at, 4)
    assert world.position("DC-ATL", "A").on_hand == 4


def test_stale_snapshot_changes_nothing(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    world.clock.advance(minutes(10))
    newer = world.clock.now()
    snapshot(world, newer, 7)
    result = snapshot(world, newer - minutes(5), 100)
    assert result.skipped == [{"sku": "A", "reason": "stale_snapshot"}]
    assert world.position("DC-ATL", "A") == Position("DC-ATL", "A", 7, 0, 0, newer)
    same = snapshot(world, newer, 50)  # the same count again is not newer either
    assert same.skipped
    assert world.position("DC-ATL", "A").on_hand == 7


def test_backorders_are_resourced_by_relay_oldest_order_first(world: World) -> None:
    older = world.place(("A", 2))
    newer = world.place(("A", 2))
    assert older.status is newer.status is OrderStatus.BACKORDERED
    assert relay_once(world.bus) > 0  # nothing to place yet
    world.stock("DC-ATL", "A", 2)
    relay_once(world.bus)
    assert world.order(older.id).status is OrderStatus.ALLOCATED
    assert placed_at(world.order(older.id)) == {"DC-ATL": 2}
    assert world.order(newer.id).status is OrderStatus.BACKORDERED
    assert world.position("DC-ATL", "A").reserved == 2
    while relay_once(world.bus):  # the re-sourcing's own events are read too
        pass
    assert world.order(newer.id).status is OrderStatus.BACKORDERED
    world.stock("DC-RNO", "A", 5)
    relay_once(world.bus)
    assert placed_at(world.order(newer.id)) == {"DC-RNO": 2}
    assert world.event_types(older.id) == [
        "order.received",
        "order.backordered",
        # stock arrived: a back-order filled, not a re-route (nothing failed)
        "fulfilment.released",
        "order.allocated",
    ]
    triggers = [d.explanation["trigger"] for d in world.decisions(older.id)]
    assert triggers == ["order_placed", "stock_arrived"]


def test_partial_backorder_is_topped_up_when_stock_arrives(world: World) -> None:
    world.stock("DC-ATL", "A", 1)
    order = world.place(("A", 3))
    world.stock("DC-ATL", "A", 1)
    relay_once(world.bus)
    assert line_counts(world.order(order.id)) == {
        "allocated": 2,
        "backordered": 1,
        "shipped": 0,
        "cancelled": 0,
        "unsourced": 0,
    }
    world.stock("ST-CHI", "A", 4)
    relay_once(world.bus)
    final = world.order(order.id)
    assert final.status is OrderStatus.ALLOCATED
    assert placed_at(final) == {"DC-ATL": 2, "ST-CHI": 1}


def test_cancellation_frees_stock_for_a_waiting_order(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    first = world.place(("A", 2))
    waiting = world.place(("A", 1))
    assert waiting.status is OrderStatus.BACKORDERED
    world.cancel(first.id)
    relay_once(world.bus)
    assert placed_at(world.order(waiting.id)) == {"DC-ATL": 1}


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def snapshot(world: World, as_of: datetime, on_hand: int) -> FeedResult:
    result: FeedResult = world.bus.handle(ApplySnapshot("DC-ATL", as_of, (("A", on_hand),)))
    world.clock.advance(seconds=1)
    return result


def test_backorders_are_resourced_when_a_paused_location_holding_stock_reopens(
    world: World,
) -> None:
    # API.md: "Back-ordered units are sourced again automatically, oldest order first, when
    # stock becomes available." Re-activating a store makes its stock available to sourcing.
    world.stock("ST-NY2", "A", 5)  # paused
    order = world.place(("A", 1))
    while relay_once(world.bus):  # the receipt's event is handled while the store is paused
        pass
    assert world.order(order.id).status is OrderStatus.BACKORDERED
    world.bus.handle(
        PutLocation(
            location_id="ST-NY2",
            name="ST-NY2",
            type="store",
            address=Address(city="New York", country="US", lat=40.7306, lon=-73.9866),
            capabilities=frozenset({"ship", "pickup"}),
            status="active",
            handling_cost=3.0,
        )
    )
    while relay_once(world.bus):
        pass
    assert placed_at(world.order(order.id)) == {"ST-NY2": 1}
