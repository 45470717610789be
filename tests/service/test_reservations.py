"""Cart reservations on the in-memory backend: holding, expiry, extension, release and
conversion into an order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.service.carts import extend, release, reservation, reserve, reserve_returning_created
from tests.service.factories import World, line_counts
from tests.service.invariants import check_invariants

from ordergrid.domain.errors import Forbidden, InvalidInput, NotFound
from ordergrid.domain.reservations import (
    InsufficientStock,
    ReservationAlreadyConverted,
    ReservationNotActive,
)
from ordergrid.service.commands import Actor, ApplySnapshot
from ordergrid.service.ports import LedgerFilter, StoredEvent
from ordergrid.service.relay import relay_once


def outbox_events(world: World, prefix: str = "reservation.") -> list[StoredEvent]:
    with world.uow() as uow:
        return [e for e in uow.outbox.after((0, 0), 10_000) if e.type.startswith(prefix)]


def test_a_cart_hold_reserves_units_and_lowers_available(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 3))
    assert r.status.value == "active"
    assert r.holds() == {("DC-ATL", "A"): 3}
    p = world.position("DC-ATL", "A")
    assert (p.on_hand, p.reserved, p.available) == (5, 3, 2)
    assert r.expires_at == r.created_at + timedelta(minutes=15)
    check_invariants(world.uow)


def test_the_ledger_names_the_reservation_that_holds_and_releases(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 2))
    release(world, r.id)
    with world.uow() as uow:
        entries = uow.inventory.ledger(LedgerFilter("A"), 100, None)
    mine = [(e.reason, e.reserved_delta) for e in entries if e.ref == f"reservation:{r.id}"]
    assert mine == [("reservation", 2), ("release", -2)]


def test_holds_are_chosen_by_the_sourcing_engine_nearest_the_destination(world: World) -> None:
    world.stock("DC-RNO", "A", 5)
    world.stock("DC-ATL", "A", 5)
    assert reserve(world, ("A", 1), to="SAC").holds() == {("DC-RNO", "A"): 1}
    assert reserve(world, ("A", 1), to="NYC").holds() == {("DC-ATL", "A"): 1}


def test_a_cart_without_destination_is_held_by_the_channel_ship_policy(world: World) -> None:
    world.stock("DC-RNO", "A", 2)
    world.stock("ST-CHI", "A", 5)
    r = reserve(world, ("A", 2), to=None)
    assert sum(r.holds().values()) == 2
    assert r.destination == {}


def test_a_pickup_cart_is_held_at_its_store(world: World) -> None:
    world.stock("DC-ATL", "A", 9)
    world.stock("ST-CHI", "A", 2)
    r = reserve(world, ("A", 2), pickup="ST-CHI")
    assert r.holds() == {("ST-CHI", "A"): 2}
    with pytest.raises(InsufficientStock):
        reserve(world, ("A", 1), pickup="ST-CHI")


def test_a_pickup_location_that_does_not_offer_pickup_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        reserve(world, ("A", 1), pickup="DC-ATL")
    assert (err.value.code, err.value.details["field"]) == (
        "capability_missing",
        "pickup_location_id",
    )


def test_a_cart_the_network_cannot_hold_holds_nothing(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-ATL", "B", 1)
    with pytest.raises(InsufficientStock) as err:
        reserve(world, ("A", 2), ("B", 3))
    assert err.value.code == "insufficient_stock"
    assert err.value.details["lines"] == [{"sku": "B", "requested": 3, "available": 1}]
    assert world.position("DC-ATL", "A").reserved == 0
    assert world.position("DC-ATL", "B").reserved == 0


def test_unknown_and_repeated_skus_are_refused_with_the_field(world: World) -> None:
    with pytest.raises(InvalidInput) as unknown:
        reserve(world, ("A", 1), ("NOPE", 1))
    assert unknown.value.details["field"] == "lines.1.sku"
    with pytest.raises(InvalidInput) as twice:
        reserve(world, ("A", 1), ("A", 1))
    assert (twice.value.code, twice.value.details["field"]) == ("duplicate_sku", "lines.1.sku")


def test_ttl_beyond_the_maximum_is_refused(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    with pytest.raises(InvalidInput) as err:
        reserve(world, ("A", 1), ttl=3 * 3600)
    assert (err.value.code, err.value.details["field"]) == ("invalid_ttl", "ttl_seconds")


def test_the_same_cart_id_returns_the_first_hold(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    first, created = reserve_returning_created(world, ("A", 2), external_id="cart-1")
    again, created_again = reserve_returning_created(world, ("A", 2), external_id="cart-1")
    assert (created, created_again, again.id) == (True, False, first.id)
    assert world.position("DC-ATL", "A").reserved == 2


def test_an_idempotency_key_with_another_body_is_refused(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    first, _ = reserve_returning_created(world, ("A", 1), key="k1", fingerprint="f1")
    again, created = reserve_returning_created(world, ("A", 1), key="k1", fingerprint="f1")
    assert (again.id, created) == (first.id, False)
    with pytest.raises(InvalidInput) as err:
        reserve_returning_created(world, ("A", 2), key="k1", fingerprint="f2")
    assert err.value.code == "idempotency_key_reused"


def test_the_timer_releases_the_hold_at_expires_at(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 3), ttl=60)
    world.clock.advance(seconds=58)
    world.work()
    assert reservation(world, r.id).status.value == "active"
    world.clock.advance(seconds=2)
    world.work()
    assert reservation(world, r.id).status.value == "expired"
    assert world.position("DC-ATL", "A").reserved == 0
    assert [e.type for e in outbox_events(world)] == ["reservation.created", "reservation.expired"]
    check_invariants(world.uow)


def test_extend_moves_the_timer(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 1), ttl=60)
    world.clock.advance(seconds=50)
    extended = extend(world, r.id, ttl=60)
    assert extended.expires_at == world.clock.now() + timedelta(seconds=60)
    world.clock.advance(seconds=30)  # past the first expiry, not the new one
    world.work()
    assert reservation(world, r.id).status.value == "active"
    world.clock.advance(seconds=30)
    world.work()
    assert reservation(world, r.id).status.value == "expired"


def test_extensions_stop_at_the_maximum_lifetime(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 1), ttl=7200)
    limit = r.created_at + timedelta(hours=24)
    for _ in range(13):  # the last one at 23h50
        world.clock.advance(timedelta(hours=1, minutes=50))
        r = extend(world, r.id, ttl=7200)
    assert r.expires_at == limit == r.expires_at_limit
    world.clock.advance(timedelta(minutes=10))
    world.work()
    assert reservation(world, r.id).status.value == "expired"


def test_an_expired_reservation_cannot_be_extended(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 1), ttl=10)
    world.clock.advance(seconds=11)
    with pytest.raises(ReservationNotActive) as err:
        extend(world, r.id)
    assert err.value.code == "reservation_expired"


def test_release_is_idempotent_and_frees_the_units(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 3))
    assert release(world, r.id).status.value == "released"
    assert release(world, r.id).status.value == "released"
    assert world.position("DC-ATL", "A").reserved == 0
    types = [e.type for e in outbox_events(world)]
    assert types == ["reservation.created", "reservation.released"]
    assert outbox_events(world)[-1].data["reason"] == "requested"


def test_releasing_a_lapsed_hold_records_its_expiry(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 1), ttl=10)
    world.clock.advance(seconds=20)  # the worker has not run yet
    assert release(world, r.id).status.value == "expired"
    assert world.position("DC-ATL", "A").reserved == 0


def test_unknown_reservation_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as err:
        release(world, "nope")
    assert err.value.code == "reservation_not_found"


def test_a_token_of_another_channel_may_not_release(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 1))
    with pytest.raises(Forbidden):
        release(world, r.id, Actor("app-token", channels=frozenset({"app"})))


def test_releasing_a_hold_wakes_back_orders(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    r = reserve(world, ("A", 2))
    waiting = world.place(("A", 2))
    assert line_counts(waiting)["backordered"] == 2
    release(world, r.id)
    relay_once(world.bus)
    assert line_counts(world.order(waiting.id))["allocated"] == 2
    check_invariants(world.uow)


def test_an_order_converts_the_hold_into_its_allocation(world: World) -> None:
    world.stock("DC-ATL", "A", 3)
    r = reserve(world, ("A", 3))
    order = world.place(("A", 3), reservation_id=r.id)
    assert line_counts(order)["allocated"] == 3
    converted = reservation(world, r.id)
    assert (converted.status.value, converted.order_id) == ("converted", order.id)
    p = world.position("DC-ATL", "A")
    assert (p.reserved, p.available) == (3, 0)
    assert "order.reservation_converted" in world.event_types(order.id)
    assert [e.type for e in outbox_events(world)][-1] == "reservation.converted"
    check_invariants(world.uow)


def test_held_units_go_to_the_converting_order_not_to_others(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    r = reserve(world, ("A", 2))
    other = world.place(("A", 2))
    assert line_counts(other)["backordered"] == 2
    mine = world.place(("A", 2), reservation_id=r.id)
    assert line_counts(mine)["allocated"] == 2


def test_lines_beyond_the_hold_are_sourced_normally(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-ATL", "B", 5)
    r = reserve(world, ("A", 2))
    order = world.place(("A", 3), ("B", 1), reservation_id=r.id)
    assert line_counts(order, "1")["allocated"] == 3
    assert line_counts(order, "2")["allocated"] == 1
    p = world.position("DC-ATL", "A")
    assert (p.reserved, p.available) == (3, 2)


def test_units_the_order_does_not_take_are_announced_free(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 3))
    world.place(("A", 1), reservation_id=r.id)
    assert world.position("DC-ATL", "A").reserved == 1
    with world.uow() as uow:
        changed = [e for e in uow.outbox.after((0, 0), 1000) if e.type == "inventory.changed"]
    assert changed[-1].data["available"] == 4


def test_an_expired_hold_does_not_stop_the_order(world: World) -> None:
    world.stock("DC-ATL", "A", 3)
    r = reserve(world, ("A", 3), ttl=30)
    world.clock.advance(seconds=31)
    world.work()
    order = world.place(("A", 3), reservation_id=r.id)
    assert line_counts(order)["allocated"] == 3
    lapsed = [e for e in world.events(order.id) if e.type == "order.reservation_lapsed"]
    assert lapsed[0].data == {"reservation_id": r.id, "status": "expired"}
    assert reservation(world, r.id).status.value == "expired"


def test_a_hold_past_expiry_the_worker_has_not_reached_lapses_at_the_order(
    world: World,
) -> None:
    world.stock("DC-ATL", "A", 3)
    r = reserve(world, ("A", 3), ttl=30)
    world.clock.advance(seconds=31)
    order = world.place(("A", 3), reservation_id=r.id)
    assert line_counts(order)["allocated"] == 3
    assert reservation(world, r.id).status.value == "expired"
    assert "order.reservation_lapsed" in world.event_types(order.id)
    world.work()  # the old timer finds nothing to do
    check_invariants(world.uow)


def test_an_unknown_reservation_does_not_stop_the_order(world: World) -> None:
    world.stock("DC-ATL", "A", 1)
    order = world.place(("A", 1), reservation_id="no-such-cart")
    assert line_counts(order)["allocated"] == 1
    lapsed = [e for e in world.events(order.id) if e.type == "order.reservation_lapsed"]
    assert lapsed[0].data["status"] == "unknown"


def test_a_reservation_converted_by_another_order_is_a_conflict(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 1))
    first = world.place(("A", 1), reservation_id=r.id)
    with pytest.raises(ReservationAlreadyConverted) as err:
        world.place(("A", 1), reservation_id=r.id)
    assert err.value.details["order_id"] == first.id
    with pytest.raises(ReservationAlreadyConverted):
        release(world, r.id)


def test_replaying_the_converting_order_changes_nothing(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 1))
    first = world.place(("A", 1), reservation_id=r.id, external_id="W-1")
    again, created = world.place_returning_created(("A", 1), reservation_id=r.id, external_id="W-1")
    assert (again.id, created) == (first.id, False)


def test_a_reservation_of_another_channel_is_refused(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    r = reserve(world, ("A", 1))
    with pytest.raises(InvalidInput) as err:
        world.place(("A", 1), reservation_id=r.id, channel="app")
    assert (err.value.code, err.value.details["field"]) == (
        "reservation_channel_mismatch",
        "reservation_id",
    )
    assert reservation(world, r.id).status.value == "active"


def test_a_short_count_takes_units_from_carts_before_orders(world: World) -> None:
    world.stock("DC-ATL", "A", 4)
    order = world.place(("A", 2))
    older = reserve(world, ("A", 1))
    newer = reserve(world, ("A", 1))
    world.bus.handle(ApplySnapshot("DC-ATL", world.clock.now(), (("A", 3),)))
    world.work()
    assert reservation(world, newer.id).status.value == "released"
    assert reservation(world, older.id).status.value == "active"
    assert line_counts(world.order(order.id))["allocated"] == 2
    released = [e for e in outbox_events(world) if e.type == "reservation.released"]
    assert released[0].data["reason"] == "stock_discrepancy"
    p = world.position("DC-ATL", "A")
    assert (p.on_hand, p.reserved) == (3, 3)
    check_invariants(world.uow)
