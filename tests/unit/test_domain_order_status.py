"""Order status is derived from lines and fulfilments, reached through the lifecycle."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.factories import NOW, ids, location, order, sourced, status, view

from ordergrid.domain import cancellation, lifecycle
from ordergrid.domain.fulfilments import Parcel
from ordergrid.domain.orders import Order, OrderStatus, derive_status

LATER = NOW + timedelta(hours=1)


def types(o: Order) -> list[str]:
    return [e.type for e in o.events]


def order_events(o: Order) -> list[str]:
    return [e.type for e in o.events if e.type.startswith("order.")]


def allocated_ship_order(qty: int = 2) -> Order:
    o = order([("1", "A", qty)])
    sourced(o, view([location("DC1", 48.0, 2.0)], {("DC1", "A"): 10}))
    return o


def split_ship_order() -> Order:
    """Two SKUs each held by one location only: two fulfilments F1 (DC1) and F2 (DC2)."""
    o = order([("1", "A", 1), ("2", "B", 1)])
    v = view(
        [location("DC1", 48.0, 2.0), location("DC2", 45.0, 5.0)],
        {("DC1", "A"): 5, ("DC2", "B"): 5},
    )
    sourced(o, v)
    assert len(o.fulfilments) == 2
    return o


def pickup_order() -> Order:
    o = order([("1", "A", 1)], method="pickup", pickup="S1")
    sourced(
        o,
        view(
            [location("S1", 48.0, 2.0, type="store", caps=("pickup",))],
            {("S1", "A"): 3},
        ),
    )
    return o


def test_new_order_is_received_and_refresh_emits_nothing() -> None:
    o = order()
    assert derive_status(o) is OrderStatus.RECEIVED
    o.refresh_status(LATER)
    assert status(o) is OrderStatus.RECEIVED
    assert o.events == []
    assert o.updated_at == LATER


def test_on_hold_through_set_hold() -> None:
    o = order()
    lifecycle.set_hold(o, True, "fraud check", NOW)
    assert derive_status(o) is OrderStatus.ON_HOLD
    assert status(o) is OrderStatus.ON_HOLD
    assert types(o) == ["order.hold"]  # the status change is not announced twice
    assert o.events[-1].data == {"reason": "fraud check"}


def test_allocated_after_full_allocation_emits_order_allocated() -> None:
    o = allocated_ship_order()
    assert derive_status(o) is OrderStatus.ALLOCATED
    assert status(o) is OrderStatus.ALLOCATED
    assert types(o) == ["fulfilment.released", "order.allocated"]
    assert o.events[-1].data == {"previous": "received"}
    assert o.events[-1].order_id == "O1"


def test_partially_allocated_emits_backordered_with_lines_and_partially_allocated() -> None:
    o = order([("1", "A", 3)])
    sourced(o, view([location("DC1", 48.0, 2.0)], {("DC1", "A"): 1}))
    assert derive_status(o) is OrderStatus.PARTIALLY_ALLOCATED
    assert status(o) is OrderStatus.PARTIALLY_ALLOCATED
    assert order_events(o) == ["order.backordered", "order.partially_allocated"]
    backordered = next(e for e in o.events if e.type == "order.backordered")
    assert backordered.data == {"lines": [{"line_id": "1", "quantity": 2}]}


def test_backordered_event_comes_only_from_allocation_once_with_lines() -> None:
    o = order([("1", "A", 2), ("2", "B", 1)])
    sourced(o, view([location("DC1", 48.0, 2.0)], {}))
    assert derive_status(o) is OrderStatus.BACKORDERED
    assert status(o) is OrderStatus.BACKORDERED
    assert types(o) == ["order.backordered"]
    assert o.events[0].data == {
        "lines": [{"line_id": "1", "quantity": 2}, {"line_id": "2", "quantity": 1}]
    }


def test_refresh_into_backordered_does_not_emit_order_backordered() -> None:
    o = order([("1", "A", 2)])
    o.lines[0].backordered = 2  # state as allocation leaves it, without its event
    o.refresh_status(NOW)
    assert status(o) is OrderStatus.BACKORDERED
    assert o.events == []


def test_backordered_again_emits_again_although_status_is_unchanged() -> None:
    o = order([("1", "A", 2)])
    empty = view([location("DC1", 48.0, 2.0)], {})
    sourced(o, empty)
    sourced(o, empty)
    assert status(o) is OrderStatus.BACKORDERED
    assert types(o) == ["order.backordered", "order.backordered"]


def test_in_progress_after_accept_emitted_once() -> None:
    o = split_ship_order()
    lifecycle.accept(o, "F1", NOW)
    assert derive_status(o) is OrderStatus.IN_PROGRESS
    assert status(o) is OrderStatus.IN_PROGRESS
    lifecycle.accept(o, "F2", NOW)
    assert order_events(o).count("order.in_progress") == 1
    assert order_events(o)[-1] == "order.in_progress"


def test_partially_shipped_when_one_of_two_fulfilments_ships() -> None:
    o = split_ship_order()
    lifecycle.accept(o, "F1", NOW)
    lifecycle.ship(o, "F1", [Parcel("ups", "1Z")], NOW)
    assert derive_status(o) is OrderStatus.PARTIALLY_SHIPPED
    assert status(o) is OrderStatus.PARTIALLY_SHIPPED
    assert order_events(o)[-1] == "order.partially_shipped"
    assert o.events[-1].data == {"previous": "in_progress"}


def test_shipped_when_every_unit_shipped() -> None:
    o = split_ship_order()
    for fid in ("F1", "F2"):
        lifecycle.accept(o, fid, NOW)
        lifecycle.ship(o, fid, [], NOW)
    assert derive_status(o) is OrderStatus.SHIPPED
    assert status(o) is OrderStatus.SHIPPED
    assert order_events(o) == [
        "order.allocated",
        "order.in_progress",
        "order.partially_shipped",
        "order.shipped",
    ]


def test_ready_for_pickup_when_every_open_fulfilment_is_ready() -> None:
    o = pickup_order()
    lifecycle.accept(o, "F1", NOW)
    lifecycle.ready_for_pickup(o, "F1", NOW)
    assert derive_status(o) is OrderStatus.READY_FOR_PICKUP
    assert status(o) is OrderStatus.READY_FOR_PICKUP
    assert order_events(o)[-1] == "order.ready_for_pickup"


def test_completed_when_every_unit_collected() -> None:
    o = pickup_order()
    lifecycle.accept(o, "F1", NOW)
    lifecycle.ready_for_pickup(o, "F1", NOW)
    lifecycle.collect(o, "F1", NOW)
    assert derive_status(o) is OrderStatus.COMPLETED
    assert status(o) is OrderStatus.COMPLETED
    assert order_events(o) == [
        "order.allocated",
        "order.in_progress",
        "order.ready_for_pickup",
        "order.completed",
    ]


def test_cancelled_when_every_unit_cancelled() -> None:
    o = allocated_ship_order()
    cancellation.cancel(o, None, "customer", NOW)
    assert derive_status(o) is OrderStatus.CANCELLED
    assert status(o) is OrderStatus.CANCELLED
    assert order_events(o)[-2:] == ["order.lines_cancelled", "order.cancelled"]
    assert o.events[-1].data == {"previous": "allocated"}


def test_every_order_status_is_reachable_through_the_lifecycle() -> None:
    """Guard: a new status without a way to reach it should fail this test."""
    reached = set()
    reached.add(derive_status(order()))
    held = order()
    lifecycle.set_hold(held, True, None, NOW)
    reached.add(held.status)
    reached.add(allocated_ship_order().status)
    partial = order([("1", "A", 2)])
    sourced(partial, view([location("DC1", 48.0, 2.0)], {("DC1", "A"): 1}))
    reached.add(partial.status)
    nothing = order()
    sourced(nothing, view([], {}))
    reached.add(nothing.status)
    o = split_ship_order()
    lifecycle.accept(o, "F1", NOW)
    reached.add(o.status)
    lifecycle.ship(o, "F1", [], NOW)
    reached.add(o.status)
    lifecycle.accept(o, "F2", NOW)
    lifecycle.ship(o, "F2", [], NOW)
    reached.add(o.status)
    p = pickup_order()
    lifecycle.accept(p, "F1", NOW)
    lifecycle.ready_for_pickup(p, "F1", NOW)
    reached.add(p.status)
    lifecycle.collect(p, "F1", NOW)
    reached.add(p.status)
    c = allocated_ship_order()
    cancellation.cancel(c, None, None, NOW)
    reached.add(c.status)
    assert reached == set(OrderStatus)


def test_hold_wins_over_allocation_until_everything_is_shipped() -> None:
    o = split_ship_order()
    lifecycle.accept(o, "F1", NOW)
    lifecycle.ship(o, "F1", [], NOW)
    lifecycle.set_hold(o, True, None, NOW)
    assert status(o) is OrderStatus.ON_HOLD
    lifecycle.set_hold(o, False, None, NOW)
    assert status(o) is OrderStatus.PARTIALLY_SHIPPED
    assert order_events(o)[-2:] == ["order.hold_released", "order.partially_shipped"]


def test_partially_cancelled_and_rest_shipped_is_shipped() -> None:
    o = split_ship_order()
    cancellation.cancel(o, {"2": 1}, None, NOW)
    lifecycle.accept(o, "F1", NOW)
    lifecycle.ship(o, "F1", [], NOW)
    assert status(o) is OrderStatus.SHIPPED


def test_ready_for_pickup_needs_every_open_fulfilment_ready() -> None:
    store = location("S1", 48.0, 2.0, type="store", caps=("pickup",))
    o = order([("1", "A", 1), ("2", "B", 1)], method="pickup", pickup="S1")
    fids = ids()
    sourced(o, view([store], {("S1", "A"): 1}), id_source=fids)
    assert status(o) is OrderStatus.PARTIALLY_ALLOCATED
    sourced(o, view([store], {("S1", "B"): 1}), id_source=fids)  # B arrived: re-sourced
    assert [f.id for f in o.fulfilments] == ["F1", "F2"]
    assert status(o) is OrderStatus.ALLOCATED
    lifecycle.accept(o, "F1", NOW)
    lifecycle.ready_for_pickup(o, "F1", NOW)
    assert status(o) is OrderStatus.IN_PROGRESS
    lifecycle.accept(o, "F2", NOW)
    lifecycle.ready_for_pickup(o, "F2", NOW)
    assert status(o) is OrderStatus.READY_FOR_PICKUP
