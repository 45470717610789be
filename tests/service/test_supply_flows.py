"""Future supply end to end on the in-memory backend: pegging back-orders and pre-orders,
receipts that serve pegged orders oldest first, cancellations on either side."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.service.factories import World, line_counts, open_fulfilment, placed_at
from tests.service.invariants import check_invariants

from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from ordergrid.domain.orders import Order, OrderStatus
from ordergrid.domain.supply import Supply, SupplyStatus
from ordergrid.service.commands import PutPolicy, SetHold
from ordergrid.service.ports import LedgerFilter
from ordergrid.service.relay import relay_once
from ordergrid.service.supply import order_pegs
from ordergrid.service.supply_commands import CancelSupply, PutSupply, ReceiveSupply
from ordergrid.service.supply_receipts import ReceiptResult

FUTURE = {"name": "future", "future_supply": {"allow": True, "max_days": 21}}


def allow_future_supply(world: World, **changes: object) -> None:
    world.bus.handle(PutPolicy("web", {**FUTURE, **changes}, activate=True))


def expect(
    world: World,
    supply_id: str,
    *lines: tuple[str, int],
    at: str = "DC-ATL",
    days: float = 5,
) -> Supply:
    result = world.bus.handle(
        PutSupply(
            supply_id,
            "purchase_order",
            at,
            world.clock.now() + timedelta(days=days),
            tuple(lines),
            origin="ACME",
        )
    )
    world.clock.advance(seconds=1)
    supply: Supply = result.supply
    return supply


def receive(
    world: World, supply_id: str, receipt_id: str, *lines: tuple[str, int]
) -> ReceiptResult:
    result: ReceiptResult = world.bus.handle(ReceiveSupply(supply_id, receipt_id, tuple(lines)))
    world.clock.advance(seconds=1)
    return result


def pegged(world: World, order: Order) -> list[tuple[str, str, int]]:
    return [(p.supply_id, p.line_id, p.quantity) for p, _ in order_pegs(world.ctx, order.id)]


def supply(world: World, supply_id: str) -> Supply:
    with world.uow() as uow:
        found = uow.supply.get(supply_id)
    assert found is not None
    return found


# --- pegging ---------------------------------------------------------------------------


def test_pre_order_without_stock_is_pegged_to_incoming_supply(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 10))
    order = world.place(("A", 3))
    assert order.status is OrderStatus.BACKORDERED
    assert line_counts(order)["backordered"] == 3  # the contract's counts do not change
    assert pegged(world, order) == [("PO-1", "1", 3)]
    assert supply(world, "PO-1").lines[0].pegged == 3
    event = next(e for e in world.events(order.id) if e.type == "order.pegged")
    assert event.data["location_id"] == "DC-ATL"
    assert event.data["supply_id"] == "PO-1"
    assert "expected_at" in event.data


def test_nothing_is_pegged_when_the_policy_does_not_allow_future_supply(world: World) -> None:
    expect(world, "PO-1", ("A", 10))
    order = world.place(("A", 3))
    assert order.status is OrderStatus.BACKORDERED
    assert pegged(world, order) == []


def test_supply_expected_beyond_max_days_is_not_pegged(world: World) -> None:
    allow_future_supply(world, future_supply={"allow": True, "max_days": 7})
    expect(world, "PO-LATE", ("A", 10), days=8)
    order = world.place(("A", 2))
    assert pegged(world, order) == []


def test_supply_at_a_location_the_policy_may_not_use_is_not_pegged(world: World) -> None:
    allow_future_supply(world, constraints={"location_types": ["store"]})
    expect(world, "PO-DC", ("A", 10), at="DC-ATL")
    expect(world, "PO-ST", ("A", 10), at="ST-CHI", days=9)
    order = world.place(("A", 2))
    assert pegged(world, order) == [("PO-ST", "1", 2)]


def test_the_earliest_supply_is_pegged_first_and_spills_to_the_next(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-LATER", ("A", 5), days=10)
    expect(world, "PO-SOON", ("A", 2), days=3)
    order = world.place(("A", 4))
    assert sorted(pegged(world, order)) == [("PO-LATER", "1", 2), ("PO-SOON", "1", 2)]


def test_orders_sourced_together_in_a_batch_window_are_pegged_too(world: World) -> None:
    allow_future_supply(world, batch_window_seconds=30)
    expect(world, "PO-1", ("A", 5))
    first = world.place(("A", 2))
    second = world.place(("A", 4))
    assert pegged(world, first) == []  # still waiting for the window to close
    world.clock.advance(seconds=30)
    world.work()
    assert pegged(world, first) == [("PO-1", "1", 2)]
    assert pegged(world, second) == [("PO-1", "1", 3)]


def test_new_supply_pegs_waiting_back_orders_oldest_first_up_to_its_quantity(
    world: World,
) -> None:
    allow_future_supply(world)
    first = world.place(("A", 3))
    second = world.place(("A", 3))
    third = world.place(("A", 3))
    expect(world, "PO-1", ("A", 4))
    assert pegged(world, first) == [("PO-1", "1", 3)]
    assert pegged(world, second) == [("PO-1", "1", 1)]
    assert pegged(world, third) == []
    assert supply(world, "PO-1").lines[0].pegged == 4


def test_a_pegged_order_cancelled_releases_its_pegs(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 5))
    order = world.place(("A", 3))
    world.cancel(order.id)
    assert pegged(world, order) == []
    assert supply(world, "PO-1").lines[0].pegged == 0
    assert "order.unpegged" in world.event_types(order.id)


def test_units_cancelled_from_a_pegged_line_release_that_many_units(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 5))
    order = world.place(("A", 3))
    world.cancel(order.id, {"1": 2})
    assert pegged(world, order) == [("PO-1", "1", 1)]


def test_a_pegged_order_served_from_stock_elsewhere_releases_its_pegs(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 5))
    order = world.place(("A", 2))
    world.stock("DC-RNO", "A", 2)
    relay_once(world.bus)
    assert world.order(order.id).status is OrderStatus.ALLOCATED
    assert pegged(world, order) == []
    assert supply(world, "PO-1").lines[0].pegged == 0


def test_a_location_that_failed_the_order_loses_its_pegs_and_its_receipt(
    world: World,
) -> None:
    allow_future_supply(world)
    world.stock("DC-ATL", "A", 1)
    expect(world, "PO-1", ("A", 5), at="DC-ATL")
    order = world.place(("A", 3))
    assert pegged(world, order) == [("PO-1", "1", 2)]
    rejected = world.act(open_fulfilment(order), "reject", reason="damaged")
    assert "DC-ATL" in rejected.excluded_locations
    assert pegged(world, order) == []
    unpegged = [e for e in world.events(order.id) if e.type == "order.unpegged"]
    assert unpegged[-1].data["reason"] == "location_excluded"
    receive(world, "PO-1", "R-1", ("A", 5))
    assert placed_at(world.order(order.id)) == {}
    check_invariants(world.ctx.uow)


# --- receipts --------------------------------------------------------------------------


def test_receipt_allocates_pegged_units_at_the_receiving_location(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 5))
    order = world.place(("A", 3))
    result = receive(world, "PO-1", "R-1", ("A", 5))
    got = world.order(order.id)
    assert got.status is OrderStatus.ALLOCATED
    assert placed_at(got) == {"DC-ATL": 3}
    assert [(s.peg.order_id, s.units) for s in result.served] == [(order.id, 3)]
    assert result.supply.status is SupplyStatus.RECEIVED
    assert result.supply.lines[0].pegged == 0
    position = world.position("DC-ATL", "A")
    assert (position.on_hand, position.reserved) == (5, 3)
    decision = world.decisions(order.id)[-1].explanation
    assert decision["trigger"] == "supply_received"
    assert pegged(world, got) == []
    check_invariants(world.ctx.uow)


def test_receipt_shows_in_the_ledger_with_the_supply_reference(world: World) -> None:
    expect(world, "PO-1", ("A", 5))
    receive(world, "PO-1", "R-1", ("A", 4))
    with world.uow() as uow:
        entries = uow.inventory.ledger(LedgerFilter("A"), 100, None)
    receipt = [e for e in entries if e.reason == "receipt"]
    assert [(e.ref, e.on_hand_delta, e.location_id) for e in receipt] == [
        ("supply:PO-1", 4, "DC-ATL")
    ]


def test_partial_receipts_serve_pegged_orders_oldest_first(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 4))
    first = world.place(("A", 3))
    second = world.place(("A", 1))
    receive(world, "PO-1", "R-1", ("A", 2))
    assert line_counts(world.order(first.id))["allocated"] == 2
    assert line_counts(world.order(second.id))["allocated"] == 0
    assert pegged(world, first) == [("PO-1", "1", 1)]
    assert pegged(world, second) == [("PO-1", "1", 1)]
    assert supply(world, "PO-1").status is SupplyStatus.PARTIALLY_RECEIVED
    receive(world, "PO-1", "R-2", ("A", 2))
    assert world.order(first.id).status is OrderStatus.ALLOCATED
    assert world.order(second.id).status is OrderStatus.ALLOCATED
    assert supply(world, "PO-1").status is SupplyStatus.RECEIVED
    check_invariants(world.ctx.uow)


def test_units_beyond_the_pegs_wake_other_back_orders(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 2))
    pegged_order = world.place(("A", 2))
    waiting = world.place(("A", 2))  # nothing left to peg
    assert pegged(world, waiting) == []
    receive(world, "PO-1", "R-1", ("A", 2))
    world.stock("DC-ATL", "A", 2)
    relay_once(world.bus)
    assert world.order(pegged_order.id).status is OrderStatus.ALLOCATED
    assert world.order(waiting.id).status is OrderStatus.ALLOCATED
    check_invariants(world.ctx.uow)


def test_received_units_go_to_the_pegged_order_before_an_older_unpegged_one(
    world: World,
) -> None:
    allow_future_supply(world, selector={"channels": ["web"]})
    older = world.place(("A", 1), channel="app")  # its policy never waits for supply
    expect(world, "PO-1", ("A", 1))
    newer = world.place(("A", 1))
    receive(world, "PO-1", "R-1", ("A", 1))
    relay_once(world.bus)
    assert world.order(newer.id).status is OrderStatus.ALLOCATED
    assert world.order(older.id).status is OrderStatus.BACKORDERED


def test_the_rest_of_a_receipt_wakes_back_orders_through_the_relay(world: World) -> None:
    allow_future_supply(world, selector={"channels": ["web"]})
    waiting = world.place(("A", 3), channel="app")  # its policy never waits for supply
    expect(world, "PO-1", ("A", 5))
    promised = world.place(("A", 2))
    receive(world, "PO-1", "R-1", ("A", 5))
    assert world.order(promised.id).status is OrderStatus.ALLOCATED  # in the receipt
    assert world.order(waiting.id).status is OrderStatus.BACKORDERED
    relay_once(world.bus)  # the receipt's inventory.changed
    assert world.order(waiting.id).status is OrderStatus.ALLOCATED
    assert placed_at(world.order(waiting.id)) == {"DC-ATL": 3}
    check_invariants(world.ctx.uow)


def test_an_on_hold_order_is_passed_over_and_its_units_go_to_the_next(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 2))
    held = world.place(("A", 1))
    world.bus.handle(SetHold(held.id, True, "review"))
    other = world.place(("A", 1))
    receive(world, "PO-1", "R-1", ("A", 1))
    assert world.order(other.id).status is OrderStatus.ALLOCATED
    assert world.order(held.id).status is OrderStatus.ON_HOLD
    check_invariants(world.ctx.uow)


def test_a_receipt_applies_once_per_receipt_id(world: World) -> None:
    expect(world, "PO-1", ("A", 5))
    receive(world, "PO-1", "R-1", ("A", 2))
    again = receive(world, "PO-1", "R-1", ("A", 2))
    assert again.replayed
    assert world.position("DC-ATL", "A").on_hand == 2
    assert again.supply.lines[0].received == 2


def test_a_receipt_id_used_for_another_supply_is_refused(world: World) -> None:
    expect(world, "PO-1", ("A", 5))
    expect(world, "PO-2", ("A", 5))
    receive(world, "PO-1", "R-1", ("A", 2))
    with pytest.raises(Conflict) as err:
        receive(world, "PO-2", "R-1", ("A", 2))
    assert err.value.code == "receipt_id_reused"


def test_receiving_more_than_expected_is_refused_and_changes_nothing(world: World) -> None:
    expect(world, "PO-1", ("A", 5), ("B", 1))
    with pytest.raises(InvalidInput) as err:
        receive(world, "PO-1", "R-1", ("A", 1), ("B", 2))
    assert err.value.code == "over_receipt"
    assert err.value.details["field"] == "lines.1.quantity"
    assert world.position("DC-ATL", "A").on_hand == 0
    # The refused receipt id stays free for the corrected receipt.
    assert not receive(world, "PO-1", "R-1", ("A", 1), ("B", 1)).replayed


def test_receiving_a_sku_not_on_the_supply_is_refused(world: World) -> None:
    expect(world, "PO-1", ("A", 5))
    with pytest.raises(InvalidInput) as err:
        receive(world, "PO-1", "R-1", ("B", 1))
    assert err.value.code == "sku_not_on_supply"


def test_receiving_a_received_supply_is_a_conflict(world: World) -> None:
    expect(world, "PO-1", ("A", 1))
    receive(world, "PO-1", "R-1", ("A", 1))
    with pytest.raises(InvalidTransition):
        receive(world, "PO-1", "R-2", ("A", 1))


def test_receiving_unknown_supply_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        receive(world, "PO-X", "R-1", ("A", 1))


def test_a_ship_complete_order_is_not_split_by_a_receipt(world: World) -> None:
    allow_future_supply(world, fallback="backorder")
    expect(world, "PO-1", ("A", 5))
    order = world.place(("A", 2), ("B", 1))
    assert pegged(world, order) == [("PO-1", "1", 2)]
    receive(world, "PO-1", "R-1", ("A", 5))
    got = world.order(order.id)
    assert got.status is OrderStatus.BACKORDERED
    assert placed_at(got) == {}
    world.stock("DC-ATL", "B", 1)
    relay_once(world.bus)
    assert world.order(order.id).status is OrderStatus.ALLOCATED
    check_invariants(world.ctx.uow)


# --- supply changes ----------------------------------------------------------------------


def test_cancelling_supply_releases_pegs_and_pegs_again_to_other_supply(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 3), days=2)
    expect(world, "PO-2", ("A", 3), days=9)
    order = world.place(("A", 3))
    assert pegged(world, order) == [("PO-1", "1", 3)]
    cancelled = world.bus.handle(CancelSupply("PO-1", "supplier short"))
    assert cancelled.status is SupplyStatus.CANCELLED
    assert pegged(world, order) == [("PO-2", "1", 3)]
    assert world.order(order.id).status is OrderStatus.BACKORDERED
    types = world.event_types(order.id)
    assert types.index("order.unpegged") < len(types) - 1
    with pytest.raises(InvalidTransition):
        world.bus.handle(CancelSupply("PO-1"))


def test_cancelling_the_only_supply_leaves_the_order_waiting(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 3))
    order = world.place(("A", 3))
    world.bus.handle(CancelSupply("PO-1"))
    assert pegged(world, order) == []
    assert line_counts(world.order(order.id))["backordered"] == 3


def test_replacing_open_supply_re_pegs_within_the_new_quantity(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 5))
    first = world.place(("A", 3))
    second = world.place(("A", 2))
    expect(world, "PO-1", ("A", 4))
    assert pegged(world, first) == [("PO-1", "1", 3)]
    assert pegged(world, second) == [("PO-1", "1", 1)]


def test_the_same_document_again_changes_nothing(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 5), days=5)
    order = world.place(("A", 3))
    before = world.event_types(order.id)
    result = world.bus.handle(
        PutSupply(
            "PO-1",
            "purchase_order",
            "DC-ATL",
            supply(world, "PO-1").expected_at,
            (("A", 5),),
            origin="ACME",
        )
    )
    assert not result.created
    assert world.event_types(order.id) == before


def test_supply_cannot_be_replaced_after_a_receipt(world: World) -> None:
    expect(world, "PO-1", ("A", 5))
    receive(world, "PO-1", "R-1", ("A", 1))
    with pytest.raises(Conflict) as err:
        expect(world, "PO-1", ("A", 6))
    assert err.value.code == "supply_not_replaceable"


@pytest.mark.parametrize(
    ("location", "lines", "code", "field"),
    [
        ("NOWHERE", (("A", 1),), "unknown_location", "location_id"),
        ("DC-ATL", (("A", 1), ("ZZZ", 1)), "unknown_sku", "lines.1.sku"),
        ("DC-ATL", (("A", 1), ("A", 2)), "duplicate_sku", "lines.1.sku"),
    ],
)
def test_supply_with_bad_references_is_refused(
    world: World, location: str, lines: tuple[tuple[str, int], ...], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        expect(world, "PO-1", *lines, at=location)
    assert (err.value.code, err.value.details["field"]) == (code, field)


def test_events_announce_created_received_and_cancelled_supply(world: World) -> None:
    expect(world, "PO-1", ("A", 2))
    receive(world, "PO-1", "R-1", ("A", 1))
    world.bus.handle(CancelSupply("PO-1", "rest not coming"))
    with world.uow() as uow:
        events = uow.outbox.after((0, 0), 1000)
    kinds = [e.type for e in events if e.type.startswith("supply.")]
    assert kinds == ["supply.created", "supply.received", "supply.cancelled"]
    received = next(e for e in events if e.type == "supply.received")
    assert received.data["receipt_id"] == "R-1"


def test_pick_of_a_receipt_allocation_runs_as_usual(world: World) -> None:
    allow_future_supply(world)
    expect(world, "PO-1", ("A", 2))
    order = world.place(("A", 2))
    receive(world, "PO-1", "R-1", ("A", 2))
    fid = open_fulfilment(world.order(order.id), "DC-ATL")
    world.act(fid, "accept")
    world.act(fid, "pick", picked={"1": 2})
    shipped = world.act(fid, "ship")
    assert shipped.status is OrderStatus.SHIPPED
    check_invariants(world.ctx.uow)
