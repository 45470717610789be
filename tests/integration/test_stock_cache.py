"""The per-process caches of read-only answers (stock positions, stock rules, channel
settings), on SQLite and on PostgreSQL: what they show is what the tables hold, whoever
changed them and in whatever order the changes committed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.conftest import sqlite_plans, table_positions, wire
from tests.integration.test_storage_contract import a_location

from ordergrid.adapters.db.catalogue_repo import LocationCache
from ordergrid.adapters.db.stock_cache import StockCache
from ordergrid.adapters.db.uow import SqlUnitOfWork
from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import Application
from ordergrid.domain.catalogue import Product
from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.inventory import Movement, MovementReason, Position
from ordergrid.domain.stock_counts import CountRow
from ordergrid.domain.stock_rules import RuleKind, RuleScope, StockRule
from ordergrid.service.commands import AdjustInventory, AdjustmentInput, ApplySnapshot
from ordergrid.service.inventory import adjust, snapshot
from ordergrid.service.snapshot_import import ImportSnapshot, import_snapshot
from ordergrid.service.stock import apply_movements

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def change(app: Application, *movements: Movement) -> None:
    """Movements applied as the service layer applies them: positions and ledger."""
    with app.ctx.uow() as uow:
        apply_movements(uow, list(movements), T0, "test")
        uow.commit()


def receipt(location_id: str, sku: str, units: int) -> Movement:
    return Movement(location_id, sku, units, 0, MovementReason.RECEIPT)


def reservation(location_id: str, sku: str, units: int) -> Movement:
    return Movement(location_id, sku, 0, units, MovementReason.RESERVATION)


def cached(app: Application, *skus: str) -> list[Position]:
    with app.ctx.uow(readonly=True) as uow:
        return sorted(uow.stock_reads.positions(skus), key=_key)


def as_arrays(app: Application, *skus: str) -> list[Position]:
    """The cached positions as the promise reads them: each SKU's arrays."""
    with app.ctx.uow(readonly=True) as uow:
        held = uow.stock_reads.by_sku(skus)
    assert set(held) == set(skus)
    return sorted((p for s in held.values() for p in s.positions().values()), key=_key)


def stored(app: Application, *skus: str) -> list[Position]:
    return sorted(table_positions(app, list(skus)), key=_key)


def _key(p: Position) -> tuple[str, str]:
    return p.location_id, p.sku


def test_cached_positions_follow_reservations_receipts_and_new_locations(
    application: Application,
) -> None:
    change(application, receipt("DC1", "A", 5), receipt("DC1", "B", 2))
    assert cached(application, "A", "B") == stored(application, "A", "B")
    change(application, reservation("DC1", "A", 3))
    change(application, receipt("DC2", "A", 4))
    found = {p.location_id: p for p in cached(application, "A")}
    assert (found["DC1"].on_hand, found["DC1"].reserved) == (5, 3)
    assert found["DC2"].on_hand == 4
    assert cached(application, "A", "B") == stored(application, "A", "B")


def test_feed_adjustments_and_snapshots_are_seen_by_the_next_read(
    application: Application,
) -> None:
    with application.ctx.uow() as uow:
        uow.locations.put(a_location("DC1"))
        uow.products.put(Product("A", "A", 1.0, frozenset(), {}))
        uow.commit()
    adjust(AdjustInventory((AdjustmentInput("adj-1", "DC1", "A", 5, "receipt"),)), application.ctx)
    assert [p.on_hand for p in cached(application, "A")] == [5]
    counted_at = datetime.now(UTC) + timedelta(minutes=1)  # after the receipt
    snapshot(ApplySnapshot("DC1", counted_at, (("A", 9),)), application.ctx)
    assert [p.on_hand for p in cached(application, "A")] == [9]
    assert cached(application, "A") == stored(application, "A")


