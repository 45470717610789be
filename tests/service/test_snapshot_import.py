"""Bulk snapshot import gives what row-by-row snapshots give, and keeps the reactions
(re-allocation below reservations, back-orders woken by new stock) working."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.service.factories import World

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.inventory import Position
from ordergrid.domain.orders import OrderStatus
from ordergrid.domain.stock_counts import CountRow, SnapshotMode
from ordergrid.service.commands import ApplySnapshot
from ordergrid.service.ports import LedgerEntry, LedgerFilter
from ordergrid.service.relay import relay_once
from ordergrid.service.snapshot_import import ImportResult, ImportSnapshot
from ordergrid.service.timer_kinds import STOCK_DISCREPANCY

LOCATIONS = ("DC-ATL", "DC-RNO", "ST-CHI")
SKUS = ("A", "B", "C")

#: One location's count: (as_of offset in minutes from the clock, {sku: on_hand}).
Count = tuple[int, dict[str, int]]
counts = st.dictionaries(
    st.sampled_from(LOCATIONS),
    st.tuples(
        st.sampled_from([-120, -60, -30, 0]),
        st.dictionaries(st.sampled_from(SKUS), st.integers(0, 12), max_size=3),
    ),
    max_size=3,
)
stock = st.lists(
    st.tuples(st.sampled_from(LOCATIONS), st.sampled_from(SKUS), st.integers(-3, 9)), max_size=8
)


def feed(rows: list[CountRow]) -> Iterable[Sequence[CountRow]]:
    return [rows[:2], rows[2:]] if rows else []


def bulk(world: World, round_: dict[str, Count], mode: SnapshotMode) -> ImportResult:
    now = world.clock.now()
    rows, empty = [], []
    for loc, (minutes, items) in sorted(round_.items()):
        as_of = now + timedelta(minutes=minutes)
        rows += [CountRow(len(rows) + 1, loc, sku, n, as_of) for sku, n in items.items()]
        if not items:
            empty.append((loc, as_of))
    full = mode is SnapshotMode.FULL
    cmd = ImportSnapshot(lambda: feed(rows), mode, tuple(empty) if full else ())
    result: ImportResult = world.bus.handle(cmd)
    return result


def row_by_row(world: World, round_: dict[str, Count], mode: SnapshotMode) -> None:
    now = world.clock.now()
    for loc, (minutes, items) in sorted(round_.items()):
        if items or mode is SnapshotMode.FULL:
            as_of = now + timedelta(minutes=minutes)
            world.bus.handle(ApplySnapshot(loc, as_of, tuple(sorted(items.items())), mode=mode))


def apply_stock(world: World, moves: list[tuple[str, str, int]]) -> None:
    for loc, sku, delta in moves:
        if world.position(loc, sku).on_hand + delta >= 0:
            world.stock(loc, sku, delta)


def state(world: World) -> tuple[list[Position], list[LedgerEntry], list[dict[str, object]]]:
    with world.uow() as uow:
        positions = uow.inventory.positions(SKUS)
        ledger = [e for sku in SKUS for e in uow.inventory.ledger(LedgerFilter(sku), 500, None)]
        timers = [dict(t.data) for t in uow.timers.claim_kind(STOCK_DISCREPANCY, 100)]
    return positions, ledger, sorted(timers, key=str)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=stock,
    first=counts,
    first_mode=st.sampled_from(SnapshotMode),
    between=stock,
    second=counts,
    second_mode=st.sampled_from(SnapshotMode),
    reserve=st.booleans(),
)
@example(  # the same count time again: stale, however different the count
    before=[],
    first={"DC-ATL": (0, {"A": 3})},
    first_mode=SnapshotMode.PARTIAL,
    between=[],
    second={"DC-ATL": (-60, {"A": 5})},
    second_mode=SnapshotMode.PARTIAL,
    reserve=False,
)
def test_bulk_gives_the_positions_and_ledger_of_row_by_row_snapshots(
    before: list[tuple[str, str, int]],
    first: dict[str, Count],
    first_mode: SnapshotMode,
    between: list[tuple[str, str, int]],
    second: dict[str, Count],
    second_mode: SnapshotMode,
    reserve: bool,
) -> None:
    worlds = World(), World()
    for world, apply in zip(worlds, (row_by_row, bulk), strict=True):
        apply_stock(world, before)
        if reserve:
            world.place(("A", 2))
        apply(world, first, first_mode)
        world.clock.advance(seconds=3600)
        apply_stock(world, between)
        apply(world, second, second_mode)
    assert state(worlds[1]) == state(worlds[0])


def test_counts_since_movements_are_reconciled(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    counted_at = world.clock.now() - timedelta(minutes=5)  # before the receipt
    world.bus.handle(ImportSnapshot(lambda: [[CountRow(1, "DC-ATL", "A", 4, counted_at)]]))
    assert world.position("DC-ATL", "A").on_hand == 14


def test_a_full_import_zeroes_unlisted_positions_and_reports_totals(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-ATL", "B", 5)
    world.stock("DC-RNO", "A", 5)
    now = world.clock.now()
    rows = [CountRow(1, "DC-ATL", "A", 3, now)]
    result: ImportResult = world.bus.handle(ImportSnapshot(lambda: [rows], SnapshotMode.FULL))
    assert (result.rows, result.locations) == (1, 1)
    assert (result.totals.applied, result.totals.unlisted) == (2, 1)
    assert world.position("DC-ATL", "B").on_hand == 0
    assert world.position("DC-RNO", "A").on_hand == 5


def test_a_count_below_reservations_schedules_reallocation(world: World) -> None:
    world.stock("DC-ATL", "A", 3)
    order = world.place(("A", 2))
    [f] = order.fulfilments
    now = world.clock.now()
    rows = [CountRow(1, f.location_id, "A", 0, now)]
    world.bus.handle(ImportSnapshot(lambda: [rows]))
    with world.uow() as uow:
        timers = uow.timers.claim_kind(STOCK_DISCREPANCY, 10)
    assert [t.data for t in timers] == [{"location_id": f.location_id, "sku": "A"}]


def test_new_stock_wakes_back_orders(world: World) -> None:
    order = world.place(("B", 1))
    assert order.status is OrderStatus.BACKORDERED
    now = world.clock.now()
    world.bus.handle(ImportSnapshot(lambda: [[CountRow(1, "DC-RNO", "B", 4, now)]]))
    while relay_once(world.bus):
        pass
    assert world.order(order.id).status is not OrderStatus.BACKORDERED


def test_events_stay_few_for_a_large_import(world: World) -> None:
    now = world.clock.now()
    rows = [
        CountRow(n + 1, loc, sku, 5, now)
        for n, (loc, sku) in enumerate((loc, sku) for loc in LOCATIONS for sku in SKUS)
    ]
    world.bus.handle(ImportSnapshot(lambda: [rows]))
    with world.uow() as uow:
        events = uow.outbox.after((0, 0), 1000)
    assert [e.type for e in events if e.type.startswith("inventory.")] == [
        "inventory.snapshot_imported"
    ]


LATER = timedelta(hours=1)


@pytest.mark.parametrize(
    ("rows", "code", "field"),
    [
        ([("DC-ATL", "A", LATER)], "as_of_in_future", "rows.1.as_of"),
        ([("DC-ATL", "A", None), ("NOPE", "A", None)], "unknown_location", "rows.2.location_id"),
        ([("DC-ATL", "Z", None)], "unknown_sku", "rows.1.sku"),
        ([("DC-ATL", "A", None), ("DC-ATL", "A", None)], "duplicate_row", "rows.2.sku"),
        ([("DC-ATL", "A", None), ("DC-ATL", "C", -LATER)], "mixed_as_of", "rows.2.as_of"),
    ],
)
def test_bad_rows_refuse_the_whole_import(
    world: World, rows: list[tuple[str, str, timedelta | None]], code: str, field: str
) -> None:
    world.stock("DC-ATL", "B", 1)
    now = world.clock.now()
    counted = [
        CountRow(n, loc, sku, 1, now + (shift or timedelta()))
        for n, (loc, sku, shift) in enumerate(rows, start=1)
    ]
    with pytest.raises(InvalidInput) as err:
        world.bus.handle(ImportSnapshot(lambda: [counted[:1], counted[1:]], SnapshotMode.FULL))
    assert (err.value.code, err.value.details["field"]) == (code, field)
    assert world.position("DC-ATL", "B").on_hand == 1  # the full count did not apply
