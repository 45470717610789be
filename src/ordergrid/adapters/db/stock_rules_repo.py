"""Stock rules and channel settings in SQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, delete, select

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.catalogue_repo import MetaCounters
from ordergrid.adapters.db.upsert import insert_ignore, upsert
from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.stock_rules import RuleKind, RuleScope, StockRule

R = t.stock_rules
C = t.channels
B = t.availability_bands


def _rule(r: Any) -> StockRule:
    scope = RuleScope(r.channel, r.location_id, r.location_type, r.sku, r.sku_tag)
    return StockRule(r.id, RuleKind(r.kind), scope, r.quantity, r.share)


def _channel(r: Any) -> ChannelSettings:
    return ChannelSettings(r.channel, tuple(r.availability_thresholds), r.pickup_radius_km)


T = TypeVar("T")
STOCK_RULES_VERSION = "stock_rules_version"
CHANNELS_VERSION = "channels_version"


class Versioned(Generic[T]):
    """A per-process copy of a small table, valid while the stored version it was read
    at is the current one."""

    def __init__(self, empty: T) -> None:
        self._lock = threading.Lock()
        self._state: tuple[int | None, T] = (None, empty)

    def get(self, version: int) -> T | None:
        with self._lock:
            cached_version, value = self._state
        return value if cached_version == version else None

    def put(self, version: int, value: T) -> None:
        with self._lock:
            self._state = (version, value)

    def read_through(self, version: int, changed: bool, load: Callable[[], T]) -> T:
        """The copy at `version`, loaded when missing. A transaction that `changed` the
        table has not committed it: what it sees is never cached."""
        value = None if changed else self.get(version)
        if value is None:
            value = load()
            if not changed:
                self.put(version, value)
        return value


class SettingsCache:
    """Per-process copies of the stock rules and the channel settings: both are few
    rows, read by every availability answer, promise and (the channels) every stock
    movement."""

    def __init__(self) -> None:
        self.rules: Versioned[tuple[StockRule, ...]] = Versioned(())
        self.channels: Versioned[tuple[ChannelSettings, ...]] = Versioned(())


class SqlStockRules:
    def __init__(
        self,
        conn: Connection,
        now: datetime,
        counters: MetaCounters | None = None,
        cache: SettingsCache | None = None,
    ) -> None:
        self.conn, self.now = conn, now
        self.counters = counters or MetaCounters(conn)
        self.cache = cache or SettingsCache()
        # Rules this transaction changed are not committed: never cache what it sees.
        self._changed = False

    def _bump(self) -> None:
        self.counters.bump(STOCK_RULES_VERSION)
        self._changed = True

    def put(self, rule: StockRule) -> bool:
        s = rule.scope
        row = {
            "id": rule.id,
            "kind": rule.kind.value,
            "channel": s.channel,
            "location_id": s.location_id,
            "location_type": s.location_type,
            "sku": s.sku,
            "sku_tag": s.sku_tag,
            "quantity": rule.quantity,
            "share": rule.share,
            "updated_at": self.now,
        }
        self._bump()
        if insert_ignore(self.conn, R, row, ["id"]):
            return True
        upsert(self.conn, R, [row], ["id"])
        return False

    def get(self, rule_id: str) -> StockRule | None:
        r = self.conn.execute(select(R).where(R.c.id == rule_id)).first()
        return None if r is None else _rule(r)

    def remove(self, rule_id: str) -> bool:
        removed = (
            self.conn.execute(delete(R).where(R.c.id == rule_id).returning(R.c.id)).first()
            is not None
        )
        if removed:
            self._bump()
        return removed

    def all(self) -> list[StockRule]:
        return [_rule(r) for r in self.conn.execute(select(R).order_by(R.c.id))]

    def covering(self, skus: Iterable[str]) -> list[StockRule]:
        version = self.counters.get(STOCK_RULES_VERSION)
        rules = self.cache.rules.read_through(version, self._changed, lambda: tuple(self.all()))
        wanted = set(skus)
        return [r for r in rules if r.scope.sku is None or r.scope.sku in wanted]


class SqlChannels:
    def __init__(
        self,
        conn: Connection,
        now: datetime,
        counters: MetaCounters | None = None,
        cache: SettingsCache | None = None,
    ) -> None:
        self.conn, self.now = conn, now
        self.counters = counters or MetaCounters(conn)
        self.cache = cache or SettingsCache()
        # Settings this transaction changed are not committed: never cache what it sees.
        self._changed = False

    def put(self, settings: ChannelSettings) -> bool:
        self.counters.bump(CHANNELS_VERSION)
        self._changed = True
        row = {
            "channel": settings.channel,
            "availability_thresholds": list(settings.availability_thresholds),
            "pickup_radius_km": settings.pickup_radius_km,
            "updated_at": self.now,
        }
        if insert_ignore(self.conn, C, row, ["channel"]):
            return True
        upsert(self.conn, C, [row], ["channel"])
        return False

    def get(self, channel: str) -> ChannelSettings | None:
        r = self.conn.execute(select(C).where(C.c.channel == channel)).first()
        return None if r is None else _channel(r)

    def all(self) -> list[ChannelSettings]:
        return [_channel(r) for r in self.conn.execute(select(C).order_by(C.c.channel))]

    def watched(self) -> list[ChannelSettings]:
        # Read for every stock movement: from the process's copy while it is current.
        version = self.counters.get(CHANNELS_VERSION)
        channels = self.cache.channels.read_through(
            version, self._changed, lambda: tuple(self.all())
        )
        return [c for c in channels if c.availability_thresholds]

    def bands(self, channel: str, skus: Iterable[str]) -> dict[str, int]:
        q = select(B.c.sku, B.c.band).where(B.c.channel == channel, B.c.sku.in_(sorted(set(skus))))
        return {r.sku: r.band for r in self.conn.execute(q)}

    def set_bands(self, channel: str, bands: dict[str, int]) -> None:
        rows = [{"channel": channel, "sku": sku, "band": b} for sku, b in sorted(bands.items())]
        upsert(self.conn, B, rows, ["channel", "sku"])
