"""Cart reservations stored whole as a document, with the columns queries filter on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.outbox_repo import SqlOutbox
from ordergrid.domain.reservations import (
    Hold,
    Reservation,
    ReservationLine,
    ReservationStatus,
)
from ordergrid.service.ports import ConcurrentUpdate, Page, ReservationFilter

R = t.cart_reservations
H = t.cart_holds


def _doc(r: Reservation) -> dict[str, Any]:
    return {
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "held": [[h.location_id, h.quantity] for h in line.held],
            }
            for line in r.lines
        ],
        "expires_at_limit": r.expires_at_limit.isoformat(),
        "fingerprint": r.fingerprint,
        "destination": r.destination,
        "pickup_location_id": r.pickup_location_id,
        "timer_id": r.timer_id,
    }


def _reservation(row: Any) -> Reservation:
    doc = row.doc
    return Reservation(
        id=row.id,
        channel=row.channel,
        lines=[
            ReservationLine(x["sku"], x["quantity"], tuple(Hold(h[0], h[1]) for h in x["held"]))
            for x in doc["lines"]
        ],
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        expires_at_limit=datetime.fromisoformat(doc["expires_at_limit"]),
        status=ReservationStatus(row.status),
        external_id=row.external_id,
        idempotency_key=row.idempotency_key,
        fingerprint=doc["fingerprint"],
        destination=doc["destination"],
        pickup_location_id=doc["pickup_location_id"],
        order_id=row.order_id,
        timer_id=doc["timer_id"],
        version=row.version,
    )


class SqlReservations:
    def __init__(self, conn: Connection, outbox: SqlOutbox) -> None:
        self.conn, self.outbox = conn, outbox

    def _one(self, *where: Any) -> Reservation | None:
        row = self.conn.execute(select(R).where(*where)).first()
        return None if row is None else _reservation(row)

    def add(self, reservation: Reservation) -> None:
        reservation.version = 1
        self.conn.execute(
            R.insert().values(
                id=reservation.id,
                channel=reservation.channel,
                external_id=reservation.external_id,
                idempotency_key=reservation.idempotency_key,
                created_at=reservation.created_at,
                **self._changing(reservation),
            )
        )
        self._index(reservation)
        self._announce(reservation)

    def get(self, reservation_id: str) -> Reservation | None:
        return self._one(R.c.id == reservation_id)

    def by_external_id(self, channel: str, external_id: str) -> Reservation | None:
        return self._one(R.c.channel == channel, R.c.external_id == external_id)

    def by_idempotency_key(self, key: str) -> Reservation | None:
        return self._one(R.c.idempotency_key == key)

    def save(self, reservation: Reservation) -> None:
        done = self.conn.execute(
            update(R)
            .where(R.c.id == reservation.id, R.c.version == reservation.version)
            .values(**{**self._changing(reservation), "version": reservation.version + 1})
        ).rowcount
        if done != 1:
            raise ConcurrentUpdate(reservation.id)
        reservation.version += 1
        self._index(reservation)
        self._announce(reservation)

    def page(self, flt: ReservationFilter, limit: int, cursor: str | None) -> Page[Reservation]:
        q = select(R).order_by(R.c.id).limit(limit + 1)
        if flt.status:
            q = q.where(R.c.status == flt.status)
        if flt.channel:
            q = q.where(R.c.channel == flt.channel)
        if cursor:
            q = q.where(R.c.id > cursor)
        rows = self.conn.execute(q).all()
        items = [_reservation(r) for r in rows[:limit]]
        return Page(items, items[-1].id if len(rows) > limit else None)

    @staticmethod
    def _changing(r: Reservation) -> dict[str, Any]:
        return {
            "status": r.status.value,
            "expires_at": r.expires_at,
            "updated_at": r.updated_at,
            "order_id": r.order_id,
            "version": r.version,
            "doc": _doc(r),
        }

    def holding(self, location_id: str, sku: str) -> list[str]:
        q = (
            select(H.c.reservation_id)
            .where(H.c.location_id == location_id, H.c.sku == sku)
            .order_by(H.c.created_at.desc(), H.c.reservation_id.desc())
        )
        return [str(r) for r in self.conn.execute(q).scalars()]

    def _index(self, reservation: Reservation) -> None:
        """Keep the held positions of an active cart, and none of an ended one."""
        self.conn.execute(delete(H).where(H.c.reservation_id == reservation.id))
        rows = [
            {
                "reservation_id": reservation.id,
                "location_id": loc,
                "sku": sku,
                "quantity": qty,
                "created_at": reservation.created_at,
            }
            for (loc, sku), qty in reservation.holds().items()
        ]
        if rows:
            self.conn.execute(H.insert(), rows)

    def _announce(self, reservation: Reservation) -> None:
        self.outbox.append(reservation.events, reservation.updated_at)
        reservation.events.clear()
