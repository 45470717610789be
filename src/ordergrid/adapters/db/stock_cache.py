"""A per-process copy of stock positions for answers that only read, kept current from
the ledger.

Every change of on-hand or reserved writes a ledger row in the transaction that makes it
(feeds and snapshots in `service/inventory.py`, reservations, cart holds, releases and
shipments through `service/stock.py`, corrections in `service/reallocation.py`). So
before answering, a reader asks the ledger which positions changed since the cache was
last brought up to date and re-reads only those rows; a SKU not cached yet is read whole
on first use. Each SKU is kept as a `SkuStock` (arrays, replaced whole when a position
changes), which readers keep using after they let go of the cache's lock.

What "since" means depends on the database:

- SQLite has one writer at a time, so ledger ids become visible in increasing order: the
  mark is the highest id seen. A reader whose snapshot is older than the mark (another
  thread brought the cache further) reads the database directly.
- PostgreSQL hands out ids before commit, so a smaller id can commit after a larger one
  was seen. Each ledger row carries the id of the transaction that wrote it; the mark is
  the transaction horizon (every transaction below it had ended when it was taken), and a
  refresh re-reads the positions of every row written at or above the previous horizon.
  The horizon is server-wide: a long transaction anywhere makes refreshes re-read more
  rows (never fewer). Readers run in READ COMMITTED, so each statement under the cache's
  lock sees at least what the previous one saw.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Text, bindparam, cast, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by

from ordergrid.adapters.db import position_rows
from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.catalogue_repo import MetaCounters
from ordergrid.adapters.db.driver import sqlite_rows
from ordergrid.adapters.db.tables import utc
from ordergrid.domain.inventory import Position
from ordergrid.domain.sourcing.sku_stock import SkuStock

P = t.positions
L = t.ledger
_COLUMNS = position_rows.COLUMNS
#: On SQLite the positions changed since the mark and their rows (NULL: gone) in one
#: statement on the driver: the changed keys, then each looked up by primary key.
_CHANGED_ROWS_SQLITE = (
    "SELECT k.location_id, k.sku, p.on_hand, p.reserved, p.safety_stock, p.snapshot_as_of "
    "FROM (SELECT DISTINCT location_id, sku FROM ledger WHERE id > ? AND id <= ? LIMIT ?) AS k "
    "LEFT JOIN positions AS p ON p.location_id = k.location_id AND p.sku = k.sku"
)
_HORIZON = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
_CHANGED_BY_TXID = (
    select(L.c.location_id, L.c.sku)
    .where(L.c.txid >= bindparam("mark"))
    .distinct()
    .limit(bindparam("most"))
)
_OF_SKUS = select(*_COLUMNS).where(P.c.sku.in_(bindparam("skus", expanding=True)))
#: Each SKU's positions as columns: one row per SKU holding a JSON array per field, in
#: one order (the same rows feed every aggregate of a group). Rows as rows cost a Python
#: object each, and a SKU held network-wide has a row per store; one JSON text per field
#: is parsed in C.
_FIELDS = (P.c.location_id, P.c.on_hand, P.c.reserved, P.c.safety_stock, P.c.snapshot_as_of)
#: On SQLite the SKUs go in as one JSON array: one SQL text whatever their number, run
#: on the driver (see `driver`).
_SKU_COLUMNS_SQLITE = (
    "SELECT sku, json_group_array(location_id), json_group_array(on_hand), "
    "json_group_array(reserved), json_group_array(safety_stock), "
    "json_group_array(snapshot_as_of) FROM positions "
    "WHERE sku IN (SELECT value FROM json_each(?)) GROUP BY sku"
)
_SKU_COLUMNS_POSTGRES = (
    select(
        P.c.sku,
        *(cast(func.json_agg(aggregate_order_by(c, P.c.location_id)), Text) for c in _FIELDS),
    )
    .where(P.c.sku.in_(bindparam("skus", expanding=True)))
    .group_by(P.c.sku)
)
_POSITIONS = select(func.count()).select_from(P)
_NEXT_SKUS = (
    select(P.c.sku)
    .where(P.c.sku > bindparam("after"))
    .group_by(P.c.sku)
    .order_by(P.c.sku)
    .limit(bindparam("count"))
)
#: Positions re-read per statement when many changed at once.
_CHUNK = 500

Key = tuple[str, str]


def _stored_time(text: str) -> datetime:
    """A timestamp as JSON gives it (SQLite: as stored, UTC without an offset;
    PostgreSQL: ISO 8601 with one) made what `UtcDateTime` returns."""
    return utc(datetime.fromisoformat(text))


class StockCache:
    """Positions per SKU (each SKU whole: every location that has a row), most recently
    used last, about `max_positions` of them (the SKUs of one read are kept even when
    they hold more); shared by the process's units of work. 0 keeps nothing.

    Each SKU's `SkuStock` is immutable and replaced when it changes, so readers take
    them under the lock and use them after it is released."""

    def __init__(self, max_positions: int = 1_000_000, max_changes: int = 20_000) -> None:
        self.lock = threading.Lock()
        self.max_positions = max_positions
        #: More changed positions than this since the last read (a network snapshot, a
        #: bulk import): start afresh rather than re-read them one by one.
        self.max_changes = max_changes
        self.mark: int | None = None
        self.skus: OrderedDict[str, SkuStock] = OrderedDict()
        self.size = 0  # positions held
        #: The one string of each location id and SKU the cached positions share.
        self.ids: dict[str, str] = {}

    def add(self, stock: SkuStock) -> None:
        self.skus[stock.sku] = stock
        self.size += len(stock)

    def change(self, sku: str, changes: dict[str, Position | None]) -> None:
        """Replace the SKU's stock with these positions changed (None: gone)."""
        old = self.skus[sku]
        self.skus[sku] = new = old.with_changes(changes)
        self.size += len(new) - len(old)

    def clear(self) -> None:
        self.skus.clear()
        self.ids.clear()
        self.size = 0

    def evict(self, keep: int) -> None:
        """Drop the least recently used SKUs beyond the limit, never the last `keep`."""
        while self.size > self.max_positions and len(self.skus) > keep:
            sku, stock = self.skus.popitem(last=False)
            self.ids.pop(sku, None)
            self.size -= len(stock)


