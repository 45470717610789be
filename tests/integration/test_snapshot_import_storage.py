"""The snapshot import port, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.conftest import wire

from ordergrid.adapters.memory.uow import InMemoryStore, unit_of_work_factory
from ordergrid.domain.inventory import Movement, MovementReason, Position
from ordergrid.domain.stock_counts import CountRow
from ordergrid.service.ports import LedgerEntry, LedgerFilter, UnitOfWork

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
Factory = Callable[..., UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[Factory]:
    if request.param == "memory":
        yield unit_of_work_factory(InMemoryStore())
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    app = wire(url)
    yield app.ctx.uow
    app.close()


def hold(uow: Factory, location_id: str, sku: str, on_hand: int, reserved: int = 0) -> None:
    with uow() as u:
        u.inventory.move(Movement(location_id, sku, on_hand, reserved, MovementReason.RECEIPT))
        u.commit()


def shipped(uow: Factory, location_id: str, sku: str, units: int, at: datetime) -> None:
    with uow() as u:
        after = u.inventory.move(
            Movement(location_id, sku, -units, -units, MovementReason.SHIPMENT), clamp=True
        )
        assert after is not None
        entry = LedgerEntry(
            location_id, sku, at, -units, -units, after.on_hand, after.reserved, "shipment"
        )
        u.inventory.record([entry])
        u.commit()


def run_import(
    uow: Factory,
    rows: list[CountRow],
    full: dict[str, datetime] | None = None,
    rising: frozenset[str] = frozenset(),
    at: datetime = T0 + timedelta(hours=6),
) -> tuple[object, list[object]]:
    with uow() as u:
        u.snapshot_imports.stage(rows[: len(rows) // 2])
        u.snapshot_imports.stage(rows[len(rows) // 2 :])
        for location_id, as_of in (full or {}).items():
            u.snapshot_imports.stage_full(location_id, as_of)
        assert u.snapshot_imports.first_duplicate() is None
        totals = u.snapshot_imports.apply(at, "wms")
        changes = u.snapshot_imports.finish(rising)
        u.commit()
    return totals, list(changes)


def position(uow: Factory, location_id: str, sku: str) -> Position | None:
    with uow(readonly=True) as u:
        return u.inventory.position(location_id, sku)


def test_counts_create_and_set_positions_with_one_ledger_entry_each(uow: Factory) -> None:
    hold(uow, "DC1", "A", 5)
    rows = [CountRow(1, "DC1", "A", 8, T0), CountRow(2, "DC2", "B", 3, T0)]
    totals, _ = run_import(uow, rows)
    assert (totals.applied, totals.stale, totals.unlisted) == (2, 0, 0)  # type: ignore[attr-defined]
    assert position(uow, "DC1", "A") == Position("DC1", "A", 8, 0, 0, T0)
    assert position(uow, "DC2", "B") == Position("DC2", "B", 3, 0, 0, T0)
    with uow(readonly=True) as u:
        (entry,) = [
            e for e in u.inventory.ledger(LedgerFilter("A"), 10, None) if e.reason == "snapshot"
        ]
    assert (entry.on_hand_delta, entry.on_hand_after, entry.ref, entry.actor) == (
        3,
        8,
        T0.isoformat(),
        "wms",
    )


def test_physical_movements_after_as_of_are_added_to_the_count(uow: Factory) -> None:
    hold(uow, "DC1", "A", 10, reserved=4)
    shipped(uow, "DC1", "A", 3, T0 + timedelta(hours=2))
    shipped(uow, "DC1", "A", 1, T0 - timedelta(hours=2))  # before the count: already in it
    run_import(uow, [CountRow(1, "DC1", "A", 9, T0)])
    found = position(uow, "DC1", "A")
    assert found is not None
    assert found.on_hand == 6  # 9 counted, 3 shipped since


def test_a_count_older_than_the_applied_one_changes_nothing(uow: Factory) -> None:
    run_import(uow, [CountRow(1, "DC1", "A", 5, T0)])
    totals, _ = run_import(
        uow,
        [CountRow(1, "DC1", "A", 50, T0 - timedelta(hours=1)), CountRow(2, "DC1", "B", 7, T0)],
    )
    assert (totals.applied, totals.stale, totals.stale_rows) == (1, 1, (1,))  # type: ignore[attr-defined]
    assert position(uow, "DC1", "A") == Position("DC1", "A", 5, 0, 0, T0)


def test_a_full_count_zeroes_the_positions_it_does_not_list(uow: Factory) -> None:
    for sku in ("A", "B", "C"):
        hold(uow, "DC1", sku, 5)
    hold(uow, "DC2", "A", 5)
    shipped(uow, "DC1", "C", 2, T0 + timedelta(hours=1))
    totals, _ = run_import(uow, [CountRow(1, "DC1", "A", 4, T0)], full={"DC1": T0})
    assert (totals.applied, totals.unlisted) == (3, 2)  # type: ignore[attr-defined]
    on_hand = {sku: position(uow, "DC1", sku) for sku in "ABC"}
    assert {sku: p.on_hand for sku, p in on_hand.items() if p} == {"A": 4, "B": 0, "C": 0}
    assert position(uow, "DC2", "A") == Position("DC2", "A", 5)  # another location


def test_a_full_count_of_an_empty_location_zeroes_it(uow: Factory) -> None:
    hold(uow, "DC1", "A", 5)
    totals, _ = run_import(uow, [], full={"DC1": T0})
    assert (totals.applied, totals.unlisted) == (1, 1)  # type: ignore[attr-defined]
    assert position(uow, "DC1", "A") == Position("DC1", "A", 0, 0, 0, T0)


def test_duplicates_are_reported_by_row(uow: Factory) -> None:
    rows = [
        CountRow(1, "DC1", "A", 1, T0),
        CountRow(2, "DC1", "B", 1, T0),
        CountRow(3, "DC1", "B", 2, T0),
        CountRow(4, "DC1", "A", 2, T0),
        CountRow(5, "DC1", "A", 3, T0),
    ]
    with uow() as u:
        u.snapshot_imports.stage(rows[:2])
        u.snapshot_imports.stage(rows[2:])
        assert u.snapshot_imports.first_duplicate() == (1, 4)


def test_changes_name_shortfalls_and_rising_watched_skus(uow: Factory) -> None:
    hold(uow, "DC1", "A", 10, reserved=6)
    hold(uow, "DC1", "B", 0)
    hold(uow, "DC1", "C", 0)
    rows = [
        CountRow(1, "DC1", "A", 2, T0),  # below its reservations
        CountRow(2, "DC1", "B", 5, T0),  # rose, watched
        CountRow(3, "DC1", "C", 5, T0),  # rose, nobody waits for it
    ]
    _, changes = run_import(uow, rows, rising=frozenset({"B"}))
    got = [(c.before.on_hand, c.after) for c in changes]  # type: ignore[attr-defined]
    assert got == [
        (10, Position("DC1", "A", 2, 6, 0, T0)),
        (0, Position("DC1", "B", 5, 0, 0, T0)),
    ]


def test_a_failed_import_leaves_nothing_behind(uow: Factory) -> None:
    hold(uow, "DC1", "A", 5)
    with uow() as u:
        u.snapshot_imports.stage([CountRow(1, "DC1", "A", 50, T0)])
        u.snapshot_imports.apply(T0, "wms")
        u.rollback()
    assert position(uow, "DC1", "A") == Position("DC1", "A", 5)
    run_import(uow, [CountRow(1, "DC1", "A", 7, T0)])  # the next import starts clean
    assert position(uow, "DC1", "A") == Position("DC1", "A", 7, 0, 0, T0)


def test_positions_at_lists_one_location_by_sku(uow: Factory) -> None:
    hold(uow, "DC1", "B", 2)
    hold(uow, "DC1", "A", 1)
    hold(uow, "DC2", "A", 5)
    with uow(readonly=True) as u:
        assert u.inventory.positions_at("DC1") == [Position("DC1", "A", 1), Position("DC1", "B", 2)]
        assert u.inventory.positions_at("NOPE") == []


def test_ids_with_separators_quotes_and_line_breaks_are_staged_as_they_are(uow: Factory) -> None:
    odd = 'A,"b"\t\\N\nc'
    run_import(uow, [CountRow(1, "DC 1;x", odd, 4, T0)])
    assert position(uow, "DC 1;x", odd) == Position("DC 1;x", odd, 4, 0, 0, T0)