def test_a_sku_first_read_after_a_count_carries_the_count_time(database_url: str) -> None:
    """The time a position was counted, read whole into a fresh process's cache (as the
    database hands it over in bulk), is the instant stored, in UTC."""
    writer = wire(database_url)
    counted_at = datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC)
    try:
        with writer.ctx.uow() as uow:
            uow.locations.put(a_location("DC1"))
            uow.locations.put(a_location("DC2"))
            uow.products.put(Product("A", "A", 1.0, frozenset(), {}))
            uow.commit()
        change(writer, receipt("DC2", "A", 3))
        snapshot(ApplySnapshot("DC1", counted_at, (("A", 9),)), writer.ctx)
        reader = wire(database_url)
        try:
            found = {p.location_id: p for p in as_arrays(reader, "A")}
            assert found["DC1"].snapshot_as_of == counted_at
            assert found["DC1"].snapshot_as_of.utcoffset() == timedelta(0)
            assert found["DC2"].snapshot_as_of is None
            assert sorted(found.values(), key=_key) == stored(reader, "A")
        finally:
            reader.close()
    finally:
        writer.close()


def test_a_bulk_count_is_seen_by_the_next_read(application: Application) -> None:
    with application.ctx.uow() as uow:
        uow.locations.put(a_location("DC1"))
        uow.products.put(Product("A", "A", 1.0, frozenset(), {}))
        uow.commit()
    adjust(AdjustInventory((AdjustmentInput("adj-1", "DC1", "A", 5, "receipt"),)), application.ctx)
    assert [p.on_hand for p in cached(application, "A")] == [5]
    counted_at = datetime.now(UTC) + timedelta(minutes=1)
    rows = [CountRow(1, "DC1", "A", 11, counted_at)]
    import_snapshot(ImportSnapshot(lambda: [rows]), application.ctx)
    assert [p.on_hand for p in cached(application, "A")] == [11]


def test_a_change_by_another_process_is_seen_at_the_next_read(database_url: str) -> None:
    first, second = wire(database_url), wire(database_url)
    try:
        change(first, receipt("DC1", "A", 5))
        assert [p.available for p in cached(second, "A")] == [5]
        change(first, reservation("DC1", "A", 2), receipt("DC2", "A", 1))
        assert [p.available for p in cached(second, "A")] == [3, 1]
        change(second, reservation("DC1", "A", 3))
        assert [p.available for p in cached(first, "A")] == [0, 1]
    finally:
        first.close()
        second.close()


def test_a_reader_with_an_older_snapshot_leaves_the_cache_current(
    application: Application,
) -> None:
    change(application, receipt("DC1", "A", 5), receipt("DC1", "B", 5))
    assert cached(application, "C") == []  # the cache has a mark
    with application.ctx.uow(readonly=True) as older:
        assert older.stock_reads.positions(["C"]) == []  # its snapshot starts here
        change(application, receipt("DC1", "A", 1), receipt("DC1", "B", 1))
        assert [p.on_hand for p in cached(application, "A")] == [6]  # the cache moves on
        older.stock_reads.positions(["B"])  # B is not cached yet: read, not kept
    assert [p.on_hand for p in cached(application, "B")] == [6]


def test_an_evicted_sku_is_read_again(application: Application) -> None:
    change(application, receipt("DC1", "A", 5), receipt("DC1", "B", 5))
    cache = StockCache(max_positions=1)

    def read(sku: str) -> list[int]:
        uow = SqlUnitOfWork(
            application.engine, LocationCache(), FixedClock(T0), True, stock_cache=cache
        )
        with uow:
            return [p.on_hand for p in uow.stock_reads.positions([sku])]

    assert read("A") == [5]
    assert read("B") == [5]
    assert list(cache.skus) == ["B"]
    change(application, receipt("DC1", "A", 2))
    assert read("A") == [7]