class SqlStockReads:
    """Positions for one transaction: from the process's cache until the transaction
    changes stock itself, from the database after that (the cache holds only what is
    committed, and must never take in what this transaction may still roll back)."""

    def __init__(self, conn: Connection, cache: StockCache, counters: MetaCounters) -> None:
        self.conn, self.cache, self.counters = conn, cache, counters
        self.postgres = conn.dialect.name == "postgresql"
        #: Set by the repositories that change positions in this transaction.
        self.changed_stock = False

    def positions(self, skus: Iterable[str]) -> list[Position]:
        wanted = sorted(set(skus))
        if not wanted:
            return []
        held = self._held(wanted)
        if held is None:
            return self._read(wanted)
        return [p for sku in wanted for p in held[sku].positions().values()]

    def by_sku(self, skus: Iterable[str]) -> dict[str, SkuStock]:
        wanted = sorted(set(skus))
        held = self._held(wanted) if wanted else {}
        if held is not None:
            return held
        rows: dict[str, list[Position]] = defaultdict(list)
        for p in self._read(wanted):
            rows[p.sku].append(p)
        return {sku: SkuStock.of_positions(sku, rows[sku]) for sku in wanted}

    def warm(self, after: str | None, count: int) -> list[str]:
        """Read the next `count` SKUs holding positions (in SKU order, after `after`)
        whole into the cache; the SKUs read, none when there are no more, or when the
        cache cannot hold every position (it then fills with what is asked for)."""
        cache = self.cache
        if not cache.max_positions or self.changed_stock:
            return []
        if after is None and self.conn.execute(_POSITIONS).scalar_one() > cache.max_positions:
            return []
        skus = list(self.conn.execute(_NEXT_SKUS, {"after": after or "", "count": count}).scalars())
        with cache.lock:
            if not self._catch_up():
                return []
            self._load([sku for sku in skus if sku not in cache.skus])
            cache.evict(keep=0)
        return skus

    def _held(self, wanted: list[str]) -> dict[str, SkuStock] | None:
        """The cached stock of these SKUs, brought up to date; None when the cache may not
        answer this transaction (see the class)."""
        cache = self.cache
        if not cache.max_positions or self.changed_stock:
            return None
        with cache.lock:
            if not self._catch_up():
                return None
            missing = [sku for sku in wanted if sku not in cache.skus]
            self._load(missing)
            held = {}
            for sku in wanted:
                cache.skus.move_to_end(sku)
                held[sku] = cache.skus[sku]
            if missing:
                cache.evict(keep=len(wanted))
        return held

    def _catch_up(self) -> bool:
        """Bring the cache to what this transaction sees; False when it sees less than
        the cache already holds."""
        return self._catch_up_by_txid() if self.postgres else self._catch_up_by_id()

    def _catch_up_by_id(self) -> bool:
        cache = self.cache
        top = self.counters.ledger_top()
        if cache.mark is None or not cache.skus:
            cache.mark = top
            return True
        if top < cache.mark:
            return False
        if top > cache.mark:
            params = (cache.mark, top, cache.max_changes + 1)
            rows = sqlite_rows(self.conn, _CHANGED_ROWS_SQLITE, params)
            if len(rows) > cache.max_changes:
                cache.clear()
            else:
                self._take(rows)
            cache.mark = top
        return True

    def _take(self, rows: Sequence[Any]) -> None:
        """Changed positions as read (a row of NULLs past the key: the position is gone),
        into the SKUs the cache holds."""
        changes: dict[str, dict[str, Position | None]] = defaultdict(dict)
        for loc, sku, on_hand, reserved, safety, as_of in rows:
            if sku not in self.cache.skus:
                continue
            if on_hand is None:
                changes[sku][loc] = None
            else:
                stored = None if as_of is None else _stored_time(as_of)
                changes[sku][loc] = self._kept((loc, sku, on_hand, reserved, safety, stored))
        for sku, at_locations in changes.items():
            self.cache.change(sku, at_locations)

    def _catch_up_by_txid(self) -> bool:
        cache = self.cache
        horizon = int(self.conn.execute(_HORIZON).scalar_one())
        if cache.mark is not None and cache.skus:
            params = {"mark": cache.mark, "most": cache.max_changes + 1}
            self._refresh(self._changed(_CHANGED_BY_TXID, params))
        cache.mark = horizon
        return True

    def _changed(self, query: Select[Any], params: dict[str, int]) -> list[Key] | None:
        """The positions changed since the mark; None when there are too many."""
        changed = [(r.location_id, r.sku) for r in self.conn.execute(query, params)]
        return None if len(changed) > self.cache.max_changes else changed

    def _refresh(self, changed: Sequence[Key] | None) -> None:
        """Re-read the changed positions of cached SKUs (all of them: `None`)."""
        if changed is None:
            self.cache.clear()
            return
        keys = sorted({key for key in changed if key[1] in self.cache.skus})
        at = tuple_(P.c.location_id, P.c.sku)
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            rows = self.conn.execute(select(*_COLUMNS).where(at.in_(chunk)))
            fresh = {(r.location_id, r.sku): self._kept(r) for r in rows}
            changes: dict[str, dict[str, Position | None]] = defaultdict(dict)
            for loc, sku in chunk:
                changes[sku][loc] = fresh.get((loc, sku))
            for sku, at_locations in changes.items():
                self.cache.change(sku, at_locations)

    def _load(self, skus: list[str]) -> None:
        """Read these SKUs whole into the cache."""
        if not skus:
            return
        cache, ids = self.cache, self.cache.ids
        if self.postgres:
            rows = self.conn.execute(_SKU_COLUMNS_POSTGRES, {"skus": skus}).all()
        else:
            rows = sqlite_rows(self.conn, _SKU_COLUMNS_SQLITE, (json.dumps(skus),))
        loaded = dict.fromkeys(skus, False)
        for sku, locs, on_hand, reserved, safety, as_of in rows:
            # One string per location id, shared by every SKU (a parser makes new ones).
            held = [ids.setdefault(loc, loc) for loc in json.loads(locs)]
            dates = json.loads(as_of)
            if any(dates):
                dates = [None if d is None else _stored_time(d) for d in dates]
            cache.add(
                SkuStock.of_columns(
                    ids.setdefault(sku, sku),
                    held,
                    json.loads(on_hand),
                    json.loads(reserved),
                    json.loads(safety),
                    dates,
                )
            )
            loaded[sku] = True
        for sku, found in loaded.items():
            if not found:
                cache.add(SkuStock.of_columns(ids.setdefault(sku, sku), (), (), (), (), ()))

    def _kept(self, row: Any) -> Position:
        """A row as the cache keeps it: with the one string of its location id and of its
        SKU that every position of the cache shares (a driver hands out new strings per
        row, and those strings were a third of the cache's memory)."""
        loc, sku, on_hand, reserved, safety, as_of = row
        ids = self.cache.ids
        loc, sku = ids.setdefault(loc, loc), ids.setdefault(sku, sku)
        return Position(loc, sku, on_hand, reserved, safety, None if as_of is None else utc(as_of))

    def _read(self, skus: list[str]) -> list[Position]:
        # All rows at once, then every position in one pass: a SKU held network-wide has
        # a row per store, and calls made per row add up.
        return position_rows.positions(self.conn.execute(_OF_SKUS, {"skus": skus}).all())
