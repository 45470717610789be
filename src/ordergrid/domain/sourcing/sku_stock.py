"""One SKU's stock over the network as arrays, and positions read through them.

A read-only answer (a delivery promise, channel availability) looks at every location
holding the SKUs asked for: a thousand positions per SKU on a large network. Kept as
arrays, a SKU is laid out as the engine's columns by a few array operations instead of a
call per position, and positions are made only for the few locations a caller looks up.

`SkuStock` is immutable: a change makes a new one (`with_changes`), so one may be shared
by the readers of a process while a writer brings the process's copy up to date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from typing import Any
from weakref import ref

import numpy as np

from ordergrid.domain.inventory import Position
from ordergrid.domain.sourcing.network_index import IntArray, NetworkIndex

#: A position's fields after its SKU: location id, on-hand, reserved, safety stock, as of.
Row = tuple[str, int, int, int, datetime | None]


@dataclass(frozen=True, slots=True, eq=False)
class SkuStock:
    """The positions of one SKU at every location that has a row (in no set order)."""

    sku: str
    location_ids: tuple[str, ...]
    on_hand: IntArray
    reserved: IntArray
    safety_stock: IntArray
    as_of: tuple[datetime | None, ...]
    #: Worked out on first use and kept (each whole, then stored at once, as readers on
    #: other threads may look): the slot of each location id (shared by the versions
    #: that hold the same locations), the positions, and the engine's columns for the
    #: last network index asked for.
    _made: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of_columns(
        cls,
        sku: str,
        location_ids: Sequence[str],
        on_hand: Sequence[int],
        reserved: Sequence[int],
        safety_stock: Sequence[int],
        as_of: Sequence[datetime | None],
    ) -> SkuStock:
        return cls(
            sku,
            tuple(location_ids),
            np.array(on_hand, dtype=np.int64),
            np.array(reserved, dtype=np.int64),
            np.array(safety_stock, dtype=np.int64),
            tuple(as_of),
        )

    @classmethod
    def of_rows(cls, sku: str, rows: Sequence[Row]) -> SkuStock:
        """From rows, one per location."""
        if not rows:
            return cls.of_columns(sku, (), (), (), (), ())
        return cls.of_columns(sku, *zip(*rows, strict=True))

    @classmethod
    def of_positions(cls, sku: str, positions: Iterable[Position]) -> SkuStock:
        return cls.of_rows(
            sku,
            [
                (p.location_id, p.on_hand, p.reserved, p.safety_stock, p.snapshot_as_of)
                for p in positions
            ],
        )

    def __len__(self) -> int:
        return len(self.location_ids)

    def slots(self) -> dict[str, int]:
        """Each location id's place in the arrays."""
        made: dict[str, int] | None = self._made.get("slots")
        if made is None:
            made = {loc: i for i, loc in enumerate(self.location_ids)}
            self._made["slots"] = made
        return made

    def position(self, location_id: str) -> Position | None:
        i = self.slots().get(location_id)
        if i is None:
            return None
        return Position(
            self.location_ids[i],
            self.sku,
            int(self.on_hand[i]),
            int(self.reserved[i]),
            int(self.safety_stock[i]),
            self.as_of[i],
        )

    def positions(self) -> Mapping[str, Position]:
        """Every position, by location id: made on first use and kept, and carried over
        to the next version with only the changed ones new (order placement reads the
        positions of the SKUs it sources, and each order changes some of them)."""
        made: dict[str, Position] | None = self._made.get("positions")
        if made is None:
            made = self._made["positions"] = self._made_positions()
        return made

    def _made_positions(self) -> dict[str, Position]:
        sku = self.sku
        return {
            loc: Position(loc, sku, on_hand, reserved, safety, as_of)
            for loc, on_hand, reserved, safety, as_of in zip(
                self.location_ids,
                self.on_hand.tolist(),
                self.reserved.tolist(),
                self.safety_stock.tolist(),
                self.as_of,
                strict=True,
            )
        }

    def columns(self, index: NetworkIndex) -> tuple[IntArray, IntArray]:
        """The engine's column of this SKU: the index rows of the locations that hold it
        on hand (in `location_ids` order, not sorted), and what each may give (available,
        never below 0). Kept for the last index asked for, which is referred to weakly:
        a SKU not read since the network changed must not keep the old network alive."""
        made = self._made.get("columns")
        if made is not None and made[0]() is index:
            return made[1], made[2]
        rows = self._index_rows(index)
        held = (rows >= 0) & (self.on_hand > 0)
        available = np.maximum(self.on_hand - self.reserved - self.safety_stock, 0)
        self._made["columns"] = found = (ref(index), rows[held], available[held])
        return found[1], found[2]

    def _index_rows(self, index: NetworkIndex) -> IntArray:
        """Each location's row in the index (-1: not in it), kept for the last index
        asked for and shared by the versions that hold the same locations: a change of
        stock then lays out its column without a lookup per location."""
        made = self._made.get("index_rows")
        if made is not None and made[0]() is index:
            found: IntArray = made[1]
            return found
        n = len(self.location_ids)
        rows = np.fromiter(map(index.position.get, self.location_ids, repeat(-1, n)), np.int64, n)
        rows.flags.writeable = False
        self._made["index_rows"] = (ref(index), rows)
        return rows

    def free_at(self) -> frozenset[str]:
        """The locations where some of the SKU is available."""
        free = (self.on_hand - self.reserved - self.safety_stock > 0).nonzero()[0]
        return frozenset(self.location_ids[i] for i in free.tolist())

    def with_changes(self, changes: Mapping[str, Position | None]) -> SkuStock:
        """A new version with these positions changed (None: the row is gone)."""
        slots = self.slots()
        if all(p is not None and loc in slots for loc, p in changes.items()):
            # Values changed at locations already held: copies of the arrays, and the
            # slots (which only depend on the locations) shared.
            on_hand, reserved = self.on_hand.copy(), self.reserved.copy()
            safety, as_of = self.safety_stock.copy(), list(self.as_of)
            for loc, p in changes.items():
                assert p is not None
                i = slots[loc]
                on_hand[i], reserved[i], safety[i] = p.on_hand, p.reserved, p.safety_stock
                as_of[i] = p.snapshot_as_of
            made: dict[str, Any] = {"slots": slots}
            if "index_rows" in self._made:
                made["index_rows"] = self._made["index_rows"]
            if "positions" in self._made:
                made["positions"] = self._changed_positions(changes)
            return SkuStock(
                self.sku, self.location_ids, on_hand, reserved, safety, tuple(as_of), made
            )
        return SkuStock.of_positions(self.sku, self._changed_positions(changes).values())

    def _changed_positions(self, changes: Mapping[str, Position | None]) -> dict[str, Position]:
        kept = dict(self.positions())
        for loc, p in changes.items():
            if p is None:
                kept.pop(loc, None)
            else:
                kept[loc] = p
        return kept


class PositionsBySku(Mapping[tuple[str, str], Position]):
    """Positions by (location id, SKU), read through each SKU's `SkuStock`: a position is
    made when it is looked up, and the engine lays the SKUs out from their arrays."""

    __slots__ = ("by_sku",)

    def __init__(self, by_sku: Mapping[str, SkuStock]) -> None:
        self.by_sku = by_sku

    def __getitem__(self, key: tuple[str, str]) -> Position:
        stock = self.by_sku.get(key[1])
        found = None if stock is None else stock.position(key[0])
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        stock = self.by_sku.get(key[1])
        return stock is not None and key[0] in stock.slots()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for sku, stock in self.by_sku.items():
            for loc in stock.location_ids:
                yield loc, sku

    def __len__(self) -> int:
        return sum(len(stock) for stock in self.by_sku.values())

    def skus(self) -> frozenset[str]:
        """The SKUs with at least one position."""
        return frozenset(sku for sku, stock in self.by_sku.items() if len(stock))
