"""Bulk snapshot imports among concurrent writers: nothing lost, nothing oversold, and on
PostgreSQL no deadlock (rows are locked in the order every writer takes them)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Thread

from sqlalchemy import text
from tests.integration.conftest import table_positions
from tests.integration.test_concurrency import all_orders, place, seed_hot_network

from ordergrid.bootstrap import Application
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.stock_counts import CountRow, SnapshotMode
from ordergrid.service.commands import LineInput
from ordergrid.service.ports import LedgerEntry
from ordergrid.service.snapshot_import import ImportResult, ImportSnapshot

HOT_NETWORK = [(loc, sku) for loc in ("DC-C", "DC-E", "DC-W") for sku in ("COLD", "HOT")]


def count_everything(app: Application, on_hand: int, mode: SnapshotMode) -> ImportResult:
    as_of = datetime.now(UTC)
    # Rows in reverse order: the import must still lock in (location, SKU) order.
    rows = [
        CountRow(n, loc, sku, on_hand, as_of)
        for n, (loc, sku) in enumerate(reversed(HOT_NETWORK), start=1)
    ]
    result: ImportResult = app.bus.handle(ImportSnapshot(lambda: [rows], mode))
    return result


def deadlocks(app: Application) -> int:
    if app.engine.dialect.name != "postgresql":
        return 0
    with app.engine.connect() as conn:
        query = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        return int(conn.execute(text(query)).scalar() or 0)


def test_imports_among_orders_keep_reservations_and_never_deadlock(
    application: Application,
) -> None:
    seed_hot_network(application, units_per_location=40)
    before = deadlocks(application)

    def place_some(worker: int) -> None:
        for k in range(5):
            n = worker * 10 + k
            place(application, n, (LineInput("1", "HOT", 1), LineInput("2", "COLD", 1)))

    def recount(round_: int) -> ImportResult:
        mode = SnapshotMode.FULL if round_ % 2 else SnapshotMode.PARTIAL
        return count_everything(application, 40, mode)

    with ThreadPoolExecutor(10) as pool:
        orders = [pool.submit(place_some, w) for w in range(8)]
        imports = [pool.submit(recount, r) for r in range(6)]
        results = [f.result() for f in imports]
        for f in orders:
            f.result()

    # A count taken earlier than one that committed first is stale: it changes nothing.
    assert all(r.totals.applied + r.totals.stale == len(HOT_NETWORK) for r in results)
    held: dict[tuple[str, str], int] = {}
    for order in all_orders(application):
        for f in order.fulfilments:
            for fl in f.lines:
                key = (f.location_id, fl.sku)
                held[key] = held.get(key, 0) + fl.quantity * f.is_open
    positions = table_positions(application, ["HOT", "COLD"])
    for p in positions:
        assert p.on_hand == 40  # the last count; reservations are not physical movements
        assert p.reserved == held.get((p.location_id, p.sku), 0)
    assert deadlocks(application) == before


def test_an_import_never_overwrites_a_shipment_committing_meanwhile(
    application: Application,
) -> None:
    seed_hot_network(application, units_per_location=10)
    counted_at = datetime.now(UTC)
    shipping = application.ctx.uow()
    shipping.__enter__()
    shipped = shipping.inventory.move(
        Movement("DC-E", "HOT", -3, 0, MovementReason.SHIPMENT), clamp=True
    )
    assert shipped is not None
    after_count = counted_at + timedelta(seconds=1)
    shipping.inventory.record(
        [LedgerEntry("DC-E", "HOT", after_count, -3, 0, shipped.on_hand, 0, "shipment")]
    )
    results: list[ImportResult] = []
    rows = [CountRow(1, "DC-E", "HOT", 10, counted_at), CountRow(2, "DC-E", "COLD", 4, counted_at)]
    importer = Thread(
        target=lambda: results.append(application.bus.handle(ImportSnapshot(lambda: [rows])))
    )
    importer.start()
    importer.join(timeout=0.5)  # the import waits for the shipment's transaction
    shipping.commit()
    shipping.__exit__(None, None, None)
    importer.join(timeout=20)
    assert results, "the import did not finish"
    with application.ctx.uow(readonly=True) as uow:
        hot = uow.inventory.position("DC-E", "HOT")
        cold = uow.inventory.position("DC-E", "COLD")
    assert hot is not None
    assert cold is not None
    assert (hot.on_hand, cold.on_hand) == (7, 4)  # the count of 10 and the -3 shipped after


def test_an_import_waits_in_lock_order_instead_of_deadlocking(application: Application) -> None:
    seed_hot_network(application, units_per_location=10)
    first, last = HOT_NETWORK[0], HOT_NETWORK[-1]
    receipt = MovementReason.RECEIPT
    with application.ctx.uow() as uow:
        # Rewriting the first position moves its row behind the others on PostgreSQL, so
        # an import that locked rows as it found them would take the last one first.
        uow.inventory.move(Movement(*first, 1, 0, receipt))
        uow.commit()
    writer = application.ctx.uow()
    writer.__enter__()
    writer.inventory.move(Movement(*first, 1, 0, receipt))  # holds the first position
    results: list[ImportResult] = []
    importer = Thread(
        target=lambda: results.append(count_everything(application, 20, SnapshotMode.PARTIAL))
    )
    importer.start()
    importer.join(timeout=0.5)  # the import now waits for the first position
    assert not results
    # In (location, SKU) order the writer takes the last position next: the import must
    # not be holding it.
    writer.inventory.move(Movement(*last, 1, 0, receipt))
    writer.commit()
    writer.__exit__(None, None, None)
    importer.join(timeout=20)
    assert results, "the import did not finish"
    assert results[0].totals.applied == len(HOT_NETWORK)
    assert deadlocks(application) == 0
