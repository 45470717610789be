"""Transfers that take fewer units than they held, on the in-memory backend: a dispatch
that leaves short, and a count at the origin below what is reserved there. The rest is
released at the origin, the line expects only what is coming, and orders pegged to the
missing units are sourced again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.service.carts import reservation, reserve
from tests.service.factories import World, line_counts
from tests.service.invariants import check_invariants

from ordergrid.domain.errors import Conflict, InvalidInput
from ordergrid.domain.orders import Order
from ordergrid.domain.supply import Supply, SupplyStatus
from ordergrid.service.commands import ApplySnapshot, PutPolicy
from ordergrid.service.ports import LedgerFilter, StoredEvent
from ordergrid.service.relay import relay_once
from ordergrid.service.supply_commands import DispatchSupply, PutSupply, ReceiveSupply


def transfer(world: World, supply_id: str, *lines: tuple[str, int], to: str = "ST-NY1") -> Supply:
    result = world.bus.handle(
        PutSupply(
            supply_id,
            "transfer",
            to,
            world.clock.now() + timedelta(days=2),
            lines,
            origin="DC-ATL",
        )
    )
    world.clock.advance(seconds=1)
    supply: Supply = result.supply
    return supply


def document(world: World, supply_id: str) -> Supply:
    with world.uow() as uow:
        found = uow.supply.get(supply_id)
    assert found is not None
    return found


def lines_of(supply: Supply) -> list[tuple[str, int, int]]:
    return [(x.sku, x.quantity, x.pegged) for x in supply.lines]


def ledger(world: World, location_id: str, sku: str = "A") -> list[tuple[str, int, int]]:
    with world.uow() as uow:
        entries = uow.inventory.ledger(LedgerFilter(sku, location_id), 100, None)
    return [(e.reason, e.on_hand_delta, e.reserved_delta) for e in entries]


def events(world: World, kind: str) -> list[StoredEvent]:
    with world.uow() as uow:
        return [e for e in uow.outbox.after((0, 0), 10_000) if e.type == kind]


def counted(world: World, sku: str, on_hand: int) -> None:
    """The origin's count says `on_hand`; the worker then settles what it left short."""
    world.bus.handle(ApplySnapshot("DC-ATL", world.clock.now(), ((sku, on_hand),)))
    world.clock.advance(seconds=1)
    world.work()


def transfers_of(world: World, order: Order) -> list[Supply]:
    with world.uow() as uow:
        ids = {p.supply_id for p in uow.supply.pegs_of_order(order.id)}
        found = [uow.supply.get(i) for i in sorted(ids)]
    return [s for s in found if s is not None]


def unpegged_reasons(world: World, order: Order) -> list[str]:
    return [str(e.data["reason"]) for e in world.events(order.id) if e.type == "order.unpegged"]


def a_pickup_order_lacking_b(world: World) -> Order:
    world.stock("ST-NY1", "A", 1)
    world.stock("DC-ATL", "B", 5)
    return world.place(("A", 1), ("B", 2), method="pickup", pickup="ST-NY1")


# --- short dispatch ------------------------------------------------------------------


def test_a_short_dispatch_sends_what_left_and_releases_the_rest(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world, "TR-1", ("A", 4))
    sent = world.bus.handle(DispatchSupply("TR-1", lines=(("A", 3),), reason="not_found"))
    assert sent.status is SupplyStatus.IN_TRANSIT
    assert lines_of(sent) == [("A", 3, 0)]
    origin = world.position("DC-ATL", "A")
    assert (origin.on_hand, origin.reserved) == (7, 0)
    assert ledger(world, "DC-ATL")[-2:] == [("transfer_out", -3, -3), ("transfer_short", 0, -1)]
    [dispatched] = events(world, "supply.dispatched")
    assert dispatched.data["lines"] == [{"sku": "A", "quantity": 3, "planned": 4, "short": 1}]
    assert dispatched.data["short_reason"] == "not_found"
    [updated] = events(world, "supply.updated")
    assert updated.data["reason"] == "short_dispatch"
    assert updated.data["short"] == [{"sku": "A", "planned": 4, "quantity": 3, "short": 1}]
    with pytest.raises(InvalidInput) as over:
        world.bus.handle(ReceiveSupply("TR-1", "R-1", (("A", 4),)))
    assert over.value.code == "over_receipt"
    world.bus.handle(ReceiveSupply("TR-1", "R-2", (("A", 3),)))
    assert document(world, "TR-1").status is SupplyStatus.RECEIVED
    assert world.position("ST-NY1", "A").on_hand == 3
    check_invariants(world.uow)


