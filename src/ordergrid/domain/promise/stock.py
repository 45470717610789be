"""The stock of a cart's SKUs as the engine's columns, built once per quote: a quote
sources the cart many times (each option, each store, each transfer of what a store
lacks), each time for the same SKUs or a subset of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ordergrid.domain.inventory import Position
from ordergrid.domain.sourcing.network_index import (
    BoolArray,
    NetworkIndex,
    row_in,
    take_rows,
    where,
)
from ordergrid.domain.sourcing.view import StockColumns


@dataclass(frozen=True, slots=True, eq=False)
class CartStock:
    index: NetworkIndex
    columns: StockColumns  # every SKU of the cart
    held: BoolArray  # (holders, skus): on-hand > 0 there
    #: The network's totals, summed on first use (a quote asks once per store).
    _totals: list[Mapping[str, int]] = field(default_factory=list, repr=False)
    #: What each location asked about may give (a quote asks twice per store).
    _at: dict[str, Mapping[str, int]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        positions: Mapping[tuple[str, str], Position],
        index: NetworkIndex,
        skus: frozenset[str],
    ) -> CartStock:
        """The columns `StockColumns.of_positions` builds, with where stock is on hand."""
        columns, held = StockColumns.laid_out(positions, index, skus)
        return cls(index, columns, held)

    def for_skus(self, skus: frozenset[str]) -> StockColumns:
        """The columns of a subset of the SKUs, exactly as built from the positions: the
        locations holding any of them, in index order."""
        full = self.columns
        if frozenset(full.skus) == skus:
            return full
        order = tuple(sorted(skus))
        cols = [full.skus.index(s) for s in order]
        if len(cols) == 1:  # a store's usual shortfall: the SKU's columns as they are
            col = cols[0]
            rows = where(self.held[:, col])
            available = full.available[:, col].take(rows)[:, None]
        else:
            rows = where(np.logical_or.reduce(self.held[:, cols], axis=1))
            available = take_rows(full.available, rows)[:, cols]
        return StockColumns(order, full.holders.take(rows), available)

    def at(self, location_id: str) -> Mapping[str, int]:
        """What one location may give of each SKU (nothing when it holds none)."""
        found = self._at.get(location_id)
        if found is None:
            found = self._at[location_id] = self._at_row(location_id)
        return found

    def _at_row(self, location_id: str) -> Mapping[str, int]:
        row = self.index.position.get(location_id)
        i = None if row is None else row_in(self.columns.holders, row)
        if i is None:
            return {}
        return dict(zip(self.columns.skus, self.columns.available[i].tolist(), strict=True))

    def network_available(self) -> Mapping[str, int]:
        """Units of each SKU the whole network may give now."""
        if not self._totals:
            totals = self.columns.available.sum(axis=0).tolist()
            self._totals.append(dict(zip(self.columns.skus, totals, strict=True)))
        return self._totals[0]
