"""The cart's stock columns, sliced per subset of SKUs, equal what the engine builds from
the positions for that subset."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Address, Capability, Location, LocationType
from ordergrid.domain.promise.stock import CartStock
from ordergrid.domain.sourcing.network_index import NetworkIndex
from ordergrid.domain.sourcing.view import StockColumns

LOCATIONS = {
    f"L{i}": Location(
        f"L{i}",
        f"L{i}",
        LocationType.STORE,
        Address(lat=40 + i, lon=-70 - i),
        frozenset({Capability.SHIP}),
    )
    for i in range(6)
}
INDEX = NetworkIndex.build(LOCATIONS)
SKUS = ("A", "B", "C", "D")

positions = st.dictionaries(
    st.tuples(st.sampled_from(sorted(LOCATIONS)), st.sampled_from(SKUS)),
    st.tuples(st.integers(-2, 6), st.integers(0, 4), st.integers(0, 2)),
    max_size=24,
)


@given(stock=positions, subset=st.sets(st.sampled_from(SKUS), min_size=1))
def test_sliced_columns_equal_the_engines_own(
    stock: dict[tuple[str, str], tuple[int, int, int]], subset: set[str]
) -> None:
    by_key = {k: Position(k[0], k[1], *counts) for k, counts in stock.items()}
    cart = CartStock.of(by_key, INDEX, frozenset(SKUS))
    mine = cart.for_skus(frozenset(subset))
    theirs = StockColumns.of_positions(by_key, INDEX, subset)
    assert mine.skus == theirs.skus
    assert np.array_equal(mine.holders, theirs.holders)
    assert np.array_equal(mine.available, theirs.available)


@given(stock=positions)
def test_network_available_sums_what_each_location_may_give(
    stock: dict[tuple[str, str], tuple[int, int, int]],
) -> None:
    by_key = {k: Position(k[0], k[1], *counts) for k, counts in stock.items()}
    totals = CartStock.of(by_key, INDEX, frozenset(SKUS)).network_available()
    for sku in SKUS:
        assert totals[sku] == sum(p.available for (_, s), p in by_key.items() if s == sku)
