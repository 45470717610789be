"""The in-memory unit of work keeps the contract the SQL adapter keeps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from ordergrid.adapters.memory import (
    FixedClock,
    InMemoryStore,
    InMemoryUnitOfWork,
    SequentialIds,
    StaticGeocoder,
)
from ordergrid.domain.events import Event
from ordergrid.domain.fulfilments import Fulfilment, FulfilmentLine, FulfilmentStatus
from ordergrid.domain.inventory import Movement, MovementReason, Position
from ordergrid.domain.network import Address, Location, LocationType
from ordergrid.domain.orders import Delivery, DeliveryMethod, Order, OrderLine
from ordergrid.service.ports import (
    ApiToken,
    ConcurrentUpdate,
    LedgerEntry,
    OrderFilter,
    Role,
    StoredDecision,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _order(
    order_id: str,
    external_id: str,
    *,
    backordered: int = 0,
    at: datetime = T0,
    location: str | None = None,
    channel: str = "web",
) -> Order:
    o = Order(
        order_id,
        external_id,
        channel,
        Delivery(DeliveryMethod.SHIP),
        [OrderLine("1", "A", 2, backordered=backordered)],
        at,
        at,
    )
    if location:
        o.fulfilments.append(
            Fulfilment(
                f"F{order_id}",
                order_id,
                location,
                FulfilmentStatus.RELEASED,
                [FulfilmentLine("1", "A", 2)],
                at,
                at,
            )
        )
    o.record("order.received")
    return o


def test_changes_are_invisible_until_commit_and_rolled_back_without_it() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        uow.inventory.move(Movement("L", "A", 5, 0, MovementReason.RECEIPT))
        assert uow.inventory.position("L", "A") == Position("L", "A", 5)
        assert store.tables.positions == {}
    with InMemoryUnitOfWork(store) as uow:
        assert uow.inventory.position("L", "A") is None
        uow.inventory.move(Movement("L", "A", 5, 0, MovementReason.RECEIPT))
        uow.commit()
        uow.inventory.move(Movement("L", "A", 1, 0, MovementReason.RECEIPT))
        uow.rollback()
        assert uow.inventory.position("L", "A") == Position("L", "A", 5)
    with InMemoryUnitOfWork(store) as uow:
        assert uow.inventory.position("L", "A") == Position("L", "A", 5)


def test_exception_in_the_block_rolls_back() -> None:
    store = InMemoryStore()

    def fail_after_adding() -> None:
        with InMemoryUnitOfWork(store) as uow:
            uow.orders.add(_order("1", "E1"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_adding()
    with InMemoryUnitOfWork(store) as uow:
        assert uow.orders.get("1") is None
        assert uow.outbox.after((0, 0), 10) == []


def test_repositories_need_an_open_transaction() -> None:
    uow = InMemoryUnitOfWork(InMemoryStore())
    with pytest.raises(RuntimeError):
        uow.orders.get("1")


def test_nested_commit_makes_the_outer_commit_a_concurrent_update() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as outer:
        outer.inventory.move(Movement("L", "A", 5, 0, MovementReason.RECEIPT))
        with InMemoryUnitOfWork(store) as inner:
            inner.inventory.move(Movement("L", "A", 7, 0, MovementReason.RECEIPT))
            inner.commit()
        with pytest.raises(ConcurrentUpdate):
            outer.commit()
    with InMemoryUnitOfWork(store) as uow:
        assert uow.inventory.position("L", "A") == Position("L", "A", 7)


def test_concurrent_reservations_never_oversell() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        uow.inventory.move(Movement("L", "A", 50, 0, MovementReason.RECEIPT))
        uow.commit()
    won: list[int] = []

    def client() -> None:
        for _ in range(20):
            with InMemoryUnitOfWork(store) as uow:
                if uow.inventory.reserve("L", "A", 1) is not None:
                    uow.commit()
                    won.append(1)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 50
    with InMemoryUnitOfWork(store) as uow:
        assert uow.inventory.position("L", "A") == Position("L", "A", 50, 50)


def test_reserve_respects_safety_stock_and_missing_positions() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        assert uow.inventory.reserve("L", "A", 1) is None
        uow.inventory.move(Movement("L", "A", 3, 0, MovementReason.RECEIPT))
        uow.tables.positions[("L", "A")] = Position("L", "A", 3, 0, safety_stock=1)
        assert uow.inventory.reserve("L", "A", 3) is None
        assert uow.inventory.reserve("L", "A", 2) == Position("L", "A", 3, 2, 1)
        assert uow.inventory.reserve("L", "A", 1) is None


def test_move_refuses_or_clamps_negative_on_hand() -> None:
    with InMemoryUnitOfWork(InMemoryStore()) as uow:
        assert uow.inventory.move(Movement("L", "A", -1, 0, MovementReason.WRITE_OFF)) is None
        assert uow.inventory.position("L", "A") is None
        uow.inventory.move(Movement("L", "A", 2, 0, MovementReason.RECEIPT))
        assert uow.inventory.move(Movement("L", "A", -3, 0, MovementReason.WRITE_OFF)) is None
        assert uow.inventory.position("L", "A") == Position("L", "A", 2)
        clamped = uow.inventory.move(Movement("L", "A", -3, 0, MovementReason.SHIPMENT), True)
        assert clamped == Position("L", "A", 0)
        created = uow.inventory.move(Movement("L", "B", -1, 0, MovementReason.SHIPMENT), True)
        assert created == Position("L", "B", 0)


def test_set_on_hand_and_physical_movements_since() -> None:
    with InMemoryUnitOfWork(InMemoryStore()) as uow:
        p = uow.inventory.set_on_hand("L", "A", 4, T0)
        assert p == Position("L", "A", 4, snapshot_as_of=T0)

        def entry(at: datetime, delta: int, reason: str, sku: str = "A") -> LedgerEntry:
            return LedgerEntry("L", sku, at, delta, 0, 0, 0, reason)

        uow.inventory.record(
            [
                entry(T0, 5, "receipt"),  # not after
                entry(T0 + timedelta(seconds=1), -2, "shipment"),
                entry(T0 + timedelta(seconds=2), 3, "receipt"),
                entry(T0 + timedelta(seconds=3), 9, "snapshot"),  # not physical
                entry(T0 + timedelta(seconds=3), 0, "reservation"),
                entry(T0 + timedelta(seconds=4), 7, "receipt", sku="B"),
            ]
        )
        assert uow.inventory.physical_since("L", "A", T0) == 1
        assert uow.inventory.physical_since("L", "A", T0 + timedelta(seconds=1)) == 3


def test_adjustments_are_claimed_once_by_id() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        assert uow.inventory.claim_adjustment("a1", T0)
        assert not uow.inventory.claim_adjustment("a1", T0)
    with InMemoryUnitOfWork(store) as uow:
        assert uow.inventory.claim_adjustment("a1", T0)  # the first claim was rolled back
        uow.commit()
    with InMemoryUnitOfWork(store) as uow:
        assert not uow.inventory.claim_adjustment("a1", T0)


def test_readonly_unit_of_work_never_blocks_and_cannot_commit() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as writer:
        writer.inventory.move(Movement("L", "A", 5, 0, MovementReason.RECEIPT))
        seen: list[Position | None] = []

        def read() -> None:  # another thread: would deadlock if readers took the lock
            with InMemoryUnitOfWork(store, readonly=True) as reader:
                seen.append(reader.inventory.position("L", "A"))

        t = threading.Thread(target=read)
        t.start()
        t.join(timeout=5)
        assert seen == [None]  # the writer has not committed
        writer.commit()
    with InMemoryUnitOfWork(store, readonly=True) as reader:
        assert reader.inventory.position("L", "A") == Position("L", "A", 5)
        with pytest.raises(RuntimeError, match="read-only"):
            reader.commit()


def test_orders_are_copies_with_optimistic_versions() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        o = _order("1", "E1")
        uow.orders.add(o)
        assert (o.version, o.events) == (1, [])
        o.customer["changed"] = True  # the caller's object is not the stored one
        got = uow.orders.get("1")
        assert got is not None
        assert got.customer == {}
        assert got.version == 1
        stale = uow.orders.get("1")
        assert stale is not None
        got.record("order.touched")
        uow.orders.save(got)
        assert got.version == 2
        with pytest.raises(ConcurrentUpdate):
            uow.orders.save(stale)
        with pytest.raises(ConcurrentUpdate):
            uow.orders.add(_order("2", "E1"))
        uow.commit()
    with InMemoryUnitOfWork(store) as uow:
        by_ext = uow.orders.by_external_id("web", "E1")
        assert by_ext is not None
        assert by_ext.id == "1"
        assert by_ext.version == 2
        assert uow.orders.by_external_id("app", "E1") is None
        events = uow.outbox.for_order("1")
        assert [(e.position, e.type) for e in events] == [
            (1, "order.received"),
            (2, "order.touched"),
        ]


def test_order_pages_filters_and_fulfilment_index() -> None:
    with InMemoryUnitOfWork(InMemoryStore()) as uow:
        for i in range(1, 6):
            uow.orders.add(
                _order(
                    f"{i:03d}",
                    f"E{i}",
                    location="L1" if i % 2 else "L2",
                    channel="web" if i < 4 else "app",
                )
            )
        first = uow.orders.page(OrderFilter(), 2, None)
        assert [o.id for o in first.items] == ["001", "002"]
        assert first.next_cursor == "002"
        rest = uow.orders.page(OrderFilter(), 10, first.next_cursor)
        assert [o.id for o in rest.items] == ["003", "004", "005"]
        assert rest.next_cursor is None
        at_l1 = uow.orders.page(OrderFilter(location_id="L1", channel="web"), 10, None)
        assert [o.id for o in at_l1.items] == ["001", "003"]
        assert [o.id for o in uow.orders.page(OrderFilter(external_id="E4"), 10, None).items] == [
            "004"
        ]
        assert uow.orders.page(OrderFilter(status="shipped"), 10, None).items == []
        assert uow.orders.order_id_of_fulfilment("F004") == "004"
        assert uow.orders.order_id_of_fulfilment("nope") is None
        work = uow.orders.fulfilments("L1", "released", 2, None)
        assert [(o.id, f.id) for o, f in work.items] == [("001", "F001"), ("003", "F003")]
        assert work.next_cursor == "F003"
        tail = uow.orders.fulfilments("L1", None, 2, work.next_cursor)
        assert [f.id for _, f in tail.items] == ["F005"]
        assert tail.next_cursor is None
        order, f = tail.items[0]
        assert order.fulfilment(f.id) is f  # the fulfilment is the one inside its order
        assert uow.orders.count_by_status() == {"received": 5}


def test_backordered_orders_oldest_first() -> None:
    with InMemoryUnitOfWork(InMemoryStore()) as uow:
        uow.orders.add(_order("9", "E9", backordered=1, at=T0))
        uow.orders.add(_order("1", "E1", backordered=1, at=T0 + timedelta(hours=1)))
        uow.orders.add(_order("5", "E5", backordered=0, at=T0))
        uow.orders.add(_order("3", "E3", backordered=2, at=T0 + timedelta(hours=1)))
        ids = [order_id for _, order_id in uow.orders.backordered({"A"}, 10)]
        assert ids == ["9", "1", "3"]
        first = uow.orders.backordered({"A"}, 2)
        assert [order_id for _, order_id in first] == ["9", "1"]
        rest = uow.orders.backordered({"A"}, 10, after=first[-1])
        assert [order_id for _, order_id in rest] == ["3"]
        assert uow.orders.backordered({"B"}, 10) == []


def test_outbox_positions_cursors_and_consumers() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        uow.outbox.append([Event("a", {"n": 1}, order_id="o1"), Event("b")], T0)
        uow.outbox.append([Event("c", order_id="o1")], T0)
        uow.commit()
    with InMemoryUnitOfWork(store) as uow:
        assert uow.outbox.consumer_position("relay") == (0, 0)
        every = uow.outbox.after((0, 0), 10)
        assert [(e.position, e.type) for e in every] == [(1, "a"), (2, "b"), (3, "c")]
        assert len({e.id for e in every}) == 3
        assert [e.type for e in uow.outbox.after(every[0].cursor, 1)] == ["b"]
        assert [e.type for e in uow.outbox.for_order("o1")] == ["a", "c"]
        every[0].data["n"] = 99  # a copy
        uow.outbox.set_consumer_position("relay", every[1].cursor)
        uow.commit()
    with InMemoryUnitOfWork(store) as uow:
        assert uow.outbox.consumer_position("relay") == (0, 2)
        assert uow.outbox.after((0, 0), 1)[0].data == {"n": 1}


def test_idempotency_keys_and_tokens() -> None:
    with InMemoryUnitOfWork(InMemoryStore()) as uow:
        assert uow.idempotency.get("k") is None
        uow.idempotency.put("k", "fp", "o1", T0)
        assert uow.idempotency.get("k") == ("fp", "o1")
        token = ApiToken("t1", "ci", Role.ADMIN, "h1", T0)
        uow.tokens.add(token)
        assert uow.tokens.by_hash("h1") == token
        assert uow.tokens.by_hash("h2") is None
        assert uow.tokens.all() == [token]
        uow.decisions.add(StoredDecision("d2", "o1", T0 + timedelta(1), {"x": 2}))
        uow.decisions.add(StoredDecision("d1", "o1", T0, {"x": 1}))
        assert [d.id for d in uow.decisions.for_order("o1")] == ["d1", "d2"]


def test_clock_ids_and_geocoder() -> None:
    clock = FixedClock(T0)
    assert clock.now() == T0
    assert clock.now().tzinfo is not None
    assert clock.advance(seconds=90) == T0 + timedelta(seconds=90)
    clock.set(T0)
    assert clock.now() == T0
    with pytest.raises(ValueError, match="timezone"):
        clock.set(datetime(2026, 1, 1))
    ids = SequentialIds()
    assert [ids.new_id(), ids.new_id()] == ["000000000001", "000000000002"]
    geo = StaticGeocoder({("US", "10001"): (40.75, -73.99), ("", "75001"): (48.86, 2.34)})
    assert geo.locate("us", "10001") == (40.75, -73.99)
    assert geo.locate("FR", "75001") == (48.86, 2.34)
    assert geo.locate("US", "99999") is None
    assert geo.locate("US", None) is None


def _location(location_id: str) -> Location:
    return Location(
        location_id, location_id, LocationType.DC, Address(lat=40, lon=-74), frozenset()
    )


def test_locations_by_id_are_in_id_order_and_never_change_once_handed_out() -> None:
    store = InMemoryStore()
    with InMemoryUnitOfWork(store) as uow:
        uow.locations.put(_location("DC2"))
        uow.locations.put(_location("DC1"))
        seen = uow.locations.by_id()
        uow.locations.put(_location("DC3"))
        assert list(seen) == ["DC1", "DC2"]
        assert list(uow.locations.by_id()) == ["DC1", "DC2", "DC3"]
