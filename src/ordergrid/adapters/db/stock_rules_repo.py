"""Stock rules and channel settings in SQL."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

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


STOCK_RULES_VERSION = "stock_rules_version"
CHANNELS_VERSION = "channels_version"


class SettingsCache:
    """Per-process copies of the stock rules and the channel settings, each valid while
    its stored version matches: both are few rows, read by every availability answer,
    promise and (the channels) every stock movement."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: tuple[int | None, tuple[StockRule, ...]] = (None, ())
        self._channels: tuple[int | None, tuple[ChannelSettings, ...]] = (None, ())

    def rules(self, version: int) -> tuple[StockRule, ...] | None:
        with self._lock:
            cached_version, rules = self._rules
        return rules if cached_version == version else None

    def put_rules(self, version: int, rules: tuple[StockRule, ...]) -> None:
        with self._lock:
            self._rules = (version, rules)

    def channels(self, version: int) -> tuple[ChannelSettings, ...] | None:
        with self._lock:
            cached_version, channels = self._channels
        return channels if cached_version == version else None

    def put_channels(self, version: int, channels: tuple[ChannelSettings, ...]) -> None:
        with self._lock:
            self._channels = (version, channels)


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
        rules = None if self._changed else self.cache.rules(version)
        if rules is None:
            rules = tuple(self.all())
            if not self._changed:
                self.cache.put_rules(version, rules)
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
        channels = None if self._changed else self.cache.channels(version)
        if channels is None:
            channels = tuple(self.all())
            if not self._changed:
                self.cache.put_channels(version, channels)
        return [c for c in channels if c.availability_thresholds]

    def bands(self, channel: str, skus: Iterable[str]) -> dict[str, int]:
        q = select(B.c.sku, B.c.band).where(B.c.channel == channel, B.c.sku.in_(sorted(set(skus))))
        return {r.sku: r.band for r in self.conn.execute(q)}

    def set_bands(self, channel: str, bands: dict[str, int]) -> None:
        rows = [{"channel": channel, "sku": sku, "band": b} for sku, b in sorted(bands.items())]
        upsert(self.conn, B, rows, ["channel", "sku"])
