"""Applying a sourcing decision: fulfilments, back-orders, reservations, re-sourcing."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.factories import (
    NOW,
    accounting_holds,
    ids,
    location,
    order,
    sourced,
    view,
)

from ordergrid.domain import cancellation, lifecycle
from ordergrid.domain.allocation import apply_decision
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import Order, OrderStatus
from ordergrid.domain.sourcing import DEFAULT_POLICY, Fallback, SourcingRequest, source
from ordergrid.domain.sourcing.decision import (
    EMPTY_PLAN,
    Allocation,
    Decision,
    Explanation,
    Plan,
    Shipment,
)

S = FulfilmentStatus


def decision(
    shipments: list[tuple[str, list[tuple[str, str, int]]]],
    backordered: dict[str, int] | None = None,
    cancelled: dict[str, int] | None = None,
) -> Decision:
    plan = Plan(
        tuple(
            Shipment(loc, tuple(Allocation(*a) for a in allocs), 10.0, {"per_shipment": 1.0})
            for loc, allocs in shipments
        )
    )
    return Decision(
        "default",
        1,
        "allocated",
        plan,
        backordered or {},
        cancelled or {},
        Explanation(((), ())),
        "test",
        "test",
    )


def test_one_released_fulfilment_per_shipment() -> None:
    o = order([("1", "A", 2), ("2", "B", 3)])
    d = decision([("DC1", [("1", "A", 2), ("2", "B", 1)]), ("DC2", [("2", "B", 2)])])
    apply_decision(o, d, ids(), NOW)
    assert [(f.id, f.location_id, f.status) for f in o.fulfilments] == [
        ("F1", "DC1", S.RELEASED),
        ("F2", "DC2", S.RELEASED),
    ]
    assert [(fl.line_id, fl.sku, fl.quantity) for fl in o.fulfilments[0].lines] == [
        ("1", "A", 2),
        ("2", "B", 1),
    ]
    assert [(fl.line_id, fl.sku, fl.quantity) for fl in o.fulfilments[1].lines] == [("2", "B", 2)]
    assert all(f.order_id == "O1" and f.created_at == NOW for f in o.fulfilments)
    assert o.status is OrderStatus.ALLOCATED


def test_fulfilment_released_is_emitted_per_fulfilment_with_its_lines() -> None:
    o = order([("1", "A", 2), ("2", "B", 3)])
    d = decision([("DC1", [("1", "A", 2), ("2", "B", 1)]), ("DC2", [("2", "B", 2)])])
    apply_decision(o, d, ids(), NOW, actor="router")
    released = [e for e in o.events if e.type == "fulfilment.released"]
    assert [e.data for e in released] == [
        {
            "fulfilment_id": "F1",
            "location_id": "DC1",
            "lines": [
                {"line_id": "1", "sku": "A", "quantity": 2},
                {"line_id": "2", "sku": "B", "quantity": 1},
            ],
        },
        {
            "fulfilment_id": "F2",
            "location_id": "DC2",
            "lines": [{"line_id": "2", "sku": "B", "quantity": 2}],
        },
    ]
    assert all(e.actor == "router" and e.order_id == "O1" for e in released)


def test_returns_one_reservation_movement_per_fulfilment_line() -> None:
    o = order([("1", "A", 2), ("2", "B", 3)])
    d = decision([("DC1", [("1", "A", 2), ("2", "B", 1)]), ("DC2", [("2", "B", 2)])])
    movements = apply_decision(o, d, ids(), NOW)
    assert movements == [
        Movement("DC1", "A", 0, 2, MovementReason.RESERVATION, "F1"),
        Movement("DC1", "B", 0, 1, MovementReason.RESERVATION, "F1"),
        Movement("DC2", "B", 0, 2, MovementReason.RESERVATION, "F2"),
    ]


def test_backordered_counts_are_replaced_not_added() -> None:
    o = order([("1", "A", 5)])
    apply_decision(o, decision([("DC1", [("1", "A", 1)])], backordered={"1": 4}), ids("F"), NOW)
    assert o.lines[0].backordered == 4
    assert o.to_source() == {"1": 4}
    apply_decision(o, decision([("DC2", [("1", "A", 3)])], backordered={"1": 1}), ids("G"), NOW)
    assert o.lines[0].backordered == 1
    assert accounting_holds(o)
    apply_decision(o, decision([("DC3", [("1", "A", 1)])]), ids("H"), NOW)
    assert o.lines[0].backordered == 0
    assert o.status is OrderStatus.ALLOCATED
    assert accounting_holds(o)


def test_cancelled_units_are_added_and_reported() -> None:
    o = order([("1", "A", 3), ("2", "B", 1)])
    apply_decision(o, decision([("DC1", [("2", "B", 1)])], cancelled={"1": 3}), ids(), NOW)
    assert o.lines[0].cancelled == 3
    event = next(e for e in o.events if e.type == "order.units_cancelled")
    assert event.data == {
        "reason": "no_stock",
        "lines": [{"line_id": "1", "quantity": 3}],
    }
    assert accounting_holds(o)


def test_empty_decision_releases_nothing() -> None:
    o = order([("1", "A", 2)])
    d = replace(decision([]), plan=EMPTY_PLAN, backordered={"1": 2})
    assert apply_decision(o, d, ids(), NOW) == []
    assert o.fulfilments == []
    assert [e.type for e in o.events] == ["order.backordered"]


def test_resourcing_after_rejection_keeps_unit_accounting() -> None:
    dc1, dc2 = location("DC1", 48.8, 2.3), location("DC2", 45.0, 2.3)
    o = order([("1", "A", 3), ("2", "B", 1)])
    fids = ids()
    stock = {("DC1", "A"): 3, ("DC1", "B"): 1, ("DC2", "A"): 2}
    sourced(o, view([dc1, dc2], stock), id_source=fids)
    assert [f.location_id for f in o.fulfilments] == ["DC1"]
    assert accounting_holds(o)

    lifecycle.give_back(o, "F1", S.REJECTED, "no_stock", NOW)
    assert not accounting_holds(o)  # units are unsourced until re-sourced
    d, movements = sourced(o, view([dc1, dc2], stock), id_source=fids)

    assert ("DC1", "excluded", "excluded_for_order") in [
        (c.location_id, c.status, c.reason) for c in d.candidates
    ]
    assert [(f.id, f.location_id, f.status) for f in o.fulfilments] == [
        ("F1", "DC1", S.REJECTED),
        ("F2", "DC2", S.RELEASED),
    ]
    assert movements == [Movement("DC2", "A", 0, 2, MovementReason.RESERVATION, "F2")]
    assert [(line.backordered, o.counts(line).allocated) for line in o.lines] == [
        (1, 2),
        (1, 0),
    ]
    assert accounting_holds(o)
    assert o.status is OrderStatus.PARTIALLY_ALLOCATED


def random_walk_order(data: st.DataObject) -> Order:
    skus = "AB"
    locs = [location(f"L{i}", 45.0 + i, 2.0) for i in range(4)]
    lines = [
        (str(i + 1), sku, data.draw(st.integers(1, 4)))
        for i, sku in enumerate(data.draw(st.lists(st.sampled_from(skus), min_size=1, max_size=3)))
    ]
    fallback = data.draw(st.sampled_from(list(Fallback)))
    policy = replace(DEFAULT_POLICY, fallback=fallback)
    o = order(lines)
    fids = ids()

    def resource() -> None:
        stock = {(loc.id, sku): data.draw(st.integers(0, 3)) for loc in locs for sku in skus}
        before = len(o.fulfilments)
        sourced(o, view(locs, stock), policy, id_source=fids)
        assert accounting_holds(o)
        assert not {f.location_id for f in o.fulfilments[before:]} & o.excluded_locations

    resource()
    for _ in range(data.draw(st.integers(1, 6))):
        if o.status is OrderStatus.CANCELLED:
            break
        open_ = [f for f in o.fulfilments if f.is_open]
        action = data.draw(st.sampled_from(["reject", "short", "ship", "cancel", "resource"]))
        if action == "cancel":
            line = data.draw(st.sampled_from(o.lines))
            n = data.draw(st.integers(0, cancellation.cancellable(o, line)))
            if n:
                cancellation.cancel(o, {line.line_id: n}, None, NOW)
        elif action == "resource" or not open_:
            pass
        else:
            f = data.draw(st.sampled_from(open_))
            if action == "reject" and f.status in (S.RELEASED, S.ACCEPTED):
                lifecycle.give_back(o, f.id, S.REJECTED, "no_stock", NOW)
            elif action == "short" and f.status is S.RELEASED:
                lifecycle.accept(o, f.id, NOW)
                lifecycle.pick(o, f.id, {fl.line_id: fl.quantity // 2 for fl in f.lines}, NOW)
            elif action == "ship" and f.status is S.RELEASED:
                lifecycle.accept(o, f.id, NOW)
                lifecycle.ship(o, f.id, [], NOW)
        c = [o.counts(line) for line in o.lines]
        assert all(x.unsourced >= 0 and x.allocated >= 0 and x.backordered >= 0 for x in c)
        resource()
    return o


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_unit_accounting_identity_survives_any_sequence_of_actions(
    data: st.DataObject,
) -> None:
    o = random_walk_order(data)
    for line in o.lines:
        c = o.counts(line)
        assert line.quantity == c.allocated + c.backordered + c.shipped + c.cancelled
        assert c.unsourced == 0


def test_excluded_location_is_never_given_the_order_again() -> None:
    dc1 = location("DC1", 48.8, 2.3)
    o = order([("1", "A", 2)])
    fids = ids()
    sourced(o, view([dc1], {("DC1", "A"): 5}), id_source=fids)
    lifecycle.accept(o, "F1", NOW)
    lifecycle.pick(o, "F1", {"1": 1}, NOW)
    d = source(
        SourcingRequest.for_order(o),
        view([dc1], {("DC1", "A"): 5}),
        DEFAULT_POLICY,
        NOW,
    )
    assert d.plan.units == 0
    assert [(c.location_id, c.reason) for c in d.candidates] == [("DC1", "excluded_for_order")]
    apply_decision(o, d, fids, NOW)
    assert o.lines[0].backordered == 1
    assert accounting_holds(o)
    assert o.status is OrderStatus.PARTIALLY_ALLOCATED
