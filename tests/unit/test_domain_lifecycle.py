"""Location actions on an order: transitions, events and the stock movements returned."""

from __future__ import annotations

import pytest
from tests.unit.factories import NOW, location, order, sourced, view

from ordergrid.domain import lifecycle
from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from ordergrid.domain.fulfilments import FulfilmentStatus, Parcel
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import Order, OrderStatus

S = FulfilmentStatus
R = MovementReason


def ship_order() -> Order:
    """One fulfilment F1 at DC1: line 1 = 2 x A, line 2 = 3 x B."""
    o = order([("1", "A", 2), ("2", "B", 3)])
    sourced(o, view([location("DC1", 48.0, 2.0)], {("DC1", "A"): 5, ("DC1", "B"): 5}))
    assert [f.id for f in o.fulfilments] == ["F1"]
    return o


def pickup_order() -> Order:
    o = order([("1", "A", 2)], method="pickup", pickup="S1")
    sourced(
        o,
        view(
            [location("S1", 48.0, 2.0, type="store", caps=("pickup",))],
            {("S1", "A"): 5},
        ),
    )
    return o


def accepted(o: Order) -> Order:
    lifecycle.accept(o, "F1", NOW)
    return o


def last(o: Order, event_type: str) -> dict[str, object]:
    return next(e.data for e in reversed(o.events) if e.type == event_type)


# --- accept ---------------------------------------------------------------------------


def test_accept_moves_released_to_accepted_and_returns_no_movement() -> None:
    o = ship_order()
    movements = lifecycle.accept(o, "F1", NOW, actor="dc1-user")
    assert movements == []
    assert o.fulfilments[0].status is S.ACCEPTED
    assert last(o, "fulfilment.accepted") == {
        "fulfilment_id": "F1",
        "location_id": "DC1",
    }
    assert o.status is OrderStatus.IN_PROGRESS


def test_accept_twice_is_an_invalid_transition() -> None:
    o = accepted(ship_order())
    with pytest.raises(InvalidTransition) as exc:
        lifecycle.accept(o, "F1", NOW)
    assert exc.value.details["current"] == "accepted"
    assert exc.value.details["requested"] == "accepted"


def test_unknown_fulfilment_is_not_found() -> None:
    o = ship_order()
    with pytest.raises(NotFound) as exc:
        lifecycle.accept(o, "nope", NOW)
    assert exc.value.code == "fulfilment_not_found"
    assert exc.value.details == {"id": "nope"}


# --- reject / give back -----------------------------------------------------------------


@pytest.mark.parametrize("start_accepted", [False, True])
def test_reject_releases_every_reservation_and_excludes_the_location(
    start_accepted: bool,
) -> None:
    o = ship_order()
    if start_accepted:
        accepted(o)
    movements = lifecycle.give_back(o, "F1", S.REJECTED, "no_stock", NOW)
    f = o.fulfilments[0]
    assert f.status is S.REJECTED
    assert f.reason == "no_stock"
    assert movements == [
        Movement("DC1", "A", 0, -2, R.RELEASE, "F1"),
        Movement("DC1", "B", 0, -3, R.RELEASE, "F1"),
    ]
    assert o.excluded_locations == {"DC1"}
    assert last(o, "fulfilment.rejected") == {
        "fulfilment_id": "F1",
        "location_id": "DC1",
        "reason": "no_stock",
        "lines": [{"line_id": "1", "quantity": 2}, {"line_id": "2", "quantity": 3}],
    }
    assert o.to_source() == {"1": 2, "2": 3}


def test_expire_is_a_give_back_with_its_own_event() -> None:
    o = ship_order()
    movements = lifecycle.give_back(o, "F1", S.EXPIRED, "sla", NOW)
    assert o.fulfilments[0].status is S.EXPIRED
    assert [m.reserved_delta for m in movements] == [-2, -3]
    assert "fulfilment.expired" in [e.type for e in o.events]
    assert o.excluded_locations == {"DC1"}


def test_reject_after_pick_is_refused() -> None:
    o = accepted(ship_order())
    lifecycle.pick(o, "F1", {}, NOW)
    with pytest.raises(InvalidTransition):
        lifecycle.give_back(o, "F1", S.REJECTED, "damaged", NOW)
    assert o.excluded_locations == set()


# --- pick ---------------------------------------------------------------------------------


