"""Many concurrent writers: reservations never oversell, duplicates never double-reserve."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Event, Thread

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout
from tests.integration.conftest import table_positions

from ordergrid.adapters.db.uow import _translate
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.domain.errors import Unavailable
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.network import Address
from ordergrid.service.commands import (
    AdjustInventory,
    AdjustmentInput,
    ApplySnapshot,
    LineInput,
    PlaceOrder,
    ProductInput,
    PutLocation,
    PutProducts,
)
from ordergrid.service.ports import LedgerEntry, OrderFilter
from ordergrid.settings import Settings

THREADS = 16


def test_concurrent_reservations_never_oversell(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.inventory.move(Movement("DC1", "A", 20, 0, MovementReason.RECEIPT))
        uow.commit()

    def reserve_ten(_: int) -> int:
        won = 0
        for _ in range(10):
            with application.ctx.uow() as uow:
                if uow.inventory.reserve("DC1", "A", 1) is not None:
                    won += 1
                uow.commit()
        return won

    with ThreadPoolExecutor(THREADS) as pool:
        wins = sum(pool.map(reserve_ten, range(THREADS)))
    assert wins == 20
    with application.ctx.uow(readonly=True) as uow:
        position = uow.inventory.position("DC1", "A")
        assert position is not None
        assert (position.reserved, position.available) == (20, 0)


def seed_hot_network(app: Application, units_per_location: int) -> None:
    for loc_id, lat, lon in (("DC-E", 40.0, -75.0), ("DC-W", 37.0, -120.0), ("DC-C", 41.8, -87.6)):
        app.bus.handle(
            PutLocation(loc_id, loc_id, "dc", Address(lat=lat, lon=lon), frozenset({"ship"}))
        )
    app.bus.handle(PutProducts((ProductInput("HOT", "Hot item"), ProductInput("COLD", "Other"))))
    app.bus.handle(
        AdjustInventory(
            tuple(
                AdjustmentInput(f"seed-{loc}-{sku}", loc, sku, units_per_location, "receipt")
                for loc in ("DC-E", "DC-W", "DC-C")
                for sku in ("HOT", "COLD")
            )
        )
    )


def place(app: Application, n: int, lines: tuple[LineInput, ...]) -> None:
    app.bus.handle(
        PlaceOrder(
            external_id=f"W-{n}",
            channel="web",
            method="ship",
            lines=lines,
            address=Address(lat=39.0 + n % 5, lon=-90.0 - n % 7, country="US"),
        )
    )


def all_orders(app: Application) -> list:
    out, cursor = [], None
    while True:
        with app.ctx.uow(readonly=True) as uow:
            page = uow.orders.page(OrderFilter(), 200, cursor)
        out += page.items
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def test_concurrent_orders_allocate_exactly_the_stock(application: Application) -> None:
    seed_hot_network(application, units_per_location=5)  # 15 hot units in all

    def place_some(worker: int) -> None:
        for k in range(4):
            n = worker * 10 + k
            place(application, n, (LineInput("1", "HOT", 1 + n % 2), LineInput("2", "COLD", 1)))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(place_some, range(THREADS)))

    orders = all_orders(application)
    assert len(orders) == THREADS * 4
    held: dict[tuple[str, str], int] = {}
    for order in orders:
        for line in order.lines:
            c = order.counts(line)
            assert c.allocated + c.backordered + c.shipped + c.cancelled == line.quantity
        for f in order.fulfilments:
            for fl in f.lines:
                key = (f.location_id, fl.sku)
                held[key] = held.get(key, 0) + fl.quantity * f.is_open
    positions = table_positions(application, ["HOT", "COLD"])
    for p in positions:
        assert p.reserved == held.get((p.location_id, p.sku), 0)
        assert p.available >= 0
    assert sum(p.reserved for p in positions if p.sku == "HOT") == 15


def test_concurrent_duplicates_create_one_order(application: Application) -> None:
    seed_hot_network(application, units_per_location=50)

    def same_order(_: int) -> str:
        order, _created = application.bus.handle(
            PlaceOrder(
                external_id="W-SAME",
                channel="web",
                method="ship",
                lines=(LineInput("1", "HOT", 2),),
                address=Address(lat=40.0, lon=-75.0),
            )
        )
        return str(order.id)

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(same_order, range(8)))
    assert len(ids) == 1
    assert sum(p.reserved for p in table_positions(application, ["HOT"])) == 2


def test_snapshot_never_overwrites_a_shipment_committing_meanwhile(
    application: Application,
) -> None:
    seed_hot_network(application, units_per_location=10)
    counted_at = datetime.now(UTC)  # 10 counted after the seed; then 3 ship
    shipping = application.ctx.uow()
    shipping.__enter__()
    shipped = shipping.inventory.move(
        Movement("DC-E", "HOT", -3, 0, MovementReason.SHIPMENT), clamp=True
    )
    assert shipped is not None
    shipping.inventory.record(
        [
            LedgerEntry(
                "DC-E",
                "HOT",
                counted_at + timedelta(seconds=1),
                -3,
                0,
                shipped.on_hand,
                0,
                "shipment",
            )
        ]
    )
    results: list[object] = []
    snapshot = Thread(
        target=lambda: results.append(
            application.bus.handle(ApplySnapshot("DC-E", counted_at, (("HOT", 10),)))
        )
    )
    snapshot.start()
    snapshot.join(timeout=0.5)  # the count waits for the shipment's transaction
    shipping.commit()
    shipping.__exit__(None, None, None)
    snapshot.join(timeout=20)
    assert results, "the snapshot did not finish"
    with application.ctx.uow(readonly=True) as uow:
        position = uow.inventory.position("DC-E", "HOT")
    assert position is not None
    assert position.on_hand == 7  # the count of 10 plus the shipment of -3 after it


@pytest.mark.postgres
def test_a_receipt_at_a_position_created_by_a_writer_committing_meanwhile_is_added(
    postgres_url: str,
) -> None:
    """PostgreSQL: the update does not see a row inserted by a transaction still open when
    it runs; that transaction commits before the look that follows. The receipt is added
    to the row, not refused as if on-hand would go negative."""
    app = bootstrap(Settings(database_url=postgres_url, auto_migrate=True))
    creating = app.ctx.uow()
    creating.__enter__()
    try:
        assert creating.inventory.move(Movement("DC1", "A", 2, 0, MovementReason.RECEIPT))
        with app.ctx.uow() as adding:
            look = adding.inventory.position

            def commit_creator_then_look(location_id: str, sku: str) -> object:
                creating.commit()
                return look(location_id, sku)

            adding.inventory.position = commit_creator_then_look  # type: ignore[method-assign,assignment]
            moved = adding.inventory.move(Movement("DC1", "A", 3, 0, MovementReason.RECEIPT))
            adding.commit()
        assert moved is not None
        assert moved.on_hand == 5
        assert [p.on_hand for p in table_positions(app, ["A"])] == [5]
    finally:
        creating.__exit__(None, None, None)
        app.close()


def test_an_exhausted_connection_pool_is_a_retryable_503() -> None:
    translated = _translate(PoolTimeout("QueuePool limit reached"))
    assert isinstance(translated, Unavailable)
    assert translated.code == "database_busy"


def test_a_sqlite_writer_kept_waiting_too_long_is_a_retryable_503(sqlite_url: str) -> None:
    app = bootstrap(
        Settings(database_url=sqlite_url, auto_migrate=True, db_pool_timeout_seconds=0.1)
    )
    holding, done = Event(), Event()

    def long_write() -> None:
        with app.ctx.uow():
            holding.set()
            done.wait(10)

    writer = Thread(target=long_write)
    writer.start()
    try:
        assert holding.wait(10)
        with pytest.raises(Unavailable) as refused, app.ctx.uow():
            pass
        assert refused.value.code == "database_busy"
        with app.ctx.uow(readonly=True) as uow:  # readers never wait for the write turn
            assert uow.orders.get("none") is None
    finally:
        done.set()
        writer.join(10)
    with app.ctx.uow():  # the turn is free again, and nobody is left in the queue
        pass
    app.close()
