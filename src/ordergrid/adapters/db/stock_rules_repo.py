"""Stock rules and channel settings in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, or_, select

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.upsert import insert_ignore, upsert
from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.stock_rules import RuleKind, RuleScope, StockRule

R = t.stock_rules
C = t.channels
B = t.availability_bands
#: Every placement reads the rules covering its SKUs: built once.
_COVERING = (
    select(R)
    .where(or_(R.c.sku.is_(None), R.c.sku.in_(bindparam("b_skus", expanding=True))))
    .order_by(R.c.id)
)


def _rule(r: Any) -> StockRule:
    scope = RuleScope(r.channel, r.location_id, r.location_type, r.sku, r.sku_tag)
    return StockRule(r.id, RuleKind(r.kind), scope, r.quantity, r.share)


def _channel(r: Any) -> ChannelSettings:
    return ChannelSettings(r.channel, tuple(r.availability_thresholds), r.pickup_radius_km)


class SqlStockRules:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

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
        if insert_ignore(self.conn, R, row, ["id"]):
            return True
        upsert(self.conn, R, [row], ["id"])
        return False

    def get(self, rule_id: str) -> StockRule | None:
        r = self.conn.execute(select(R).where(R.c.id == rule_id)).first()
        return None if r is None else _rule(r)

    def remove(self, rule_id: str) -> bool:
        return (
            self.conn.execute(delete(R).where(R.c.id == rule_id).returning(R.c.id)).first()
            is not None
        )

    def all(self) -> list[StockRule]:
        return [_rule(r) for r in self.conn.execute(select(R).order_by(R.c.id))]

    def covering(self, skus: Iterable[str]) -> list[StockRule]:
        rows = self.conn.execute(_COVERING, {"b_skus": sorted(set(skus))})
        return [_rule(r) for r in rows]


class SqlChannels:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn, self.now = conn, now

    def put(self, settings: ChannelSettings) -> bool:
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
        return [c for c in self.all() if c.availability_thresholds]

    def bands(self, channel: str, skus: Iterable[str]) -> dict[str, int]:
        q = select(B.c.sku, B.c.band).where(B.c.channel == channel, B.c.sku.in_(sorted(set(skus))))
        return {r.sku: r.band for r in self.conn.execute(q)}

    def set_bands(self, channel: str, bands: dict[str, int]) -> None:
        rows = [{"channel": channel, "sku": sku, "band": b} for sku, b in sorted(bands.items())]
        upsert(self.conn, B, rows, ["channel", "sku"])
