"""Transactional outbox: events are rows written with the state change that caused them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    func,
    or_,
    select,
    text,
    tuple_,
)

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.driver import write
from ordergrid.adapters.db.upsert import insert_on
from ordergrid.domain.events import Event
from ordergrid.domain.webhooks import EventTypes
from ordergrid.service.ports import (
    EVENT_TIME_SKEW,
    EventCursor,
    EventWindow,
    PrunedEvents,
    StoredEvent,
)

E = t.events
C = t.consumers
P = t.events_pruned
_CURSOR = tuple_(E.c.txid, E.c.position)
_TXID = text("pg_current_xact_id()::text::bigint")
#: Built once per dialect: events are appended by almost every use case.
_APPEND = {True: E.insert().values(txid=_TXID), False: E.insert().values(txid=0)}
_HORIZON = text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
#: First key of the advisory locks that lease outbox consumers (the second: the name's hash).
_LEASE_SPACE = 0x6F67  # "og"


def _beyond(cursor: EventCursor, postgres: bool) -> ColumnElement[bool]:
    """Events after `cursor`. SQLite writes every event with txid 0 (one writer at a time
    numbers them in commit order), so there the position alone decides: SQLite's index
    search cannot bound a row-value comparison and would scan every event with txid 0."""
    if postgres:
        return tuple_(*cursor) < _CURSOR
    return and_(E.c.txid == cursor[0], E.c.position > cursor[1])


def _upto(cursor: EventCursor, postgres: bool) -> ColumnElement[bool]:
    """Events at or before `cursor` (see `_beyond`)."""
    if postgres:
        return tuple_(*cursor) >= _CURSOR
    return and_(E.c.txid == cursor[0], E.c.position <= cursor[1])


def _stored(r: Any) -> StoredEvent:
    return StoredEvent(r.position, r.id, r.type, r.at, r.data, r.order_id, r.actor, r.txid)


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def append(self, events: Sequence[Event], at: datetime) -> None:
        if not events:
            return
        rows = [
            {
                "id": uuid.uuid4().hex,
                "type": e.type,
                "order_id": e.order_id,
                "at": at,
                "actor": e.actor,
                "data": e.data,
            }
            for e in events
        ]
        write(self.conn, _APPEND[self.postgres], rows)

    def for_order(self, order_id: str) -> list[StoredEvent]:
        rows = self.conn.execute(select(E).where(E.c.order_id == order_id).order_by(E.c.position))
        return [_stored(r) for r in rows]

    def after(self, cursor: EventCursor, limit: int) -> list[StoredEvent]:
        q = (
            select(E)
            .where(_beyond(cursor, self.postgres))
            .order_by(E.c.txid, E.c.position)
            .limit(limit)
        )
        if self.postgres:
            # Only transactions older than every running one: their set of events is final.
            # The horizon is server-wide, so a long transaction anywhere on the server
            # delays delivery (never loses events); keep transactions short.
            q = q.where(E.c.txid < _HORIZON)
        return [_stored(r) for r in self.conn.execute(q)]

    def consumer_position(self, consumer: str) -> EventCursor:
        r = self.conn.execute(select(C.c.txid, C.c.position).where(C.c.name == consumer)).first()
        return (0, 0) if r is None else (int(r.txid), int(r.position))

    def set_consumer_position(self, consumer: str, cursor: EventCursor) -> None:
        # Forward only: a slower relay that handled an older batch must not move it back.
        stmt = insert_on(self.conn.dialect.name, C).values(
            name=consumer, txid=cursor[0], position=cursor[1]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"txid": stmt.excluded.txid, "position": stmt.excluded.position},
            where=tuple_(C.c.txid, C.c.position)
            < tuple_(stmt.excluded.txid, stmt.excluded.position),
        )
        self.conn.execute(stmt)

    def hold_consumer(self, consumer: str) -> bool:
        if not self.postgres:
            return True  # SQLite: one writer at a time, and a relay repeating a batch is safe
        # An advisory lock takes no transaction id, so holding it while publishing keeps
        # the visibility horizon moving; PostgreSQL drops it when the session ends.
        held = self.conn.execute(
            select(func.pg_try_advisory_xact_lock(_LEASE_SPACE, func.hashtext(consumer)))
        ).scalar_one()
        return bool(held)

    def backlog(self, cursor: EventCursor, limit: int) -> int:
        after = select(E.c.position).where(_beyond(cursor, self.postgres)).limit(limit).subquery()
        return int(self.conn.execute(select(func.count()).select_from(after)).scalar_one())

    def slowest_consumer(self) -> EventCursor | None:
        q = select(C.c.txid, C.c.position).order_by(C.c.txid, C.c.position).limit(1)
        r = self.conn.execute(q).first()
        return None if r is None else (int(r.txid), int(r.position))

    def locate(self, event_id: str) -> StoredEvent | None:
        r = self.conn.execute(select(E).where(E.c.id == event_id)).first()
        return None if r is None else _stored(r)

    def start_of(self, moment: datetime) -> EventCursor:
        # Two look-ups through indexes: the first time at or after `moment` (ix_events_at),
        # then the earliest position among the events written within the skew from then.
        first = self.conn.execute(
            select(E.c.at).where(E.c.at >= moment).order_by(E.c.at).limit(1)
        ).scalar()
        if first is None:
            return self._end()
        near = (
            select(E.c.txid, E.c.position)
            .where(E.c.at >= moment, E.c.at < first + EVENT_TIME_SKEW)
            .order_by(E.c.txid, E.c.position)
            .limit(1)
        )
        r = self.conn.execute(near).one()
        return (int(r.txid), int(r.position) - 1)

    def _end(self) -> EventCursor:
        last = select(E.c.txid, E.c.position).order_by(E.c.txid.desc(), E.c.position.desc())
        r = self.conn.execute(last.limit(1)).first()
        return (0, 0) if r is None else (int(r.txid), int(r.position))

    def window(self, window: EventWindow, limit: int) -> list[StoredEvent]:
        q = select(E).where(
            _beyond(window.after, self.postgres), _upto(window.through, self.postgres)
        )
        if not window.types.every:
            q = q.where(_of_types(window.types))
        if window.since is not None:
            q = q.where(E.c.at >= window.since)
        if window.until is not None:
            q = q.where(E.c.at < window.until)
        rows = self.conn.execute(q.order_by(E.c.txid, E.c.position).limit(limit))
        return [_stored(r) for r in rows]

    def pruned(self) -> PrunedEvents | None:
        r = self.conn.execute(select(P).where(P.c.id == 1)).first()
        if r is None:
            return None
        return PrunedEvents((int(r.txid), int(r.position)), r.at, int(r.events), r.pruned_at)

    def prune(self, through: EventCursor, limit: int, now: datetime) -> int:
        # Never the newest event: SQLite numbers new events after the highest remaining.
        newest = select(func.max(E.c.position)).scalar_subquery()
        batch = self.conn.execute(
            select(E.c.txid, E.c.position, E.c.at)
            .where(_upto(through, self.postgres), E.c.position < newest)
            .order_by(E.c.txid, E.c.position)
            .limit(limit)
        ).all()
        if not batch:
            return 0
        end = (int(batch[-1].txid), int(batch[-1].position))
        deleted = self.conn.execute(delete(E).where(_upto(end, self.postgres))).rowcount
        before = self.pruned()
        latest = max(r.at for r in batch)
        mark = {
            "txid": end[0],
            "position": end[1],
            "at": latest if before is None else max(latest, before.at),
            "events": deleted + (0 if before is None else before.events),
            "pruned_at": now,
        }
        stmt = insert_on(self.conn.dialect.name, P).values(id=1, **mark)
        self.conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=mark))
        return int(deleted)


def _of_types(types: EventTypes) -> ColumnElement[bool]:
    """The SQL form of a subscription's filters (`_` and `%` in a prefix are literal)."""
    return or_(
        E.c.type.in_(sorted(types.exact)),
        *(E.c.type.startswith(prefix, autoescape=True) for prefix in types.prefixes),
    )