def test_the_stock_a_reader_holds_is_not_changed_by_a_later_refresh(
    application: Application,
) -> None:
    """Readers use a SKU's stock after letting go of the cache: a refresh replaces it."""
    change(application, receipt("DC1", "A", 5))
    with application.ctx.uow(readonly=True) as uow:
        held = uow.stock_reads.by_sku(["A"])["A"]
    change(application, receipt("DC1", "A", 2))  # a position the SKU has
    with application.ctx.uow(readonly=True) as uow:
        moved = uow.stock_reads.by_sku(["A"])["A"]
    change(application, receipt("DC2", "A", 1))  # a new one
    with application.ctx.uow(readonly=True) as uow:
        grown = uow.stock_reads.by_sku(["A"])["A"]
    assert [p.on_hand for p in held.positions().values()] == [5]
    assert [p.on_hand for p in moved.positions().values()] == [7]
    assert {loc: p.on_hand for loc, p in grown.positions().items()} == {"DC1": 7, "DC2": 1}


def test_cached_positions_share_one_string_per_location_and_sku(
    application: Application,
) -> None:
    # Ids of several characters: the interpreter shares one-character strings anyway.
    a, b, c = "SKU-A", "SKU-B", "SKU-C"
    change(application, receipt("DC1", a, 5), receipt("DC1", b, 5), receipt("DC2", a, 1))
    cache = StockCache(max_positions=2)

    def read(*skus: str) -> list[Position]:
        uow = SqlUnitOfWork(
            application.engine, LocationCache(), FixedClock(T0), True, stock_cache=cache
        )
        with uow:
            return uow.stock_reads.positions(skus)

    a_dc1, a_dc2, b_dc1 = read(a, b)
    assert a_dc1.location_id is b_dc1.location_id
    assert a_dc1.sku is a_dc2.sku
    assert next(k for k in cache.skus if k == a) is a_dc1.sku  # the key too
    change(application, reservation("DC1", a, 1))  # re-read: still the shared strings
    again = read(a)[0]
    assert again.location_id is b_dc1.location_id
    assert again.sku is a_dc1.sku
    read(c)  # B, least recently read, is evicted, and its SKU string with it
    assert list(cache.skus) == [a, c]
    assert b not in cache.ids
    assert cache.ids[a] is a_dc1.sku


def test_a_burst_of_changes_starts_the_cache_afresh(application: Application) -> None:
    change(application, receipt("DC1", "A", 5), receipt("DC1", "B", 5))
    # PostgreSQL may count the first two positions again (its horizon is server-wide, and
    # other sessions' transactions hold it back): the limit leaves room for one of them.
    cache = StockCache(max_changes=3)

    def read(*skus: str) -> list[int]:
        uow = SqlUnitOfWork(
            application.engine, LocationCache(), FixedClock(T0), True, stock_cache=cache
        )
        with uow:
            return [p.on_hand for p in uow.stock_reads.positions(skus)]

    assert read("A", "B") == [5, 5]
    change(application, receipt("DC1", "A", 1), receipt("DC2", "A", 1))  # two: re-read
    assert read("A") == [6, 1]
    assert set(cache.skus) == {"A", "B"}
    change(application, *(receipt(f"DC{n}", "B", 1) for n in range(1, 5)))  # four: afresh
    assert read("A") == [6, 1]
    assert set(cache.skus) == {"A"}
    assert read("B") == [6, 1, 1, 1]


def test_a_cache_of_no_positions_reads_the_database_each_time(
    application: Application,
) -> None:
    change(application, receipt("DC1", "A", 5))
    cache = StockCache(max_positions=0)
    uow = SqlUnitOfWork(
        application.engine, LocationCache(), FixedClock(T0), True, stock_cache=cache
    )
    with uow:
        assert [p.on_hand for p in uow.stock_reads.positions(["A"])] == [5]
    assert cache.size == 0
    assert not cache.skus