def test_a_line_not_listed_leaves_whole_and_a_line_at_zero_stays(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    world.stock("DC-ATL", "B", 10)
    transfer(world, "TR-1", ("A", 4), ("B", 2))
    sent = world.bus.handle(DispatchSupply("TR-1", lines=(("A", 0),)))
    assert lines_of(sent) == [("A", 0, 0), ("B", 2, 0)]
    assert (world.position("DC-ATL", "A").on_hand, world.position("DC-ATL", "A").reserved) == (
        10,
        0,
    )
    assert world.position("DC-ATL", "B").on_hand == 8
    check_invariants(world.uow)


@pytest.mark.parametrize(
    ("lines", "code", "field"),
    [
        ((("A", 5),), "over_dispatch", "lines.0.quantity"),
        ((("A", 1), ("Z", 1)), "sku_not_on_supply", "lines.1.sku"),
        ((("A", -1),), "invalid_quantity", "lines.0.quantity"),
        ((("A", 1), ("A", 2)), "duplicate_sku", "lines.1.sku"),
        ((("A", 0),), "nothing_dispatched", "lines"),
    ],
)
def test_a_dispatch_naming_impossible_quantities_is_refused_and_changes_nothing(
    world: World, lines: tuple[tuple[str, int], ...], code: str, field: str
) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world, "TR-1", ("A", 4))
    with pytest.raises(InvalidInput) as refused:
        world.bus.handle(DispatchSupply("TR-1", lines=lines))
    assert (refused.value.code, refused.value.details["field"]) == (code, field)
    assert document(world, "TR-1").status is SupplyStatus.OPEN
    assert lines_of(document(world, "TR-1")) == [("A", 4, 0)]
    assert world.position("DC-ATL", "A").reserved == 4


def test_dispatching_a_short_dispatched_transfer_again_is_a_conflict(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world, "TR-1", ("A", 4))
    world.bus.handle(DispatchSupply("TR-1", lines=(("A", 2),)))
    with pytest.raises(Conflict) as again:
        world.bus.handle(DispatchSupply("TR-1", lines=(("A", 2),)))
    assert again.value.code == "invalid_transition"
    assert again.value.details["current"] == "in_transit"
    assert world.position("DC-ATL", "A").on_hand == 8


def test_a_back_order_pegged_to_the_short_units_waits_again(world: World) -> None:
    world.bus.handle(
        PutPolicy("web", {"name": "web", "future_supply": {"allow": True}}, activate=True)
    )
    world.stock("DC-ATL", "A", 4)
    transfer(world, "TR-1", ("A", 4))
    order = world.place(("A", 3))
    assert lines_of(document(world, "TR-1")) == [("A", 4, 3)]
    world.bus.handle(DispatchSupply("TR-1", lines=(("A", 1),)))
    assert lines_of(document(world, "TR-1")) == [("A", 1, 1)]
    assert unpegged_reasons(world, order) == ["transfer_short"]
    assert [(p.supply_id, p.quantity) for p in document(world, "TR-1").pegs] == [("TR-1", 1)]
    # The units released at the origin wake the back-order like any stock that came back.
    relay_once(world.bus)
    order = world.order(order.id)
    # Three units are available at the origin again: the order takes them all from
    # stock and no longer waits for the transfer.
    assert line_counts(order)["allocated"] == 3
    assert document(world, "TR-1").pegs == []
    assert world.position("DC-ATL", "A").reserved == 3
    check_invariants(world.uow)


