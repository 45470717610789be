"""Supply documents as three tables: the document, its lines and its pegs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, delete, select, update

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.upsert import insert_ignore, insert_on
from ordergrid.domain.supply import (
    INCOMING,
    Incoming,
    Peg,
    Supply,
    SupplyKind,
    SupplyLine,
    SupplyStatus,
    Waiting,
)
from ordergrid.service.ports import Page, SupplyFilter

S = t.supply
L = t.supply_lines
P = t.supply_pegs
R = t.supply_receipts


def _peg(r: Any) -> Peg:
    return Peg(
        r.supply_id, r.sku, r.order_id, r.line_id, r.quantity, r.order_created_at, r.pegged_at
    )


#: What a document's lines and pegs were when read, so a write sends only what changed.
_Seen = tuple[dict[str, tuple[int, int, int]], dict[tuple[str, str], Peg]]


def _seen(s: Supply) -> _Seen:
    lines = {x.sku: (x.quantity, x.received, x.pegged) for x in s.lines}
    return lines, {(p.order_id, p.line_id): p for p in s.pegs}


class SqlSupply:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.seen: dict[str, _Seen] = {}

    def get(self, supply_id: str, lock: bool = False) -> Supply | None:
        q = select(S).where(S.c.id == supply_id)
        if lock and self.postgres:
            q = q.with_for_update()
        found = self._load(q)
        return found[0] if found else None

    def _load(self, q: Select[Any]) -> list[Supply]:
        """Documents of the query, in its order, with their lines and pegs."""
        rows = self.conn.execute(q).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        lines: dict[str, list[SupplyLine]] = {i: [] for i in ids}
        for r in self.conn.execute(
            select(L).where(L.c.supply_id.in_(ids)).order_by(L.c.supply_id, L.c.sku)
        ):
            lines[r.supply_id].append(SupplyLine(r.sku, r.quantity, r.received, r.pegged))
        pegs: dict[str, list[Peg]] = {i: [] for i in ids}
        for r in self.conn.execute(
            select(P).where(P.c.supply_id.in_(ids)).order_by(P.c.supply_id, P.c.order_id)
        ):
            pegs[r.supply_id].append(_peg(r))
        found = [
            Supply(
                id=r.id,
                kind=SupplyKind(r.kind),
                location_id=r.location_id,
                expected_at=r.expected_at,
                lines=lines[r.id],
                created_at=r.created_at,
                updated_at=r.updated_at,
                origin=r.origin,
                reference=r.reference,
                status=SupplyStatus(r.status),
                pegs=pegs[r.id],
                dispatched_at=r.dispatched_at,
                carrier=r.carrier,
                tracking_number=r.tracking_number,
                order_id=r.order_id,
            )
            for r in rows
        ]
        for x in found:
            self.seen[x.id] = _seen(x)
        return found

    def put(self, supply: Supply) -> None:
        row = {
            "kind": supply.kind.value,
            "location_id": supply.location_id,
            "origin": supply.origin,
            "reference": supply.reference,
            "expected_at": supply.expected_at,
            "status": supply.status.value,
            "created_at": supply.created_at,
            "updated_at": supply.updated_at,
            "dispatched_at": supply.dispatched_at,
            "carrier": supply.carrier,
            "tracking_number": supply.tracking_number,
            "order_id": supply.order_id,
        }
        self.conn.execute(
            insert_on(self.conn.dialect.name, S)
            .values(id=supply.id, **row)
            .on_conflict_do_update(index_elements=[S.c.id], set_=row)
        )
        before = self.seen.get(supply.id)
        after = _seen(supply)
        if before is None or set(before[0]) != set(after[0]):
            self.conn.execute(delete(L).where(L.c.supply_id == supply.id))
            self._insert(L, [_line_row(supply.id, line) for line in supply.lines])
        else:
            self._update_lines(supply, before[0])
        if before is None:
            self.conn.execute(delete(P).where(P.c.supply_id == supply.id))
            self._insert(P, [_peg_row(p) for p in supply.pegs])
        else:
            self._update_pegs(supply.id, before[1], after[1])
        self.seen[supply.id] = after

    def _update_lines(self, supply: Supply, before: dict[str, tuple[int, int, int]]) -> None:
        for line in supply.lines:
            if before[line.sku] != (line.quantity, line.received, line.pegged):
                self.conn.execute(
                    update(L)
                    .where(L.c.supply_id == supply.id, L.c.sku == line.sku)
                    .values(quantity=line.quantity, received=line.received, pegged=line.pegged)
                )

    def _update_pegs(
        self, supply_id: str, before: dict[tuple[str, str], Peg], after: dict[tuple[str, str], Peg]
    ) -> None:
        for order_id, line_id in before.keys() - after.keys():
            self.conn.execute(
                delete(P).where(
                    P.c.supply_id == supply_id, P.c.order_id == order_id, P.c.line_id == line_id
                )
            )
        for key in before.keys() & after.keys():
            if before[key] != after[key]:
                self.conn.execute(
                    update(P)
                    .where(
                        P.c.supply_id == supply_id, P.c.order_id == key[0], P.c.line_id == key[1]
                    )
                    .values(quantity=after[key].quantity)
                )
        self._insert(P, [_peg_row(after[k]) for k in sorted(after.keys() - before.keys())])

    def _insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(table.insert(), list(rows))

    def page(self, flt: SupplyFilter, limit: int, cursor: str | None) -> Page[Supply]:
        q = select(S).order_by(S.c.id).limit(limit + 1)
        if cursor:
            q = q.where(S.c.id > cursor)
        if flt.location_id is not None:
            q = q.where(S.c.location_id == flt.location_id)
        if flt.status is not None:
            q = q.where(S.c.status == flt.status)
        if flt.origin is not None:
            q = q.where(S.c.origin == flt.origin)
        if flt.expected_after is not None:
            q = q.where(S.c.expected_at >= flt.expected_after)
        if flt.expected_before is not None:
            q = q.where(S.c.expected_at < flt.expected_before)
        if flt.sku is not None:
            q = q.where(S.c.id.in_(select(L.c.supply_id).where(L.c.sku == flt.sku)))
        items = self._load(q)
        more = len(items) > limit
        items = items[:limit]
        return Page(items, items[-1].id if more and items else None)

    def incoming(self, sku: str, expected_by: datetime | None = None) -> list[Incoming]:
        free = L.c.quantity - L.c.received - L.c.pegged
        q = (
            select(S.c.id, S.c.location_id, S.c.expected_at, free.label("free"))
            .join(L, L.c.supply_id == S.c.id)
            .where(L.c.sku == sku, free > 0, S.c.status.in_([s.value for s in INCOMING]))
            .order_by(S.c.expected_at, S.c.id)
        )
        if expected_by is not None:
            q = q.where(S.c.expected_at <= expected_by)
        return [Incoming(r.id, r.location_id, r.expected_at, r.free) for r in self.conn.execute(q)]

    def peg(self, supply_id: str, waiting: Waiting, now: datetime) -> Peg | None:
        free = L.c.quantity - L.c.received - L.c.pegged
        at = (L.c.supply_id == supply_id) & (L.c.sku == waiting.sku)
        q = (
            select(free)
            .join(S, S.c.id == L.c.supply_id)
            .where(at, S.c.status.in_([s.value for s in INCOMING]))
        )
        if self.postgres:
            q = q.with_for_update(of=L)
        available = self.conn.execute(q).scalar()
        quantity = min(waiting.quantity, available or 0)
        if quantity <= 0:
            return None
        moved = self.conn.execute(
            update(L).where(at, free >= quantity).values(pegged=L.c.pegged + quantity)
        )
        if moved.rowcount != 1:
            return None
        taken = Peg(
            supply_id,
            waiting.sku,
            waiting.order_id,
            waiting.line_id,
            quantity,
            waiting.order_created_at,
            now,
        )
        stmt = insert_on(self.conn.dialect.name, P).values(**_peg_row(taken))
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[P.c.supply_id, P.c.order_id, P.c.line_id],
                set_={"quantity": P.c.quantity + stmt.excluded.quantity},
            )
        )
        # A document read before in this transaction no longer matches what is stored.
        self.seen.pop(supply_id, None)
        return taken

    def pegs_of_order(self, order_id: str) -> list[Peg]:
        q = select(P).where(P.c.order_id == order_id).order_by(P.c.supply_id, P.c.line_id)
        return [_peg(r) for r in self.conn.execute(q)]

    def claim_receipt(self, receipt_id: str, supply_id: str, at: datetime) -> str | None:
        row = {"id": receipt_id, "supply_id": supply_id, "received_at": at}
        if insert_ignore(self.conn, R, row, ["id"]):
            return None
        found = self.conn.execute(select(R.c.supply_id).where(R.c.id == receipt_id)).scalar_one()
        return str(found)


def _line_row(supply_id: str, line: SupplyLine) -> dict[str, Any]:
    return {
        "supply_id": supply_id,
        "sku": line.sku,
        "quantity": line.quantity,
        "received": line.received,
        "pegged": line.pegged,
    }


def _peg_row(p: Peg) -> dict[str, Any]:
    return {
        "supply_id": p.supply_id,
        "order_id": p.order_id,
        "line_id": p.line_id,
        "sku": p.sku,
        "quantity": p.quantity,
        "order_created_at": p.order_created_at,
        "pegged_at": p.pegged_at,
    }
