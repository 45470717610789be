"""A SKU's stock as arrays: the same positions, the same engine columns and the same
lookups as the positions it was made from, and changes that make a new version without
touching the one readers may still hold."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.factories import LookupSpy, location

from ordergrid.domain.inventory import Position
from ordergrid.domain.sourcing.network_index import NetworkIndex, index_of
from ordergrid.domain.sourcing.sku_stock import PositionsBySku, SkuStock
from ordergrid.domain.sourcing.view import StockColumns

NETWORK = {x: location(x, 40.0 + i, -75.0) for i, x in enumerate(("A", "B", "C", "D"))}
#: "Z" has positions but is not in the network (closed and removed, say).
PLACES = ("A", "B", "C", "D", "Z")
SKUS = ("S1", "S2", "S3")
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)

a_position = st.builds(
    lambda loc, sku, on_hand, reserved, safety, dated: Position(
        loc, sku, on_hand, reserved, safety, AS_OF if dated else None
    ),
    st.sampled_from(PLACES),
    st.sampled_from(SKUS),
    st.integers(-3, 9),
    st.integers(0, 9),
    st.integers(0, 3),
    st.booleans(),
)
some_positions = st.lists(a_position, max_size=15).map(
    lambda found: {(p.location_id, p.sku): p for p in found}
)


def by_sku(positions: dict[tuple[str, str], Position]) -> dict[str, SkuStock]:
    return {
        sku: SkuStock.of_positions(sku, [p for (_, s), p in positions.items() if s == sku])
        for sku in SKUS
    }


@given(positions=some_positions, asked=st.sets(st.sampled_from(SKUS), min_size=1))
def test_columns_from_the_arrays_equal_the_columns_from_the_positions(
    positions: dict[tuple[str, str], Position], asked: set[str]
) -> None:
    index = index_of(NETWORK)
    plain, plain_held = StockColumns.laid_out(positions, index, asked)
    arrays, arrays_held = StockColumns.laid_out(PositionsBySku(by_sku(positions)), index, asked)
    assert arrays.skus == plain.skus
    assert arrays.holders.tolist() == plain.holders.tolist()
    assert arrays.available.tolist() == plain.available.tolist()
    assert arrays_held.tolist() == plain_held.tolist()


@given(positions=some_positions)
def test_positions_read_through_the_arrays_are_the_positions_given(
    positions: dict[tuple[str, str], Position],
) -> None:
    seen = PositionsBySku(by_sku(positions))
    assert dict(seen.items()) == positions
    assert len(seen) == len(positions)
    assert seen.skus() == {sku for _, sku in positions}
    for loc in PLACES:
        for sku in SKUS:
            assert ((loc, sku) in seen) == ((loc, sku) in positions)
            assert seen.get((loc, sku)) == positions.get((loc, sku))
    assert "A" not in seen


@given(
    before=some_positions,
    changes=st.lists(
        st.tuples(st.sampled_from(PLACES), st.one_of(st.none(), a_position)), max_size=6
    ),
)
def test_a_change_makes_a_new_version_and_leaves_the_old_one_as_it_was(
    before: dict[tuple[str, str], Position],
    changes: list[tuple[str, Position | None]],
) -> None:
    old = SkuStock.of_positions("S1", [p for (_, s), p in before.items() if s == "S1"])
    kept = old.positions()
    old.columns(index_of(NETWORK))  # what a reader may have worked out meanwhile
    at = {loc: None if p is None else Position(loc, "S1", *_values(p)) for loc, p in changes}
    new = old.with_changes(at)
    expected = dict(kept)
    for loc, p in at.items():
        if p is None:
            expected.pop(loc, None)
        else:
            expected[loc] = p
    assert new.positions() == expected
    assert old.positions() == kept
    index = index_of(NETWORK)
    plain, _ = StockColumns.laid_out({(loc, "S1"): p for loc, p in expected.items()}, index, {"S1"})
    arrays, _ = StockColumns.laid_out(PositionsBySku({"S1": new}), index, {"S1"})
    assert arrays.available.tolist() == plain.available.tolist()
    assert arrays.holders.tolist() == plain.holders.tolist()


def _values(p: Position) -> tuple[int, int, int, datetime | None]:
    return p.on_hand, p.reserved, p.safety_stock, p.snapshot_as_of


def test_free_at_names_the_locations_with_units_to_give() -> None:
    stock = SkuStock.of_positions(
        "S1",
        [
            Position("A", "S1", 5, 2),
            Position("B", "S1", 3, 3),
            Position("C", "S1", 4, 0, safety_stock=4),
            Position("D", "S1", 1, 0),
        ],
    )
    assert stock.free_at() == {"A", "D"}


def test_a_sku_without_positions_lays_out_no_holders() -> None:
    empty = SkuStock.of_rows("S1", [])
    columns, held = StockColumns.laid_out(PositionsBySku({"S1": empty}), index_of(NETWORK), {"S1"})
    assert columns.holders.tolist() == []
    assert held.shape == (0, 1)
    assert len(empty) == 0
    assert empty.position("A") is None


def test_a_sku_laid_out_once_does_not_keep_an_old_network_alive() -> None:
    stock = SkuStock.of_positions("S1", [Position("A", "S1", 2)])
    old = NetworkIndex.build(NETWORK)
    gone = weakref.ref(old)
    stock.columns(old)
    del old
    gc.collect()
    assert gone() is None
    rows, available = stock.columns(index_of(NETWORK))  # laid out again for the new one
    assert (rows.tolist(), available.tolist()) == ([0], [2])


def test_positions_made_once_are_carried_to_the_next_version_with_only_the_changed_new() -> None:
    old = SkuStock.of_positions("S1", [Position("A", "S1", 2), Position("B", "S1", 4)])
    made = old.positions()
    assert old.positions() is made  # made once
    new = old.with_changes({"B": Position("B", "S1", 3, 1)})
    assert new.positions()["A"] is made["A"]
    assert new.positions()["B"] == Position("B", "S1", 3, 1)
    assert made["B"] == Position("B", "S1", 4)  # the old version as it was


def test_a_change_at_the_same_locations_lays_out_its_column_without_looking_them_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = index_of(NETWORK)
    old = SkuStock.of_positions(
        "S1", [Position("A", "S1", 2), Position("Z", "S1", 5), Position("C", "S1", 4)]
    )
    old.columns(index)
    new = old.with_changes({"C": Position("C", "S1", 0), "A": Position("A", "S1", 3, 1)})
    looked_up: list[str] = []
    monkeypatch.setattr(index, "position", LookupSpy(index.position, looked_up))
    rows, available = new.columns(index)
    assert looked_up == []
    assert (rows.tolist(), available.tolist()) == ([0], [2])  # C has none on hand now
    grown = new.with_changes({"B": Position("B", "S1", 1)})  # a location new to the SKU
    rows, _ = grown.columns(index)
    assert sorted(rows.tolist()) == [0, 1]
    assert "B" in looked_up