def test_a_pickup_transfer_dispatched_short_excludes_its_origin_and_sources_again(
    world: World,
) -> None:
    order = a_pickup_order_lacking_b(world)
    world.stock("DC-RNO", "B", 5)
    [first] = transfers_of(world, order)
    world.bus.handle(DispatchSupply(first.id, lines=(("B", 1),)))
    order = world.order(order.id)
    assert "DC-ATL" in order.excluded_locations
    assert unpegged_reasons(world, order) == ["transfer_short"]
    by_origin = {t.origin: lines_of(t) for t in transfers_of(world, order)}
    assert by_origin == {"DC-ATL": [("B", 1, 1)], "DC-RNO": [("B", 1, 1)]}
    assert world.position("DC-RNO", "B").reserved == 1
    assert world.position("DC-ATL", "B").reserved == 0
    assert line_counts(order, "2")["backordered"] == 2
    check_invariants(world.uow)


# --- a count below what transfers hold ------------------------------------------------


def test_a_count_below_a_transfer_cuts_it_to_what_exists(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world, "TR-1", ("A", 6))
    counted(world, "A", 4)
    assert lines_of(document(world, "TR-1")) == [("A", 4, 0)]
    assert document(world, "TR-1").status is SupplyStatus.OPEN
    origin = world.position("DC-ATL", "A")
    assert (origin.on_hand, origin.reserved) == (4, 4)
    assert ledger(world, "DC-ATL")[-1] == ("transfer_short", 0, -2)
    [updated] = events(world, "supply.updated")
    assert updated.data["reason"] == "stock_count"
    assert updated.data["short"] == [{"sku": "A", "planned": 6, "quantity": 4, "short": 2}]
    check_invariants(world.uow)


def test_a_short_count_takes_carts_then_transfers_then_orders(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    order = world.place(("A", 2))
    transfer(world, "TR-1", ("A", 4))
    cart = reserve(world, ("A", 2))
    counted(world, "A", 3)
    assert reservation(world, cart.id).status.value == "released"
    assert lines_of(document(world, "TR-1")) == [("A", 1, 0)]
    assert line_counts(world.order(order.id))["allocated"] == 2
    counted(world, "A", 1)
    cancelled = document(world, "TR-1")
    assert cancelled.status is SupplyStatus.CANCELLED
    assert lines_of(cancelled) == [("A", 0, 0)]
    [gone] = events(world, "supply.cancelled")
    assert gone.data["reason"] == "stock_count"
    assert line_counts(world.order(order.id))["allocated"] == 1
    p = world.position("DC-ATL", "A")
    assert (p.on_hand, p.reserved) == (1, 1)
    check_invariants(world.uow)


def test_a_transfer_no_order_waits_for_gives_way_before_a_pickup_transfer(
    world: World,
) -> None:
    order = a_pickup_order_lacking_b(world)
    transfer(world, "TR-PLAIN", ("B", 2), to="ST-CHI")
    [pickup] = transfers_of(world, order)
    assert pickup.created_at < document(world, "TR-PLAIN").created_at
    counted(world, "B", 3)
    assert lines_of(document(world, "TR-PLAIN")) == [("B", 1, 0)]
    assert lines_of(document(world, pickup.id)) == [("B", 2, 2)]
    check_invariants(world.uow)


def test_a_count_below_a_pickup_transfer_sources_the_missing_units_again(world: World) -> None:
    order = a_pickup_order_lacking_b(world)
    world.stock("DC-RNO", "B", 5)
    [first] = transfers_of(world, order)
    counted(world, "B", 1)
    order = world.order(order.id)
    assert unpegged_reasons(world, order) == ["transfer_short"]
    # The count made the origin's stock true again: it is not excluded.
    assert "DC-ATL" not in order.excluded_locations
    by_origin = {t.origin: lines_of(t) for t in transfers_of(world, order)}
    assert by_origin == {"DC-ATL": [("B", 1, 1)], "DC-RNO": [("B", 1, 1)]}
    assert first.id in {t.id for t in transfers_of(world, order)}
    check_invariants(world.uow)
