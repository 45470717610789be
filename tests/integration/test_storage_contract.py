"""The repository / unit-of-work contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.integration.conftest import wire

from ordergrid.adapters.db import tables as t
from ordergrid.bootstrap import Application
from ordergrid.domain.catalogue import Product
from ordergrid.domain.events import Event
from ordergrid.domain.exception_queue import CaseStatus, ExceptionCase
from ordergrid.domain.fulfilments import Fulfilment, FulfilmentLine, FulfilmentStatus
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.network import (
    Address,
    Capability,
    Location,
    LocationStatus,
    LocationType,
)
from ordergrid.domain.orders import Delivery, DeliveryMethod, Order, OrderLine, OrderStatus
from ordergrid.service.ports import (
    ConcurrentUpdate,
    ExceptionFilter,
    LedgerEntry,
    LedgerFilter,
    OrderFilter,
    StoredDecision,
    Timer,
)

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def a_location(location_id: str = "DC1", status: str = "active") -> Location:
    return Location(
        id=location_id,
        name=f"Location {location_id}",
        type=LocationType.DC,
        address=Address(city="Atlanta", postal_code="30301", country="US", lat=33.7, lon=-84.4),
        capabilities=frozenset({Capability.SHIP}),
        handling_cost=1.5,
        tags=frozenset({"east"}),
        status=LocationStatus(status),
    )


def an_order(
    order_id: str, external_id: str = "W-1", created: datetime = T0, backordered: int = 0
) -> Order:
    order = Order(
        id=order_id,
        external_id=external_id,
        channel="web",
        delivery=Delivery(
            DeliveryMethod.SHIP,
            address=Address(postal_code="10001", country="US", lat=40.7, lon=-74.0),
        ),
        lines=[OrderLine("1", "A", 3, None, backordered=backordered)],
        created_at=created,
        updated_at=created,
        customer={"id": "C1"},
    )
    order.fulfilments.append(
        Fulfilment(
            id=f"F-{order_id}",
            order_id=order_id,
            location_id="DC1",
            status=FulfilmentStatus.RELEASED,
            lines=[FulfilmentLine("1", "A", 3 - backordered)],
            created_at=created,
            updated_at=created,
        )
    )
    order.status = OrderStatus.ALLOCATED
    order.record("order.received", "test", n=1)
    return order


def test_locations_round_trip_and_replace(application: Application) -> None:
    with application.ctx.uow() as uow:
        assert uow.locations.put(a_location("DC1")) is True
        uow.commit()
    with application.ctx.uow() as uow:
        assert uow.locations.get("DC1") == a_location("DC1")
        assert uow.locations.put(a_location("DC1", status="paused")) is False
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        found = uow.locations.get("DC1")
        assert found is not None
        assert found.status.value == "paused"
        assert [loc.id for loc in uow.locations.all()] == ["DC1"]


def test_location_change_is_seen_by_another_process_cache(database_url: str) -> None:
    first, second = wire(database_url), wire(database_url)
    try:
        for app in (first, second):  # both processes warm their caches
            with app.ctx.uow() as uow:
                uow.locations.put(a_location("DC1")) if app is first else None
                uow.commit()
        with second.ctx.uow(readonly=True) as uow:
            assert uow.locations.get("DC1") is not None
        with first.ctx.uow() as uow:
            uow.locations.put(a_location("DC1", status="closed"))
            uow.commit()
        with second.ctx.uow(readonly=True) as uow:
            found = uow.locations.get("DC1")
            assert found is not None
            assert found.status.value == "closed"
    finally:
        first.close()
        second.close()


def test_locations_by_id_are_one_mapping_until_the_network_changes(
    application: Application,
) -> None:
    with application.ctx.uow() as uow:
        uow.locations.put(a_location("DC2"))
        uow.locations.put(a_location("DC1"))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        first = uow.locations.by_id()
    with application.ctx.uow(readonly=True) as uow:
        assert uow.locations.by_id() is first
    assert list(first) == ["DC1", "DC2"]
    with application.ctx.uow() as uow:
        uow.locations.put(a_location("DC1", status="paused"))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        changed = uow.locations.by_id()
    assert changed is not first
    assert changed["DC1"].status.value == "paused"
    assert first["DC1"].status.value == "active"  # a mapping handed out never changes


def test_products_known_and_paged(application: Application) -> None:
    with application.ctx.uow() as uow:
        for sku in ("A", "B", "C"):
            uow.products.put(Product(sku, f"Product {sku}", 1.0, frozenset({"t"}), {"k": 1}))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        assert uow.products.known(["A", "C", "Z"]) == {"A", "C"}
        assert uow.products.get("B") == Product("B", "Product B", 1.0, frozenset({"t"}), {"k": 1})
        first = uow.products.page(2, None)
        assert [p.sku for p in first.items] == ["A", "B"]
        second = uow.products.page(2, first.next_cursor)
        assert [p.sku for p in second.items] == ["C"]
        assert second.next_cursor is None


def test_a_product_put_in_a_rolled_back_transaction_is_never_known(
    application: Application,
) -> None:
    with application.ctx.uow() as uow:
        uow.products.put(Product("GONE", "Rolled back", None, frozenset({"t"}), {}))
        assert uow.products.known(["GONE"]) == {"GONE"}
        assert uow.products.tags(["GONE"]) == {"GONE": frozenset({"t"})}
    # Another writer moves the catalogue to the version the rolled-back one had taken.
    with application.ctx.uow() as uow:
        uow.products.put(Product("KEPT", "Committed", None, frozenset({"k"}), {}))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        assert uow.products.known(["GONE", "KEPT"]) == {"KEPT"}
        assert uow.products.tags(["GONE", "KEPT"]) == {"KEPT": frozenset({"k"})}


def test_reservation_is_refused_when_it_would_oversell(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.inventory.move(Movement("DC1", "A", 5, 0, MovementReason.RECEIPT))
        first = uow.inventory.reserve("DC1", "A", 4)
        second = uow.inventory.reserve("DC1", "A", 2)
        uow.commit()
    assert first is not None
    assert first.reserved == 4
    assert second is None
    with application.ctx.uow(readonly=True) as uow:
        position = uow.inventory.position("DC1", "A")
        assert position is not None
        assert (position.on_hand, position.reserved, position.available) == (5, 4, 1)


def test_move_refuses_negative_on_hand_unless_clamped(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.inventory.move(Movement("DC1", "A", 2, 0, MovementReason.RECEIPT))
        assert uow.inventory.move(Movement("DC1", "A", -3, 0, MovementReason.WRITE_OFF)) is None
        assert uow.inventory.move(Movement("DC1", "B", -1, 0, MovementReason.WRITE_OFF)) is None
        clamped = uow.inventory.move(
            Movement("DC1", "A", -3, 0, MovementReason.SHIPMENT), clamp=True
        )
        assert clamped is not None
        assert clamped.on_hand == 0
        uow.commit()


def test_snapshot_support_counts_physical_movements_after_as_of(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.inventory.set_on_hand("DC1", "A", 10, T0)
        uow.inventory.record(
            [
                LedgerEntry("DC1", "A", T0 - timedelta(hours=1), 5, 0, 5, 0, "receipt"),
                LedgerEntry("DC1", "A", T0 + timedelta(hours=1), -2, -2, 8, 0, "shipment"),
                LedgerEntry("DC1", "A", T0 + timedelta(hours=2), 0, 1, 8, 1, "reservation"),
                LedgerEntry("DC1", "A", T0 + timedelta(hours=3), 4, 0, 12, 1, "snapshot"),
            ]
        )
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        assert uow.inventory.physical_since("DC1", "A", T0) == -2
        position = uow.inventory.position("DC1", "A")
        assert position is not None
        assert position.snapshot_as_of == T0


def test_adjustment_ids_are_claimed_once(application: Application) -> None:
    with application.ctx.uow() as uow:
        assert uow.inventory.claim_adjustment("adj-1", T0) is True
        assert uow.inventory.claim_adjustment("adj-1", T0) is False
        uow.commit()
    with application.ctx.uow() as uow:
        assert uow.inventory.claim_adjustment("adj-1", T0) is False


def test_uncommitted_work_is_rolled_back(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.inventory.move(Movement("DC1", "A", 5, 0, MovementReason.RECEIPT))
        uow.orders.add(an_order("O1"))
    with application.ctx.uow(readonly=True) as uow:
        assert uow.inventory.position("DC1", "A") is None
        assert uow.orders.get("O1") is None
        assert uow.outbox.for_order("O1") == []


def test_order_round_trip_with_events_in_the_outbox(application: Application) -> None:
    order = an_order("O1")
    with application.ctx.uow() as uow:
        uow.orders.add(order)
        uow.commit()
    assert order.events == []
    with application.ctx.uow(readonly=True) as uow:
        loaded = uow.orders.get("O1")
        assert loaded is not None
        assert loaded.lines == order.lines
        assert loaded.fulfilments == order.fulfilments
        assert loaded.delivery == order.delivery
        assert (loaded.status, loaded.version) == (OrderStatus.ALLOCATED, 1)
        assert uow.orders.by_external_id("web", "W-1") is not None
        assert uow.orders.order_id_of_fulfilment("F-O1") == "O1"
        assert [e.type for e in uow.outbox.for_order("O1")] == ["order.received"]


def test_saving_a_stale_order_is_a_concurrent_update(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.orders.add(an_order("O1"))
        uow.commit()
    with application.ctx.uow() as one:
        mine = one.orders.get("O1")
    with application.ctx.uow() as two:
        theirs = two.orders.get("O1")
        assert theirs is not None
        two.orders.save(theirs)
        two.commit()
    assert mine is not None
    with application.ctx.uow() as uow, pytest.raises(ConcurrentUpdate):
        uow.orders.save(mine)


def test_same_channel_and_external_id_cannot_be_added_twice(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.orders.add(an_order("O1", "W-9"))
        uow.commit()
    uow = application.ctx.uow()
    with pytest.raises(ConcurrentUpdate), uow:  # the unit of work translates the conflict
        uow.orders.add(an_order("O2", "W-9"))


def test_ledger_reads_back_in_order_filtered_and_paged(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.inventory.record(
            [
                LedgerEntry("DC1", "A", T0, 5, 0, 5, 0, "receipt", "adj-1", "feed"),
                LedgerEntry("DC2", "A", T0 + timedelta(hours=1), 2, 0, 2, 0, "receipt"),
                LedgerEntry("DC1", "B", T0 + timedelta(hours=1), 1, 0, 1, 0, "receipt"),
                LedgerEntry("DC1", "A", T0 + timedelta(hours=2), 0, 1, 5, 1, "reservation", "F1"),
            ]
        )
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        every = uow.inventory.ledger(LedgerFilter("A"), 10, None)
        assert [(e.location_id, e.reason) for e in every] == [
            ("DC1", "receipt"),
            ("DC2", "receipt"),
            ("DC1", "reservation"),
        ]
        assert (every[0].ref, every[0].actor) == ("adj-1", "feed")
        assert all(e.id is not None for e in every)
        first, *_ = uow.inventory.ledger(LedgerFilter("A"), 1, None)
        rest = uow.inventory.ledger(LedgerFilter("A"), 10, first.id)
        assert [e.reason for e in rest] == ["receipt", "reservation"]
        at_dc1 = uow.inventory.ledger(LedgerFilter("A", "DC1"), 10, None)
        assert [e.reason for e in at_dc1] == ["receipt", "reservation"]
        window = LedgerFilter("A", since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))
        assert [e.location_id for e in uow.inventory.ledger(window, 10, None)] == ["DC2"]


def test_orders_placed_since_are_the_newest_first(application: Application) -> None:
    with application.ctx.uow() as uow:
        for n in range(5):
            uow.orders.add(an_order(f"O{n}", f"W-{n}", T0 + timedelta(hours=n)))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        recent = uow.orders.placed_since(T0 + timedelta(hours=2), 10)
        assert [o.id for o in recent] == ["O4", "O3", "O2"]
        assert [o.id for o in uow.orders.placed_since(T0, 2)] == ["O4", "O3"]
        assert recent[0].lines[0].sku == "A"
        assert uow.orders.placed_since(T0 + timedelta(days=1), 10) == []


def test_order_pages_filters_and_work_queue(application: Application) -> None:
    with application.ctx.uow() as uow:
        for n in range(5):
            uow.orders.add(an_order(f"O{n}", f"W-{n}", T0 + timedelta(minutes=n)))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        page = uow.orders.page(OrderFilter(status="allocated", location_id="DC1"), 3, None)
        assert [o.id for o in page.items] == ["O0", "O1", "O2"]
        rest = uow.orders.page(OrderFilter(status="allocated"), 3, page.next_cursor)
        assert [o.id for o in rest.items] == ["O3", "O4"]
        assert uow.orders.page(OrderFilter(external_id="W-3"), 10, None).items[0].id == "O3"
        assert uow.orders.page(OrderFilter(location_id="DC9"), 10, None).items == []
        queue = uow.orders.fulfilments("DC1", "released", 10, None)
        assert [f.id for _, f in queue.items] == [f"F-O{n}" for n in range(5)]
        assert uow.orders.count_by_status() == {"allocated": 5}


def test_backorders_come_oldest_first(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.orders.add(an_order("new", "W-new", T0 + timedelta(hours=1), backordered=1))
        uow.orders.add(an_order("old", "W-old", T0, backordered=2))
        uow.orders.add(an_order("none", "W-none", T0 - timedelta(hours=1)))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        waiting = uow.orders.backordered({"A"}, 10)
        assert [order_id for _, order_id in waiting] == ["old", "new"]
        after_old = uow.orders.backordered({"A"}, 10, after=waiting[0])
        assert [order_id for _, order_id in after_old] == ["new"]
        assert uow.orders.backordered({"B"}, 10) == []
        assert uow.orders.backordered_skus_with_stock() == []


def test_outbox_cursor_and_consumer_positions(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.outbox.append([Event("inventory.changed", {"sku": "A", "n": n}) for n in range(3)], T0)
        uow.commit()
    first = []
    deadline = time.monotonic() + 10
    while not first:
        # On PostgreSQL events become readable once every older transaction on the server
        # has ended; another client's long transaction delays them, never loses them.
        with application.ctx.uow() as uow:
            start = uow.outbox.consumer_position("test")
            first = uow.outbox.after(start, 2)
            if first:
                uow.outbox.set_consumer_position("test", first[-1].cursor)
                uow.commit()
        assert time.monotonic() < deadline
    assert [e.data["n"] for e in first] == [0, 1]
    with application.ctx.uow() as uow:
        rest = uow.outbox.after(uow.outbox.consumer_position("test"), 10)
        assert [e.data["n"] for e in rest] == [2]
        assert rest[0].at == T0


def test_decisions_and_idempotency_keys(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.decisions.add(StoredDecision("D1", "O1", T0, {"outcome": "allocated"}))
        uow.idempotency.put("key-1", "fingerprint", "O1", T0)
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        [decision] = uow.decisions.for_order("O1")
        assert decision.explanation == {"outcome": "allocated"}
        assert uow.idempotency.get("key-1") == ("fingerprint", "O1")
        assert uow.idempotency.get("key-2") is None


def test_policy_versions_activation_and_active_set(application: Application) -> None:
    doc = {"name": "web", "selector": {"channels": ["web"]}, "constraints": {"max_shipments": 1}}
    with application.ctx.uow() as uow:
        assert uow.policies.add_version("web", doc, T0, "admin") == 1
        assert uow.policies.add_version("web", {**doc, "priority": 5}, T0, "admin") == 2
        assert uow.policies.active() == []
        uow.policies.set_active("web", 1)
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        record = uow.policies.record("web")
        assert record is not None
        assert (record.latest_version, record.active_version) == (2, 1)
        [active] = uow.policies.active()
        assert (active.id, active.version, active.constraints.max_shipments) == ("web", 1, 1)
        assert [v.version for v in uow.policies.versions("web")] == [1, 2]
        assert uow.policies.versions("web")[1].document["priority"] == 5
        assert [r.id for r in uow.policies.records()] == ["web"]


def test_policy_activation_is_seen_by_another_process(database_url: str) -> None:
    first, second = wire(database_url), wire(database_url)
    try:
        with second.ctx.uow(readonly=True) as uow:
            assert uow.policies.active() == []  # warms the second process's cache
        with first.ctx.uow() as uow:
            uow.policies.add_version("web", {"name": "web"}, T0, None)
            uow.policies.set_active("web", 1)
            uow.commit()
        with second.ctx.uow(readonly=True) as uow:
            assert [p.id for p in uow.policies.active()] == ["web"]
    finally:
        first.close()
        second.close()


def test_consumer_position_only_moves_forward(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.outbox.set_consumer_position("relay", (0, 9))
        uow.outbox.set_consumer_position("relay", (0, 4))  # an older batch finishing late
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        assert uow.outbox.consumer_position("relay") == (0, 9)


def test_product_tag_change_is_seen_by_another_process(database_url: str) -> None:
    first, second = wire(database_url), wire(database_url)
    try:
        with first.ctx.uow() as uow:
            uow.products.put(Product("A", "Aerosol", 0.3, frozenset()))
            uow.commit()
        with second.ctx.uow(readonly=True) as uow:
            assert uow.products.tags(["A", "Z"]) == {"A": frozenset()}  # now cached
        with first.ctx.uow() as uow:
            uow.products.put(Product("A", "Aerosol", 0.3, frozenset({"hazmat"})))
            uow.commit()
        with second.ctx.uow(readonly=True) as uow:
            assert uow.products.tags(["A"]) == {"A": frozenset({"hazmat"})}
    finally:
        first.close()
        second.close()


def test_location_load_adds_up_per_day(application: Application) -> None:
    day = T0.date()
    with application.ctx.uow() as uow:
        uow.load.add("DC1", day, 1, 3)
        uow.load.add("DC1", day, 1, 2)
        uow.load.add("DC1", (T0 + timedelta(days=1)).date(), 1, 1)
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        assert uow.load.today(day, ["DC1", "DC2"]) == {"DC1": (2, 5)}
        assert uow.load.today(day, ["DC2"]) == {}


# --- timers and the exception queue ----------------------------------------------------------


def a_timer(timer_id: str, due: datetime, **kw: Any) -> Timer:
    return Timer(timer_id, kw.pop("kind", "reallocate"), due, **kw)


def test_timers_are_claimed_in_due_order_and_done_once(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.timers.add(a_timer("late", T0 + timedelta(hours=2), order_id="O1"))
        uow.timers.add(a_timer("soon", T0 + timedelta(hours=1), order_id="O1", data={"n": 1}))
        uow.timers.add(a_timer("f", T0 + timedelta(hours=1, minutes=1), fulfilment_id="F1"))
        uow.commit()
    with application.ctx.uow() as uow:
        assert uow.timers.claim_due(T0) is None
        assert uow.timers.next_due() == T0 + timedelta(hours=1)
        claimed = uow.timers.claim_due(T0 + timedelta(hours=3))
        assert claimed == a_timer("soon", T0 + timedelta(hours=1), order_id="O1", data={"n": 1})
        uow.timers.done("soon")
        uow.timers.cancel("F1")
        uow.commit()
    with application.ctx.uow() as uow:
        assert [t.id for t in uow.timers.pending("O1")] == ["late"]
        uow.timers.postpone("late", T0 + timedelta(days=1), "boom")
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        [late] = uow.timers.pending("O1")
        assert (late.due_at, late.attempts) == (T0 + timedelta(days=1), 1)


def test_timers_of_a_kind_are_claimed_due_or_not_earliest_first(
    application: Application,
) -> None:
    with application.ctx.uow() as uow:
        uow.timers.add(replace(a_timer("b2", T0 + timedelta(hours=2)), kind="batch_sourcing"))
        uow.timers.add(replace(a_timer("b1", T0 + timedelta(hours=1)), kind="batch_sourcing"))
        uow.timers.add(a_timer("other", T0))
        uow.commit()
    with application.ctx.uow() as uow:
        assert [t.id for t in uow.timers.claim_kind("batch_sourcing", 10)] == ["b1", "b2"]
        assert [t.id for t in uow.timers.claim_kind("batch_sourcing", 1)] == ["b1"]
        assert uow.timers.claim_kind("nothing", 10) == []


def test_a_rolled_back_claim_leaves_the_timer_for_the_next_worker(
    application: Application,
) -> None:
    with application.ctx.uow() as uow:
        uow.timers.add(a_timer("t1", T0))
        uow.commit()
    with application.ctx.uow() as uow:
        assert uow.timers.claim_due(T0) is not None
        uow.timers.done("t1")  # the work fails before commit: nothing happened
    with application.ctx.uow() as uow:
        claimed = uow.timers.claim_due(T0)
        assert claimed is not None
        assert claimed.id == "t1"


@pytest.mark.postgres
def test_concurrent_workers_claim_different_timers(postgres_url: str) -> None:
    """FOR UPDATE SKIP LOCKED: a worker never waits for, nor takes, a claimed timer."""
    app = wire(postgres_url)
    try:
        with app.ctx.uow() as uow:
            for n in range(3):
                uow.timers.add(a_timer(f"t{n}", T0 + timedelta(seconds=n)))
            uow.commit()
        with app.ctx.uow() as first, app.ctx.uow() as second:
            a = first.timers.claim_due(T0 + timedelta(minutes=1))
            b = second.timers.claim_due(T0 + timedelta(minutes=1))
            assert a is not None
            assert b is not None
            assert (a.id, b.id) == ("t0", "t1")
    finally:
        app.close()


def a_case(case_id: str, order_id: str, reason: str = "no_location_can_serve") -> ExceptionCase:
    case = ExceptionCase(case_id, order_id, "web", reason, T0, T0, locations=["DC1"])
    case.note("opened", T0, "system", reason=reason)
    return case


def test_exception_cases_round_trip_filter_and_page(application: Application) -> None:
    with application.ctx.uow() as uow:
        for n in range(3):
            uow.exceptions.add(a_case(f"X{n}", f"O{n}", "damaged" if n == 1 else "other"))
        uow.commit()
    with application.ctx.uow() as uow:
        case = uow.exceptions.get("X1")
        assert case == a_case("X1", "O1", "damaged")
        case.status = CaseStatus.RESOLVED
        case.resolution = "rerouted"
        case.resolved_at = T0 + timedelta(hours=1)
        case.note("resolved", T0 + timedelta(hours=1), "ops", resolution="rerouted")
        uow.exceptions.save(case)
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        stored = uow.exceptions.get("X1")
        assert stored is not None
        assert (stored.status, stored.resolution, len(stored.history)) == (
            CaseStatus.RESOLVED,
            "rerouted",
            2,
        )
        first = uow.exceptions.page(ExceptionFilter(status="open"), 1, None)
        assert [c.id for c in first.items] == ["X0"]
        rest = uow.exceptions.page(ExceptionFilter(status="open"), 1, first.next_cursor)
        assert ([c.id for c in rest.items], rest.next_cursor) == (["X2"], None)
        assert [
            c.id for c in uow.exceptions.page(ExceptionFilter(order_id="O1"), 9, None).items
        ] == ["X1"]
        assert (
            uow.exceptions.page(ExceptionFilter(reason="damaged", status="open"), 9, None).items
            == []
        )
        with pytest.raises(ConcurrentUpdate):
            uow.exceptions.save(a_case("nope", "O9"))


def test_work_at_a_location_newest_first(application: Application) -> None:
    with application.ctx.uow() as uow:
        for n in range(3):
            uow.orders.add(an_order(f"O{n}", f"W-{n}", T0 + timedelta(minutes=n)))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        assert uow.orders.work_at("DC1", {"released"}) == [
            ("F-O2", "O2"),
            ("F-O1", "O1"),
            ("F-O0", "O0"),
        ]
        assert uow.orders.work_at("DC1", {"accepted"}) == []
        assert uow.orders.work_at("DC9", {"released"}) == []


def test_ledger_keeps_why(application: Application) -> None:
    entry = LedgerEntry("DC1", "A", T0, -2, 0, 0, 0, "stock_correction", "F1", "u", {"why": "x"})
    with application.ctx.uow() as uow:
        uow.inventory.record([entry])
        uow.commit()
    with application.engine.connect() as conn:
        assert conn.execute(select(t.ledger.c.details)).scalar() == {"why": "x"}