@pytest.mark.postgres
def test_a_smaller_ledger_id_committed_after_a_larger_one_is_not_missed(
    postgres_url: str,
) -> None:
    """PostgreSQL numbers ledger rows before commit: the cache must not skip a change whose
    id is below one it has already seen."""
    app = wire(postgres_url)
    try:
        change(app, receipt("DC1", "A", 5), receipt("DC2", "A", 5))
        assert len(cached(app, "A")) == 2
        with app.ctx.uow() as slow:
            apply_movements(slow, [reservation("DC1", "A", 1)], T0, "slow")  # smaller id
            change(app, reservation("DC2", "A", 2))  # larger id, committed first
            seen = {p.location_id: p.reserved for p in cached(app, "A")}
            assert seen == {"DC1": 0, "DC2": 2}
            slow.commit()
        seen = {p.location_id: p.reserved for p in cached(app, "A")}
        assert seen == {"DC1": 1, "DC2": 2}
    finally:
        app.close()


def test_readers_and_writers_on_threads_leave_the_cache_equal_to_the_table(
    database_url: str,
) -> None:
    """Readers refresh the shared cache while writers commit: whatever order their
    transactions interleave in, the next read after the writers stop shows the table."""
    app = wire(database_url)
    writing = threading.Event()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                change(app, receipt(f"DC{(n + i) % 3}", "AB"[i % 2], 1))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def read() -> None:
        try:
            while writing.is_set():
                cached(app, "A", "B")
        except BaseException as exc:
            errors.append(exc)

    try:
        writing.set()
        readers = [threading.Thread(target=read) for _ in range(3)]
        writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        writing.clear()
        for t in readers:
            t.join()
        if errors:
            raise errors[0]  # with the thread's traceback
        assert cached(app, "A", "B") == stored(app, "A", "B")
        assert sum(p.on_hand for p in cached(app, "A", "B")) == 45
    finally:
        app.close()