def test_full_pick_returns_no_movement_and_keeps_quantities() -> None:
    o = accepted(ship_order())
    movements = lifecycle.pick(o, "F1", {"1": 2, "2": 3}, NOW)
    f = o.fulfilments[0]
    assert movements == []
    assert f.status is S.PICKED
    assert [(fl.quantity, fl.short) for fl in f.lines] == [(2, 0), (3, 0)]
    assert o.excluded_locations == set()
    assert "fulfilment.short_picked" not in [e.type for e in o.events]
    assert last(o, "fulfilment.picked") == {"fulfilment_id": "F1", "location_id": "DC1"}


def test_lines_not_mentioned_are_picked_in_full() -> None:
    o = accepted(ship_order())
    assert lifecycle.pick(o, "F1", {}, NOW) == []
    assert o.fulfilments[0].units() == 5


def test_short_pick_writes_off_missing_units_and_excludes_the_location() -> None:
    o = accepted(ship_order())
    movements = lifecycle.pick(o, "F1", {"1": 1}, NOW)  # line 2 not mentioned: full
    f = o.fulfilments[0]
    assert movements == [Movement("DC1", "A", -1, -1, R.SHORT_PICK, "F1")]
    assert f.status is S.PICKED
    assert [(fl.line_id, fl.quantity, fl.short) for fl in f.lines] == [
        ("1", 1, 1),
        ("2", 3, 0),
    ]
    assert o.excluded_locations == {"DC1"}
    assert last(o, "fulfilment.short_picked") == {
        "fulfilment_id": "F1",
        "location_id": "DC1",
        "lines": [{"line_id": "1", "sku": "A", "short": 1}],
    }
    assert o.to_source() == {"1": 1}


def test_all_short_pick_cancels_the_fulfilment_with_reason_short_pick() -> None:
    o = accepted(ship_order())
    movements = lifecycle.pick(o, "F1", {"1": 0, "2": 0}, NOW)
    f = o.fulfilments[0]
    assert movements == [
        Movement("DC1", "A", -2, -2, R.SHORT_PICK, "F1"),
        Movement("DC1", "B", -3, -3, R.SHORT_PICK, "F1"),
    ]
    assert f.status is S.CANCELLED
    assert f.reason == "short_pick"
    assert [h["to"] for h in f.history] == ["accepted", "picked", "cancelled"]
    assert last(o, "fulfilment.cancelled") == {
        "fulfilment_id": "F1",
        "location_id": "DC1",
        "reason": "short_pick",
    }
    assert o.excluded_locations == {"DC1"}
    assert o.to_source() == {"1": 2, "2": 3}


def test_picked_more_than_asked_is_invalid_input_and_changes_nothing() -> None:
    o = accepted(ship_order())
    with pytest.raises(InvalidInput) as exc:
        lifecycle.pick(o, "F1", {"1": 1, "2": 4}, NOW)
    assert exc.value.code == "picked_exceeds_quantity"
    assert exc.value.details["field"] == "lines.1.picked"
    assert exc.value.details["line_id"] == "2"
    f = o.fulfilments[0]
    assert f.status is S.ACCEPTED
    assert [fl.quantity for fl in f.lines] == [2, 3]


def test_pick_of_a_line_not_in_the_fulfilment_is_unknown_line() -> None:
    o = accepted(ship_order())
    with pytest.raises(InvalidInput) as exc:
        lifecycle.pick(o, "F1", {"9": 1}, NOW)
    assert exc.value.code == "unknown_line"
    assert exc.value.details["line_id"] == "9"
    assert o.fulfilments[0].status is S.ACCEPTED


def test_pick_before_accept_is_an_invalid_transition() -> None:
    o = ship_order()
    with pytest.raises(InvalidTransition) as exc:
        lifecycle.pick(o, "F1", {}, NOW)
    assert exc.value.details == {
        "current": "released",
        "requested": "picked",
        "entity": "fulfilment",
    }


def test_negative_picked_count_is_invalid_input() -> None:
    o = accepted(ship_order())
    with pytest.raises(InvalidInput):
        lifecycle.pick(o, "F1", {"1": -1}, NOW)


# --- ship -----------------------------------------------------------------------------------


def test_ship_consumes_on_hand_and_reservation_and_keeps_parcels() -> None:
    o = accepted(ship_order())
    parcels = [Parcel("ups", "1Z1"), Parcel("dhl", None)]
    movements = lifecycle.ship(o, "F1", parcels, NOW)
    f = o.fulfilments[0]
    assert movements == [
        Movement("DC1", "A", -2, -2, R.SHIPMENT, "F1"),
        Movement("DC1", "B", -3, -3, R.SHIPMENT, "F1"),
    ]
    assert f.status is S.SHIPPED
    assert f.parcels == parcels
    assert last(o, "fulfilment.shipped")["parcels"] == [
        {"carrier": "ups", "tracking_number": "1Z1"},
        {"carrier": "dhl", "tracking_number": None},
    ]
    assert o.status is OrderStatus.SHIPPED


