"""Locations (cached per process, invalidated by a network version) and products."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from ordergrid.adapters.db import json_codec
from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.documents import location_doc, location_from
from ordergrid.adapters.db.driver import sqlite_rows
from ordergrid.adapters.db.upsert import insert_ignore, upsert
from ordergrid.domain.catalogue import Product
from ordergrid.domain.network import Location
from ordergrid.service.ports import Page

NETWORK_VERSION = "network_version"


def bump_version(conn: Connection, key: str) -> None:
    """Move a counter in `meta` so per-process caches know to reload."""
    bumped = conn.execute(
        update(t.meta).where(t.meta.c.key == key).values(value=t.meta.c.value + 1)
    ).rowcount
    if not bumped:
        insert_ignore(conn, t.meta, {"key": key, "value": 1}, ["key"])


CATALOGUE_VERSION = "catalogue_version"
_TAGS = select(t.products.c.sku, t.products.c.tags).where(
    t.products.c.sku.in_(bindparam("b_skus", expanding=True))
)
#: The SKUs as one JSON array: one SQL text whatever their number.
_TAGS_SQLITE = "SELECT sku, tags FROM products WHERE sku IN (SELECT value FROM json_each(?))"

_COUNTERS = select(t.meta.c.key, t.meta.c.value)
#: Not a `meta` key: the ledger's highest id, read with the counters on SQLite.
LEDGER_TOP = "ledger.top"
_COUNTERS_AND_LEDGER_TOP_SQLITE = (
    "SELECT key, value FROM meta UNION ALL SELECT ?, coalesce(max(id), 0) FROM ledger"
)


class MetaCounters:
    """The `meta` counters, read once per transaction (one query for every cache).

    On SQLite the same statement reads the ledger's highest id, which the stock cache
    checks before every read: one statement fewer per transaction, and both from the
    transaction's one snapshot (SQLite keeps it from the first read on)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._values: dict[str, int] | None = None

    def get(self, key: str) -> int:
        if self._values is None:
            rows: Iterable[Any] = (
                sqlite_rows(self.conn, _COUNTERS_AND_LEDGER_TOP_SQLITE, (LEDGER_TOP,))
                if self.sqlite
                else self.conn.execute(_COUNTERS)
            )
            self._values = {str(k): int(v) for k, v in rows}
        return self._values.get(key, 0)

    def ledger_top(self) -> int:
        """The ledger's highest id as this transaction sees it (SQLite only)."""
        assert self.sqlite
        return self.get(LEDGER_TOP)

    def bump(self, key: str) -> None:
        bump_version(self.conn, key)
        self._values = None


class ProductTagCache:
    """Per-process tags of the SKUs seen so far, emptied when the catalogue changes."""

    def __init__(self) -> None:
        self.state: tuple[int | None, dict[str, frozenset[str]]] = (None, {})