LOCATIONS = ("DC1", "DC2", "S1")
SKUS = ("A", "B", "C")
steps = st.lists(
    st.tuples(
        st.sampled_from(["receipt", "reserve", "read-first", "read-second"]),
        st.sampled_from(LOCATIONS),
        st.sampled_from(SKUS),
        st.integers(1, 4),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=steps)
def test_two_processes_always_read_what_is_stored(
    sqlite_url: str, script: list[tuple[str, str, str, int]]
) -> None:
    first, second = wire(sqlite_url), wire(sqlite_url)
    try:
        for action, loc, sku, units in script:
            writer = first if action == "receipt" else second
            if action == "receipt":
                change(writer, receipt(loc, sku, units))
            elif action == "reserve":
                with writer.ctx.uow() as uow:
                    p = uow.inventory.position(loc, sku)
                    if p is not None and p.available >= units:
                        apply_movements(uow, [reservation(loc, sku, units)], T0, "test")
                        uow.commit()
            reader = first if action == "read-first" else second
            assert cached(reader, sku) == stored(reader, sku)
            assert as_arrays(reader, sku) == stored(reader, sku)
        for app in (first, second):
            assert cached(app, *SKUS) == stored(app, *SKUS)
            assert as_arrays(app, *SKUS) == stored(app, *SKUS)
    finally:
        first.close()
        second.close()


def a_rule(rule_id: str, sku: str | None, quantity: int) -> StockRule:
    return StockRule(rule_id, RuleKind.SAFETY_STOCK, RuleScope(sku=sku), quantity=quantity)


def covering(app: Application, *skus: str) -> list[StockRule]:
    with app.ctx.uow(readonly=True) as uow:
        return uow.stock_rules.covering(skus)


def test_stock_rules_changed_by_another_process_are_seen_at_the_next_read(
    database_url: str,
) -> None:
    first, second = wire(database_url), wire(database_url)
    try:
        with first.ctx.uow() as uow:
            uow.stock_rules.put(a_rule("r1", "A", 2))
            uow.stock_rules.put(a_rule("r2", None, 1))
            uow.commit()
        assert [r.id for r in covering(second, "A")] == ["r1", "r2"]
        assert [r.id for r in covering(second, "B")] == ["r2"]
        with first.ctx.uow() as uow:
            uow.stock_rules.put(a_rule("r1", "A", 5))
            assert uow.stock_rules.remove("r2")
            uow.commit()
        assert covering(second, "A") == [a_rule("r1", "A", 5)]
        assert covering(second, "B") == []
    finally:
        first.close()
        second.close()


def test_a_rolled_back_rule_change_never_reaches_the_cache(application: Application) -> None:
    assert covering(application, "A") == []
    with application.ctx.uow() as uow:
        uow.stock_rules.put(a_rule("r1", "A", 2))
        assert [r.id for r in uow.stock_rules.covering(["A"])] == ["r1"]  # its own change
    assert covering(application, "A") == []


def watched(app: Application) -> list[ChannelSettings]:
    with app.ctx.uow(readonly=True) as uow:
        return uow.channels.watched()


def test_channel_thresholds_changed_by_another_process_are_seen_at_the_next_read(
    database_url: str,
) -> None:
    first, second = wire(database_url), wire(database_url)
    try:
        assert watched(second) == []  # the second process caches "nothing watched"
        with first.ctx.uow() as uow:
            uow.channels.put(ChannelSettings("web", (0, 5)))
            uow.commit()
        assert watched(second) == [ChannelSettings("web", (0, 5))]
        with first.ctx.uow() as uow:
            uow.channels.put(ChannelSettings("web", ()))
            uow.channels.put(ChannelSettings("mkt", (0, 10)))
            uow.commit()
        assert watched(second) == [ChannelSettings("mkt", (0, 10))]
    finally:
        first.close()
        second.close()


def test_a_rolled_back_channel_change_never_reaches_the_cache(application: Application) -> None:
    assert watched(application) == []
    with application.ctx.uow() as uow:
        uow.channels.put(ChannelSettings("web", (0, 5)))
        assert [c.channel for c in uow.channels.watched()] == ["web"]  # its own change
    assert watched(application) == []


def test_a_writer_reads_its_own_reservations_and_its_rollback_never_reaches_the_cache(
    application: Application,
) -> None:
    change(application, receipt("DC1", "A", 5), receipt("DC2", "A", 3))
    assert cached(application, "A") == stored(application, "A")  # the cache holds "A"
    with application.ctx.uow() as uow:
        before = {p.location_id: p.reserved for p in uow.inventory.positions(["A"])}
        assert before == {"DC1": 0, "DC2": 0}
        apply_movements(uow, [reservation("DC1", "A", 4)], T0, "test")
        mine = {p.location_id: p.reserved for p in uow.inventory.positions(["A"])}
        assert mine == {"DC1": 4, "DC2": 0}  # its own change, not yet committed
        assert {p.location_id: p.reserved for p in uow.stock_reads.positions(["A"])} == mine
    assert [p.reserved for p in cached(application, "A")] == [0, 0]
    assert cached(application, "A") == stored(application, "A")
    change(application, reservation("DC2", "A", 1))
    assert [p.reserved for p in cached(application, "A")] == [0, 1]


def test_a_writer_sees_what_another_process_committed_before_it_began(
    database_url: str,
) -> None:
    first, second = wire(database_url), wire(database_url)
    try:
        change(first, receipt("DC1", "A", 5))
        assert [p.available for p in cached(second, "A")] == [5]  # second caches "A"
        change(first, reservation("DC1", "A", 5))
        with second.ctx.uow() as uow:
            assert [p.available for p in uow.inventory.positions(["A"])] == [0]
    finally:
        first.close()
        second.close()


def test_sqlite_re_reads_changed_positions_through_the_primary_key(
    application: Application,
) -> None:
    if application.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner only")
    change(application, receipt("DC1", "A", 5), receipt("DC2", "A", 5))
    assert [p.on_hand for p in cached(application, "A")] == [5, 5]  # cached
    change(application, reservation("DC1", "A", 2), reservation("DC2", "A", 1))

    plans = sqlite_plans(application, lambda: cached(application, "A"), "positions")

    assert plans, "the change was not re-read"
    assert all("SCAN p" not in plan and "SCAN positions" not in plan for plan in plans), plans
    assert [p.reserved for p in cached(application, "A")] == [2, 1]
