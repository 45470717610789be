"""Cancelling a whole order or some units of its lines."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.factories import (
    NOW,
    accounting_holds,
    ids,
    location,
    order,
    sourced,
    status,
    view,
)

from ordergrid.domain import lifecycle
from ordergrid.domain.cancellation import cancel, cancellable
from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import Order, OrderStatus
from ordergrid.domain.sourcing import DEFAULT_POLICY

S = FulfilmentStatus
R = MovementReason


def split_order() -> Order:
    """F1 at DC1 (1 x A, accepted) and F2 at DC2 (2 x B, released)."""
    o = order([("1", "A", 1), ("2", "B", 2)])
    sourced(
        o,
        view(
            [location("DC1", 48.0, 2.0), location("DC2", 45.0, 5.0)],
            {("DC1", "A"): 5, ("DC2", "B"): 5},
        ),
    )
    lifecycle.accept(o, "F1", NOW)
    return o


def layered_order() -> Order:
    """Line 1 = 8 x A spread over every bucket a cancellation takes from.

    unsourced 1 | back-ordered 2 | F3 released 1 | F2 accepted 2 | F1 picked 2
    """
    o = order([("1", "A", 8)])
    fids = ids()
    four = replace(DEFAULT_POLICY, constraints=replace(DEFAULT_POLICY.constraints, max_shipments=4))
    for loc, on_hand in (("DC1", 2), ("DC2", 2), ("DC3", 1), ("DC4", 1)):
        sourced(o, view([location(loc, 48.0, 2.0)], {(loc, "A"): on_hand}), four, id_source=fids)
    lifecycle.give_back(o, "F4", S.REJECTED, "no_stock", NOW)  # 1 unit now unsourced
    lifecycle.accept(o, "F1", NOW)
    lifecycle.pick(o, "F1", {}, NOW)
    lifecycle.accept(o, "F2", NOW)
    c = o.counts(o.lines[0])
    assert (c.unsourced, c.backordered, c.allocated) == (1, 2, 5)
    return o


def fulfilment_units(o: Order) -> dict[str, tuple[str, int]]:
    return {f.id: (f.status.value, f.units()) for f in o.fulfilments}


def test_whole_cancel_releases_every_open_reservation() -> None:
    o = split_order()
    movements = cancel(o, None, "customer", NOW, actor="shop")
    assert movements == [
        Movement("DC1", "A", 0, -1, R.RELEASE, "F1"),
        Movement("DC2", "B", 0, -2, R.RELEASE, "F2"),
    ]
    assert all(f.status is S.CANCELLED and f.reason == "order_cancelled" for f in o.fulfilments)
    assert [(line.cancelled, line.backordered) for line in o.lines] == [(1, 0), (2, 0)]
    assert o.status is OrderStatus.CANCELLED
    assert accounting_holds(o)
    event = next(e for e in o.events if e.type == "order.lines_cancelled")
    assert event.data == {
        "reason": "customer",
        "lines": [{"line_id": "1", "quantity": 1}, {"line_id": "2", "quantity": 2}],
    }
    assert [e.type for e in o.events].count("fulfilment.cancelled") == 2


def test_whole_cancel_also_cancels_unsourced_and_backordered_units() -> None:
    o = layered_order()
    movements = cancel(o, None, None, NOW)
    assert sorted((m.ref, m.reserved_delta) for m in movements) == [
        ("F1", -2),
        ("F2", -2),
        ("F3", -1),
    ]
    assert o.lines[0].cancelled == 8
    assert o.lines[0].backordered == 0
    assert o.status is OrderStatus.CANCELLED
    assert accounting_holds(o)


@pytest.mark.parametrize(
    ("qty", "cancelled_backorder", "fulfilments_after", "released"),
    [
        (1, 0, {"F1": ("picked", 2), "F2": ("accepted", 2), "F3": ("released", 1)}, []),
        (2, 1, {"F1": ("picked", 2), "F2": ("accepted", 2), "F3": ("released", 1)}, []),
        (3, 2, {"F1": ("picked", 2), "F2": ("accepted", 2), "F3": ("released", 1)}, []),
        (
            4,
            2,
            {"F1": ("picked", 2), "F2": ("accepted", 2), "F3": ("cancelled", 0)},
            [("F3", -1)],
        ),
        (
            5,
            2,
            {"F1": ("picked", 2), "F2": ("accepted", 1), "F3": ("cancelled", 0)},
            [("F3", -1), ("F2", -1)],
        ),
        (
            7,
            2,
            {"F1": ("picked", 1), "F2": ("cancelled", 0), "F3": ("cancelled", 0)},
            [("F3", -1), ("F2", -2), ("F1", -1)],
        ),
    ],
)
def test_partial_cancel_takes_unsourced_then_backordered_then_least_advanced(
    qty: int,
    cancelled_backorder: int,
    fulfilments_after: dict[str, tuple[str, int]],
    released: list[tuple[str, int]],
) -> None:
    o = layered_order()
    movements = cancel(o, {"1": qty}, "changed mind", NOW)
    line = o.lines[0]
    assert line.cancelled == qty
    assert line.backordered == 2 - cancelled_backorder
    after = fulfilment_units(o)
    del after["F4"]  # the rejected one, untouched
    assert after == fulfilments_after
    assert [(m.ref, m.reserved_delta) for m in movements] == released
    assert all(m.reason is R.RELEASE and m.on_hand_delta == 0 for m in movements)
    c = o.counts(line)
    assert line.quantity == c.allocated + c.backordered + c.shipped + c.cancelled + c.unsourced


def test_partial_cancel_of_fulfilment_units_records_them_on_the_fulfilment_line() -> None:
    o = split_order()
    cancel(o, {"2": 1}, None, NOW)
    fl = o.fulfilments[1].lines[0]
    assert (fl.quantity, fl.cancelled) == (1, 1)
    assert o.fulfilments[1].status is S.RELEASED
    assert o.status is OrderStatus.IN_PROGRESS


def test_cancelling_more_than_cancellable_is_conflict_and_changes_nothing() -> None:
    o = split_order()
    lifecycle.ship(o, "F1", [], NOW)
    with pytest.raises(Conflict) as exc:
        cancel(o, {"2": 1, "1": 1}, None, NOW)
    err = exc.value
    assert err.code == "not_cancellable"
    assert err.details == {
        "line_id": "1",
        "requested": 1,
        "cancellable": 0,
        "shipped": 1,
    }
    assert [line.cancelled for line in o.lines] == [0, 0]
    assert o.fulfilments[1].units() == 2


def test_cancelling_one_more_than_open_units_is_refused() -> None:
    o = split_order()
    assert cancellable(o, o.lines[1]) == 2
    with pytest.raises(Conflict) as exc:
        cancel(o, {"2": 3}, None, NOW)
    assert exc.value.details["requested"] == 3
    assert exc.value.details["cancellable"] == 2


def test_whole_cancel_when_everything_shipped_is_order_already_shipped() -> None:
    o = split_order()
    lifecycle.ship(o, "F1", [], NOW)
    lifecycle.accept(o, "F2", NOW)
    lifecycle.ship(o, "F2", [], NOW)
    assert o.status is OrderStatus.SHIPPED
    with pytest.raises(Conflict) as exc:
        cancel(o, None, None, NOW)
    assert exc.value.code == "order_already_shipped"
    assert exc.value.details == {"status": "shipped"}


def test_whole_cancel_of_partially_shipped_order_cancels_only_the_rest() -> None:
    o = split_order()
    lifecycle.ship(o, "F1", [], NOW)
    movements = cancel(o, None, None, NOW)
    assert movements == [Movement("DC2", "B", 0, -2, R.RELEASE, "F2")]
    assert [line.cancelled for line in o.lines] == [0, 2]
    assert o.status is OrderStatus.SHIPPED
    assert accounting_holds(o)


def test_unknown_line_is_invalid_input_with_field_path() -> None:
    o = split_order()
    with pytest.raises(InvalidInput) as exc:
        cancel(o, {"1": 1, "nope": 1}, None, NOW)
    err = exc.value
    assert err.code == "unknown_line"
    assert err.details == {"field": "lines.1.line_id", "line_id": "nope"}
    assert o.lines[0].cancelled == 0


def test_cancel_of_a_cancelled_order_is_an_invalid_transition() -> None:
    o = split_order()
    cancel(o, None, None, NOW)
    with pytest.raises(InvalidTransition) as exc:
        cancel(o, None, None, NOW)
    assert exc.value.details["current"] == "cancelled"
    assert exc.value.details["requested"] == "cancelled"


def test_cancel_of_a_received_order_needs_no_movement() -> None:
    o = order([("1", "A", 3)])
    assert cancel(o, {"1": 2}, None, NOW) == []
    assert o.lines[0].cancelled == 2
    assert o.status is OrderStatus.RECEIVED
    assert cancel(o, None, None, NOW) == []
    assert status(o) is OrderStatus.CANCELLED


def test_negative_cancel_quantity_is_invalid_input() -> None:
    o = order([("1", "A", 2)])
    with pytest.raises(InvalidInput):
        cancel(o, {"1": -1}, None, NOW)