class LocationCache:
    """Per-process copy of the network, valid while the stored network version matches.

    Every process reads the version in the same transaction as the rest of its work, so
    a change made by another process is seen at the next transaction.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._locations: dict[str, Location] = {}

    def get(self, version: int) -> dict[str, Location] | None:
        with self._lock:
            return self._locations if version == self._version else None

    def put(self, version: int, locations: dict[str, Location]) -> None:
        with self._lock:
            self._version, self._locations = version, locations


class SqlLocations:
    def __init__(
        self, conn: Connection, cache: LocationCache, counters: MetaCounters, now: datetime
    ) -> None:
        self.conn, self.cache, self.counters, self.now = conn, cache, counters, now
        self._seen: dict[str, Location] | None = None  # valid for this transaction

    def _version(self) -> int:
        return self.counters.get(NETWORK_VERSION)

    def _all(self) -> dict[str, Location]:
        if self._seen is not None:
            return self._seen
        version = self._version()
        cached = self.cache.get(version)
        if cached is None:
            rows = self.conn.execute(select(t.locations).order_by(t.locations.c.id)).all()
            cached = {r.id: location_from(r.id, r.name, r.type, r.status, r.doc) for r in rows}
            self.cache.put(version, cached)
        self._seen = cached
        return cached

    def get(self, location_id: str) -> Location | None:
        return self._all().get(location_id)

    def all(self) -> list[Location]:
        return list(self._all().values())

    def by_id(self) -> Mapping[str, Location]:
        # The process's cached mapping itself: the same object until the network
        # changes, which lets engines keep one index per network version.
        return self._all()

    def put(self, location: Location) -> bool:
        exists = self.conn.execute(
            select(t.locations.c.id).where(t.locations.c.id == location.id)
        ).first()
        row = {
            "id": location.id,
            "name": location.name,
            "type": location.type.value,
            "status": location.status.value,
            "doc": location_doc(location),
            "updated_at": self.now,
        }
        upsert(self.conn, t.locations, [row], ["id"])
        self.counters.bump(NETWORK_VERSION)
        self._seen = None
        return exists is None


def _product(r: Any) -> Product:
    return Product(r.sku, r.name, r.weight_kg, frozenset(r.tags), dict(r.attributes))


class SqlProducts:
    def __init__(
        self, conn: Connection, cache: ProductTagCache, counters: MetaCounters, now: datetime
    ) -> None:
        self.conn, self.cache, self.counters, self.now = conn, cache, counters, now
        self.sqlite = conn.dialect.name == "sqlite"
        self._changed = False  # the catalogue counter moves once per transaction

    def get(self, sku: str) -> Product | None:
        r = self.conn.execute(select(t.products).where(t.products.c.sku == sku)).first()
        return None if r is None else _product(r)

    def put(self, product: Product) -> bool:
        exists = self.conn.execute(
            select(t.products.c.sku).where(t.products.c.sku == product.sku)
        ).first()
        upsert(
            self.conn,
            t.products,
            [
                {
                    "sku": product.sku,
                    "name": product.name,
                    "weight_kg": product.weight_kg,
                    "tags": sorted(product.tags),
                    "attributes": product.attributes,
                    "updated_at": self.now,
                }
            ],
            ["sku"],
        )
        if not self._changed:
            self.counters.bump(CATALOGUE_VERSION)
            self._changed = True
        return exists is None

    def known(self, skus: Iterable[str]) -> set[str]:
        # Products are never deleted, and the tag cache holds only SKUs read from the
        # table under the current catalogue version: the SKUs it finds are the known ones.
        return set(self.tags(skus))

    def tags(self, skus: Iterable[str]) -> dict[str, frozenset[str]]:
        wanted = set(skus)
        if self._changed:
            # Not committed yet, and it may never be: kept out of the shared cache, which
            # would otherwise hold it under a version another transaction may reuse.
            return self._read_tags(wanted)
        version = self.counters.get(CATALOGUE_VERSION)
        cached_version, cached = self.cache.state
        if cached_version != version:
            cached = {}
            self.cache.state = (version, cached)
        # Not `wanted - cached.keys()`: that walks every key the cache holds.
        missing = {sku for sku in wanted if sku not in cached}
        if missing:
            cached.update(self._read_tags(missing))
        return {sku: cached[sku] for sku in wanted if sku in cached}

    def _read_tags(self, skus: set[str]) -> dict[str, frozenset[str]]:
        if not skus:
            return {}
        if self.sqlite:
            found = sqlite_rows(self.conn, _TAGS_SQLITE, (json_codec.dumps(sorted(skus)),))
            return {sku: frozenset(json_codec.loads(tags)) for sku, tags in found}
        rows = self.conn.execute(_TAGS, {"b_skus": sorted(skus)})
        return {r.sku: frozenset(r.tags) for r in rows}

    def page(self, limit: int, cursor: str | None) -> Page[Product]:
        q = select(t.products).order_by(t.products.c.sku).limit(limit + 1)
        if cursor is not None:
            q = q.where(t.products.c.sku > cursor)
        rows = self.conn.execute(q).all()
        items = [_product(r) for r in rows[:limit]]
        return Page(items, items[-1].sku if len(rows) > limit else None)
