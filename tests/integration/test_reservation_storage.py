"""The cart reservation repository contract, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.conftest import wire

from ordergrid.adapters.memory import InMemoryStore, unit_of_work_factory
from ordergrid.domain.reservations import Hold, Reservation, ReservationLine
from ordergrid.service.context import UnitOfWorkFactory
from ordergrid.service.ports import ConcurrentUpdate, ReservationFilter, StoredEvent

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield unit_of_work_factory(InMemoryStore())
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    app = wire(url)
    yield app.ctx.uow
    app.close()


def a_cart(
    reservation_id: str = "R1",
    channel: str = "web",
    external_id: str | None = "cart-1",
    key: str | None = None,
) -> Reservation:
    return Reservation(
        id=reservation_id,
        channel=channel,
        lines=[
            ReservationLine("A", 3, (Hold("DC1", 2), Hold("S1", 1))),
            ReservationLine("B", 1, (Hold("DC1", 1),)),
        ],
        created_at=T0,
        updated_at=T0,
        expires_at=T0 + timedelta(minutes=15),
        expires_at_limit=T0 + timedelta(hours=24),
        external_id=external_id,
        idempotency_key=key,
        fingerprint="f1",
        destination={"postal_code": "10001", "country": "US", "lat": 40.75, "lon": -73.99},
        timer_id="T1",
    )


def committed_events(uow: UnitOfWorkFactory) -> list[StoredEvent]:
    """The outbox once readable: PostgreSQL shows an event when every transaction older
    than it has ended, which on a shared server can take a moment."""
    deadline = time.monotonic() + 10
    while True:
        with uow(readonly=True) as u:
            found = u.outbox.after((0, 0), 100)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def add_committed(uow: UnitOfWorkFactory, reservation: Reservation) -> None:
    """A driver's unique violation becomes ConcurrentUpdate when the transaction ends."""
    with uow() as u:
        u.reservations.add(reservation)
        u.commit()


def test_a_reservation_round_trips_with_its_holds(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        cart = a_cart(key="idem-1")
        cart.record("reservation.created", "admin", channel="web")
        u.reservations.add(cart)
        u.commit()
    with uow() as u:
        found = u.reservations.get("R1")
        assert found is not None
        assert replace(found, version=0) == replace(a_cart(key="idem-1"), version=0)
        assert found.version == 1
        assert u.reservations.by_external_id("web", "cart-1") == found
        assert u.reservations.by_external_id("app", "cart-1") is None
        assert u.reservations.by_idempotency_key("idem-1") == found
        assert u.reservations.get("R2") is None
    created = committed_events(uow)
    assert [(e.type, e.data, e.order_id) for e in created] == [
        ("reservation.created", {"reservation_id": "R1", "channel": "web"}, None)
    ]


def test_status_changes_are_saved_with_their_events(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.reservations.add(a_cart())
        u.commit()
    with uow() as u:
        cart = u.reservations.get("R1")
        assert cart is not None
        freed = cart.convert("O1", T0 + timedelta(minutes=1), "admin")
        cart.timer_id = None
        u.reservations.save(cart)
        u.commit()
    assert [(m.location_id, m.sku, m.reserved_delta) for m in freed] == [
        ("DC1", "A", -2),
        ("DC1", "B", -1),
        ("S1", "A", -1),
    ]
    with uow() as u:
        stored = u.reservations.get("R1")
        assert stored is not None
        assert (stored.status.value, stored.order_id, stored.timer_id) == ("converted", "O1", None)
        assert stored.updated_at == T0 + timedelta(minutes=1)
    assert [e.type for e in committed_events(uow)] == ["reservation.converted"]


def test_saving_a_stale_reservation_is_a_concurrent_update(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.reservations.add(a_cart())
        u.commit()
    with uow() as u:
        first = u.reservations.get("R1")
        second = u.reservations.get("R1")
        assert first is not None
        assert second is not None
        first.release(T0, None)
        u.reservations.save(first)
        second.expire(T0)
        with pytest.raises(ConcurrentUpdate):
            u.reservations.save(second)


@pytest.mark.parametrize(
    "duplicate",
    [
        a_cart("R2", external_id="cart-1"),
        a_cart("R2", external_id=None, key="k1"),
        a_cart("R1", external_id="other"),
    ],
    ids=["same external id", "same idempotency key", "same id"],
)
def test_a_taken_id_or_key_cannot_be_added_twice(
    uow: UnitOfWorkFactory, duplicate: Reservation
) -> None:
    with uow() as u:
        u.reservations.add(a_cart("R1", key="k1"))
        u.commit()
    with pytest.raises(ConcurrentUpdate):
        add_committed(uow, duplicate)


def test_external_ids_are_per_channel_and_optional(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.reservations.add(a_cart("R1", "web", "cart-1"))
        u.reservations.add(a_cart("R2", "app", "cart-1"))
        u.reservations.add(a_cart("R3", "web", None))
        u.reservations.add(a_cart("R4", "web", None))
        u.commit()
    with uow() as u:
        page = u.reservations.page(ReservationFilter(), 10, None)
        assert [r.id for r in page.items] == ["R1", "R2", "R3", "R4"]


def test_pages_filter_by_status_and_channel(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        for i in range(5):
            cart = a_cart(f"R{i}", "app" if i == 4 else "web", None)
            if i % 2:
                cart.release(T0, None)
            u.reservations.add(cart)
        u.commit()
    with uow() as u:
        first = u.reservations.page(ReservationFilter(status="active"), 2, None)
        assert [r.id for r in first.items] == ["R0", "R2"]
        assert first.next_cursor == "R2"
        rest = u.reservations.page(ReservationFilter(status="active"), 2, first.next_cursor)
        assert ([r.id for r in rest.items], rest.next_cursor) == (["R4"], None)
        web = u.reservations.page(ReservationFilter(channel="web", status="released"), 10, None)
        assert [r.id for r in web.items] == ["R1", "R3"]


def test_uncommitted_reservations_are_rolled_back(uow: UnitOfWorkFactory) -> None:
    with uow() as u:
        u.reservations.add(a_cart())
    with uow() as u:
        assert u.reservations.get("R1") is None


def test_carts_holding_a_position_come_newest_first_while_active(
    uow: UnitOfWorkFactory,
) -> None:
    older = a_cart("R1", external_id=None)
    newer = replace(a_cart("R2", external_id=None), created_at=T0 + timedelta(minutes=1))
    other = a_cart("R3", external_id=None)
    other.lines = [ReservationLine("C", 1, (Hold("DC1", 1),))]
    with uow() as u:
        for cart in (older, newer, other):
            u.reservations.add(cart)
        u.commit()
    with uow() as u:
        assert u.reservations.holding("DC1", "A") == ["R2", "R1"]
        assert u.reservations.holding("S1", "A") == ["R2", "R1"]
        assert u.reservations.holding("DC1", "C") == ["R3"]
        assert u.reservations.holding("S1", "C") == []
        ended = u.reservations.get("R2")
        assert ended is not None
        ended.release(T0, None)
        u.reservations.save(ended)
        u.commit()
    with uow() as u:
        assert u.reservations.holding("DC1", "A") == ["R1"]
