"""Stock positions with conditional reservations, and the inventory ledger.

Hot statements are built once with bind parameters: building SQLAlchemy expressions per
call costs more than executing them on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, case, func, select, text, update

from ordergrid.adapters.db import position_rows
from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.driver import write
from ordergrid.adapters.db.stock_cache import SqlStockReads
from ordergrid.adapters.db.upsert import insert_ignore
from ordergrid.domain.inventory import PHYSICAL, Movement, Position
from ordergrid.service.ports import LedgerEntry, LedgerFilter

P = t.positions
L = t.ledger
_TXID = text("pg_current_xact_id()::text::bigint")
#: Built once per dialect: every stock movement writes the ledger.
_RECORD = {True: L.insert().values(txid=_TXID), False: L.insert().values(txid=0)}
_COLUMNS = position_rows.COLUMNS
_AT = and_(P.c.location_id == bindparam("loc"), P.c.sku == bindparam("b_sku"))

_SELECT_ONE = select(*_COLUMNS).where(_AT)
#: The holders of some SKUs: read by every placement, built once.
_OF_SKUS = select(*_COLUMNS).where(P.c.sku.in_(bindparam("b_skus", expanding=True)))
# The condition is evaluated on the row as locked by this UPDATE, so concurrent
# reservations can never drive `available` below zero.
_RESERVE = (
    update(P)
    .where(_AT)
    .where(P.c.on_hand - P.c.reserved - P.c.safety_stock - bindparam("keep") >= bindparam("q"))
    .values(reserved=P.c.reserved + bindparam("q"))
    .returning(*_COLUMNS)
)
_MOVE = (
    update(P)
    .where(_AT)
    .where(P.c.on_hand + bindparam("d") >= 0)
    .values(on_hand=P.c.on_hand + bindparam("d"), reserved=P.c.reserved + bindparam("r"))
    .returning(*_COLUMNS)
)
_MOVE_CLAMPED = (
    update(P)
    .where(_AT)
    .values(
        on_hand=case((P.c.on_hand + bindparam("d") < 0, 0), else_=P.c.on_hand + bindparam("d")),
        reserved=P.c.reserved + bindparam("r"),
    )
    .returning(*_COLUMNS)
)
_SET_ON_HAND = (
    update(P)
    .where(_AT)
    .values(on_hand=bindparam("b_on_hand"), snapshot_as_of=bindparam("as_of"))
    .returning(*_COLUMNS)
)
_PHYSICAL_SINCE = select(func.coalesce(func.sum(L.c.on_hand_delta), 0)).where(
    L.c.location_id == bindparam("loc"),
    L.c.sku == bindparam("b_sku"),
    L.c.at > bindparam("since"),
    L.c.reason.in_(sorted(r.value for r in PHYSICAL)),
)


_position = position_rows.position


class SqlInventory:
    def __init__(self, conn: Connection, reads: SqlStockReads | None = None) -> None:
        self.conn = conn
        # Sourcing reads the positions of every holder of an order's SKUs before it
        # reserves anything: the process's cache answers that with the rows changed since
        # its last read instead of every row. Reservations stay conditional updates, so a
        # position that moved in between is caught where the units are taken.
        self.reads = reads

    def positions(self, skus: Iterable[str]) -> list[Position]:
        if self.reads is not None:
            return self.reads.positions(skus)
        wanted = sorted(set(skus))
        if not wanted:
            return []
        rows = self.conn.execute(_OF_SKUS, {"b_skus": wanted})
        return [_position(r) for r in rows]

    def _changing(self) -> None:
        if self.reads is not None:
            self.reads.changed_stock = True

    def position(self, location_id: str, sku: str) -> Position | None:
        r = self.conn.execute(_SELECT_ONE, {"loc": location_id, "b_sku": sku}).first()
        return None if r is None else _position(r)

    def lock(self, location_id: str, skus: Iterable[str]) -> None:
        if self.conn.dialect.name != "postgresql":
            return  # SQLite transactions that write already hold the database's lock
        wanted = sorted(set(skus))
        self.conn.execute(
            select(P.c.sku)
            .where(P.c.location_id == location_id, P.c.sku.in_(wanted))
            .order_by(P.c.sku)
            .with_for_update()
        ).all()

    def positions_at(self, location_id: str) -> list[Position]:
        rows = self.conn.execute(
            select(*_COLUMNS).where(P.c.location_id == location_id).order_by(P.c.sku)
        )
        return [_position(r) for r in rows]

    def skus_available_at(self, location_id: str) -> list[str]:
        rows = self.conn.execute(
            select(P.c.sku)
            .where(
                P.c.location_id == location_id,
                P.c.on_hand - P.c.reserved - P.c.safety_stock > 0,
            )
            .order_by(P.c.sku)
        )
        return [r.sku for r in rows]

    def reserve(self, location_id: str, sku: str, quantity: int, keep: int = 0) -> Position | None:
        self._changing()
        params = {"loc": location_id, "b_sku": sku, "q": quantity, "keep": keep}
        r = self.conn.execute(_RESERVE, params).first()
        return None if r is None else _position(r)

    def move(self, movement: Movement, clamp: bool = False) -> Position | None:
        self._changing()
        m = movement
        params = {"loc": m.location_id, "b_sku": m.sku, "d": m.on_hand_delta, "r": m.reserved_delta}
        r = self.conn.execute(_MOVE_CLAMPED if clamp else _MOVE, params).first()
        if r is not None:
            return _position(r)
        held = self.position(m.location_id, m.sku)
        if held is not None:
            if not clamp and held.on_hand + m.on_hand_delta < 0:
                return None  # refused: on-hand would go negative
            # PostgreSQL: the row was committed by another writer after the update's
            # snapshot was taken, so the update did not see it; this statement does.
            return self.move(m, clamp)
        if m.on_hand_delta < 0 and not clamp:
            return None
        on_hand = max(0, m.on_hand_delta)
        row = {
            "location_id": m.location_id,
            "sku": m.sku,
            "on_hand": on_hand,
            "reserved": m.reserved_delta,
            "safety_stock": 0,
        }
        if insert_ignore(self.conn, P, row, ["location_id", "sku"]):
            return Position(m.location_id, m.sku, on_hand, m.reserved_delta)
        return self.move(m, clamp)  # another writer created it first

    def set_on_hand(self, location_id: str, sku: str, on_hand: int, as_of: datetime) -> Position:
        self._changing()
        params = {"loc": location_id, "b_sku": sku, "b_on_hand": on_hand, "as_of": as_of}
        r = self.conn.execute(_SET_ON_HAND, params).first()
        if r is not None:
            return _position(r)
        row = {
            "location_id": location_id,
            "sku": sku,
            "on_hand": on_hand,
            "reserved": 0,
            "safety_stock": 0,
            "snapshot_as_of": as_of,
        }
        if insert_ignore(self.conn, P, row, ["location_id", "sku"]):
            return Position(location_id, sku, on_hand, 0, 0, as_of)
        return self.set_on_hand(location_id, sku, on_hand, as_of)

    def physical_since(self, location_id: str, sku: str, since: datetime) -> int:
        total = self.conn.execute(
            _PHYSICAL_SINCE, {"loc": location_id, "b_sku": sku, "since": since}
        ).scalar()
        return int(total or 0)

    def ledger(self, flt: LedgerFilter, limit: int, after: int | None) -> list[LedgerEntry]:
        q = select(L).where(L.c.sku == flt.sku).order_by(L.c.id).limit(limit)
        if flt.location_id is not None:
            q = q.where(L.c.location_id == flt.location_id)
        if flt.since is not None:
            q = q.where(L.c.at >= flt.since)
        if flt.until is not None:
            q = q.where(L.c.at < flt.until)
        if after is not None:
            q = q.where(L.c.id > after)
        return [
            LedgerEntry(
                r.location_id,
                r.sku,
                r.at,
                r.on_hand_delta,
                r.reserved_delta,
                r.on_hand_after,
                r.reserved_after,
                r.reason,
                r.ref,
                r.actor,
                dict(r.details or {}),
                int(r.id),
            )
            for r in self.conn.execute(q)
        ]

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        if not entries:
            return
        self._changing()
        write(
            self.conn,
            _RECORD[self.conn.dialect.name == "postgresql"],
            [
                {
                    "location_id": e.location_id,
                    "sku": e.sku,
                    "at": e.at,
                    "on_hand_delta": e.on_hand_delta,
                    "reserved_delta": e.reserved_delta,
                    "on_hand_after": e.on_hand_after,
                    "reserved_after": e.reserved_after,
                    "reason": e.reason,
                    "ref": e.ref,
                    "actor": e.actor,
                    "details": e.details or None,
                }
                for e in entries
            ],
        )

    def claim_adjustment(self, adjustment_id: str, at: datetime) -> bool:
        return insert_ignore(
            self.conn, t.applied_adjustments, {"id": adjustment_id, "applied_at": at}, ["id"]
        )
