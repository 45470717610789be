"""Orders stored whole as a document, with index tables for the queries that need them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, tuple_, update

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.documents import order_doc, order_from
from ordergrid.adapters.db.driver import write
from ordergrid.adapters.db.outbox_repo import SqlOutbox
from ordergrid.adapters.db.upsert import upsert
from ordergrid.domain.fulfilments import Fulfilment
from ordergrid.domain.orders import Order
from ordergrid.service.ports import BackorderCursor, ConcurrentUpdate, OrderFilter, Page

O = t.orders  # noqa: E741 - table alias
F = t.fulfilments

# Built once: placing an order runs these every time, and building a statement costs
# more than SQLite takes to run it.
_BY_EXTERNAL_ID = select(O).where(
    O.c.channel == bindparam("b_channel"), O.c.external_id == bindparam("b_external_id")
)
_INSERT = O.insert()
_CLEAR_BACKORDERS = delete(t.backorders).where(t.backorders.c.order_id == bindparam("b_order"))
_INSERT_BACKORDERS = t.backorders.insert()


class SqlOrders:
    def __init__(self, conn: Connection, outbox: SqlOutbox) -> None:
        self.conn, self.outbox = conn, outbox

    def _load(self, row: Any) -> Order:
        return order_from(row, row.doc)

    def get(self, order_id: str) -> Order | None:
        r = self.conn.execute(select(O).where(O.c.id == order_id)).first()
        return None if r is None else self._load(r)

    def by_external_id(self, channel: str, external_id: str) -> Order | None:
        params = {"b_channel": channel, "b_external_id": external_id}
        r = self.conn.execute(_BY_EXTERNAL_ID, params).first()
        return None if r is None else self._load(r)

    def add(self, order: Order) -> None:
        order.version = 1
        write(
            self.conn,
            _INSERT,
            {
                "id": order.id,
                "channel": order.channel,
                "external_id": order.external_id,
                "status": order.status.value,
                "created_at": order.created_at,
                "updated_at": order.updated_at,
                "version": order.version,
                "doc": order_doc(order),
                # Set when the order is placed and never changed afterwards.
                "promised_earliest": None if order.promise is None else order.promise.earliest,
                "promised_latest": None if order.promise is None else order.promise.latest,
            },
        )
        self._index(order, new=True)

    def save(self, order: Order) -> None:
        done = self.conn.execute(
            update(O)
            .where(O.c.id == order.id, O.c.version == order.version)
            .values(
                status=order.status.value,
                updated_at=order.updated_at,
                version=order.version + 1,
                doc=order_doc(order),
            )
        ).rowcount
        if done != 1:
            raise ConcurrentUpdate(order.id)
        order.version += 1
        self._index(order)

    def _index(self, order: Order, new: bool = False) -> None:
        upsert(
            self.conn,
            F,
            [
                {
                    "id": f.id,
                    "order_id": order.id,
                    "location_id": f.location_id,
                    "status": f.status.value,
                    "updated_at": f.updated_at,
                }
                for f in order.fulfilments
            ],
            ["id"],
            ["status", "updated_at"],
        )
        if not new:  # a new order has no back-order rows to replace
            self.conn.execute(_CLEAR_BACKORDERS, {"b_order": order.id})
        waiting = [
            {
                "order_id": order.id,
                "line_id": x.line_id,
                "sku": x.sku,
                "quantity": x.backordered,
                "order_created_at": order.created_at,
            }
            for x in order.lines
            if x.backordered > 0 and not order.on_hold
        ]
        if waiting:
            write(self.conn, _INSERT_BACKORDERS, waiting)
        self.outbox.append(order.events, order.updated_at)
        order.events.clear()

    def page(self, flt: OrderFilter, limit: int, cursor: str | None) -> Page[Order]:
        q = select(O).order_by(O.c.id).limit(limit + 1)
        if flt.status:
            q = q.where(O.c.status == flt.status)
        if flt.channel:
            q = q.where(O.c.channel == flt.channel)
        if flt.external_id:
            q = q.where(O.c.external_id == flt.external_id)
        if flt.location_id:
            q = q.where(O.c.id.in_(select(F.c.order_id).where(F.c.location_id == flt.location_id)))
        if cursor:
            q = q.where(O.c.id > cursor)
        rows = self.conn.execute(q).all()
        items = [self._load(r) for r in rows[:limit]]
        return Page(items, items[-1].id if len(rows) > limit else None)

    def order_id_of_fulfilment(self, fulfilment_id: str) -> str | None:
        value = self.conn.execute(select(F.c.order_id).where(F.c.id == fulfilment_id)).scalar()
        return None if value is None else str(value)

    def fulfilments(
        self, location_id: str | None, status: str | None, limit: int, cursor: str | None
    ) -> Page[tuple[Order, Fulfilment]]:
        q = select(F.c.id, F.c.order_id).order_by(F.c.id).limit(limit + 1)
        if location_id:
            q = q.where(F.c.location_id == location_id)
        if status:
            q = q.where(F.c.status == status)
        if cursor:
            q = q.where(F.c.id > cursor)
        rows = self.conn.execute(q).all()
        orders = {o.id: o for o in self._many({r.order_id for r in rows[:limit]})}
        items = [
            (orders[r.order_id], f)
            for r in rows[:limit]
            if (f := orders[r.order_id].fulfilment(r.id)) is not None
        ]
        return Page(items, rows[limit - 1].id if len(rows) > limit else None)

    def _many(self, ids: set[str]) -> list[Order]:
        if not ids:
            return []
        return [self._load(r) for r in self.conn.execute(select(O).where(O.c.id.in_(sorted(ids))))]

    def backordered(
        self, skus: Iterable[str], limit: int, after: BackorderCursor | None = None
    ) -> list[BackorderCursor]:
        B = t.backorders  # noqa: N806 - table alias
        q = (
            select(B.c.order_created_at, B.c.order_id)
            .where(B.c.sku.in_(sorted(set(skus))))
            .group_by(B.c.order_created_at, B.c.order_id)
            .order_by(B.c.order_created_at, B.c.order_id)
            .limit(limit)
        )
        if after is not None:
            q = q.where(tuple_(B.c.order_created_at, B.c.order_id) > tuple_(*after))
        return [(r.order_created_at, r.order_id) for r in self.conn.execute(q)]

    def backordered_skus_with_stock(self) -> list[str]:
        B, P = t.backorders, t.positions  # noqa: N806 - table aliases
        free = select(P.c.sku).where(P.c.on_hand - P.c.reserved - P.c.safety_stock > 0)
        q = select(B.c.sku).distinct().where(B.c.sku.in_(free)).order_by(B.c.sku)
        return [r.sku for r in self.conn.execute(q)]

    def work_at(self, location_id: str, statuses: Iterable[str]) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            select(F.c.id, F.c.order_id)
            .where(F.c.location_id == location_id, F.c.status.in_(sorted(set(statuses))))
            .order_by(F.c.id.desc())
        )
        return [(r.id, r.order_id) for r in rows]

    def placed_since(self, since: datetime, limit: int) -> list[Order]:
        q = select(O).where(O.c.created_at >= since).order_by(O.c.created_at.desc()).limit(limit)
        return [self._load(r) for r in self.conn.execute(q)]

    def count_by_status(self) -> dict[str, int]:
        rows = self.conn.execute(select(O.c.status, func.count()).group_by(O.c.status))
        return {str(status): int(n) for status, n in rows}