def test_ship_after_short_pick_consumes_only_picked_units() -> None:
    o = accepted(ship_order())
    lifecycle.pick(o, "F1", {"1": 1, "2": 3}, NOW)
    movements = lifecycle.ship(o, "F1", [], NOW)
    assert movements == [
        Movement("DC1", "A", -1, -1, R.SHIPMENT, "F1"),
        Movement("DC1", "B", -3, -3, R.SHIPMENT, "F1"),
    ]


def test_ship_of_a_released_fulfilment_is_refused() -> None:
    o = ship_order()
    with pytest.raises(InvalidTransition):
        lifecycle.ship(o, "F1", [Parcel("ups")], NOW)
    assert o.fulfilments[0].parcels == []


def test_pickup_order_refuses_ship_with_delivery_method_mismatch() -> None:
    o = accepted(pickup_order())
    with pytest.raises(Conflict) as exc:
        lifecycle.ship(o, "F1", [Parcel("ups")], NOW)
    assert exc.value.code == "delivery_method_mismatch"
    assert exc.value.details == {"method": "pickup"}
    assert o.fulfilments[0].status is S.ACCEPTED
    assert o.fulfilments[0].parcels == []


# --- ready for pick-up / collect --------------------------------------------------------------


def test_ready_for_pickup_returns_no_movement() -> None:
    o = accepted(pickup_order())
    assert lifecycle.ready_for_pickup(o, "F1", NOW) == []
    assert o.fulfilments[0].status is S.READY_FOR_PICKUP
    assert last(o, "fulfilment.ready_for_pickup") == {
        "fulfilment_id": "F1",
        "location_id": "S1",
    }


def test_ship_order_refuses_ready_for_pickup() -> None:
    o = accepted(ship_order())
    with pytest.raises(Conflict) as exc:
        lifecycle.ready_for_pickup(o, "F1", NOW)
    assert exc.value.code == "delivery_method_mismatch"
    assert exc.value.details == {"method": "ship"}
    assert o.fulfilments[0].status is S.ACCEPTED


def test_collect_consumes_stock_with_reason_collection() -> None:
    o = accepted(pickup_order())
    lifecycle.ready_for_pickup(o, "F1", NOW)
    movements = lifecycle.collect(o, "F1", NOW)
    assert movements == [Movement("S1", "A", -2, -2, R.COLLECTION, "F1")]
    assert o.fulfilments[0].status is S.COLLECTED
    assert o.status is OrderStatus.COMPLETED


def test_collect_before_ready_is_refused() -> None:
    o = accepted(pickup_order())
    with pytest.raises(InvalidTransition):
        lifecycle.collect(o, "F1", NOW)


# --- hold / release -------------------------------------------------------------------------


def test_hold_then_release_restores_the_derived_status() -> None:
    o = ship_order()
    lifecycle.set_hold(o, True, "fraud", NOW, actor="ops")
    assert o.on_hold is True
    assert o.status is OrderStatus.ON_HOLD
    hold = next(e for e in o.events if e.type == "order.hold")
    assert hold.data == {"reason": "fraud"}
    assert hold.actor == "ops"
    lifecycle.set_hold(o, False, None, NOW)
    assert o.on_hold is False
    assert o.status is OrderStatus.ALLOCATED
    assert [e.type for e in o.events][-2:] == ["order.hold_released", "order.allocated"]


def test_hold_twice_is_conflict_already_on_hold() -> None:
    o = order()
    lifecycle.set_hold(o, True, None, NOW)
    with pytest.raises(Conflict) as exc:
        lifecycle.set_hold(o, True, None, NOW)
    assert exc.value.code == "already_on_hold"


def test_release_without_hold_is_conflict_not_on_hold() -> None:
    o = order()
    with pytest.raises(Conflict) as exc:
        lifecycle.set_hold(o, False, None, NOW)
    assert exc.value.code == "not_on_hold"
    assert o.events == []


@pytest.mark.parametrize("hold", [True, False])
def test_hold_or_release_of_a_terminal_order_is_an_invalid_transition(
    hold: bool,
) -> None:
    o = accepted(pickup_order())
    lifecycle.ready_for_pickup(o, "F1", NOW)
    lifecycle.collect(o, "F1", NOW)
    assert o.status is OrderStatus.COMPLETED
    with pytest.raises(InvalidTransition) as exc:
        lifecycle.set_hold(o, hold, None, NOW)
    assert exc.value.details["current"] == "completed"
    assert exc.value.details["requested"] == ("on_hold" if hold else "released")
