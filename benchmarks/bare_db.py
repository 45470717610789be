"""The bare-database replay: the writes of orders just placed, again, straight through
SQLAlchemy Core with the product's tables and `make_engine`, no HTTP, no reads, no sourcing.

Per transaction: the conditional reservation `UPDATE positions ... RETURNING` per
reserved line, ledger rows, the decision row, the order row, fulfilment index upserts,
the back-order delete/insert and the order's events, as the product writes them.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from common import Tally, Window, Work, threads_in_window
from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.engine import make_engine
from ordergrid.adapters.db.upsert import upsert


@dataclass(frozen=True)
class Sample:
    """The writes one real placement made, read back from the database it went to."""

    channel: str
    status: str
    doc: dict[str, Any]
    explanation: dict[str, Any]
    reservations: tuple[tuple[str, str, int], ...]  # (location, sku, quantity), sorted
    fulfilments: tuple[str, ...]  # location of each fulfilment
    backorders: tuple[tuple[str, str, int], ...]  # (line_id, sku, quantity)
    events: tuple[tuple[str, str | None, dict[str, Any]], ...]  # (type, actor, data)


def read_samples(url: str, limit: int) -> list[Sample]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(t.orders).order_by(t.orders.c.id).limit(limit)).all()
            return [_sample(conn, row) for row in rows]
    finally:
        engine.dispose()


def _sample(conn: Connection, row: Any) -> Sample:
    decision = conn.execute(
        select(t.decisions.c.explanation).where(t.decisions.c.order_id == row.id).limit(1)
    ).scalar()
    events = conn.execute(
        select(t.events.c.type, t.events.c.actor, t.events.c.data)
        .where(t.events.c.order_id == row.id)
        .order_by(t.events.c.position)
    ).all()
    doc = row.doc
    reservations = sorted(
        (f["location_id"], line["sku"], line["quantity"])
        for f in doc["fulfilments"]
        for line in f["lines"]
    )
    return Sample(
        channel=row.channel,
        status=row.status,
        doc=doc,
        explanation=decision or {},
        reservations=tuple(reservations),
        fulfilments=tuple(f["location_id"] for f in doc["fulfilments"]),
        backorders=tuple(
            (x["line_id"], x["sku"], x["backordered"]) for x in doc["lines"] if x["backordered"]
        ),
        events=tuple((e.type, e.actor, e.data) for e in events),
    )


P = t.positions
_RESERVE = (
    update(P)
    .where(P.c.location_id == bindparam("loc"), P.c.sku == bindparam("b_sku"))
    .where(P.c.on_hand - P.c.reserved - P.c.safety_stock >= bindparam("q"))
    .values(reserved=P.c.reserved + bindparam("q"))
    .returning(P.c.on_hand, P.c.reserved)
)
_DELETE_BACKORDERS = delete(t.backorders).where(t.backorders.c.order_id == bindparam("oid"))


def replay_placement(conn: Connection, s: Sample) -> bool:
    """The writes of one placement, in the product's order; False if a reservation missed."""
    now = datetime.now(UTC)
    order_id = uuid.uuid4().hex
    fulfilment_ids = {loc: uuid.uuid4().hex for loc in s.fulfilments}
    ledger, missed = [], False
    for loc, sku, quantity in s.reservations:
        row = conn.execute(_RESERVE, {"loc": loc, "b_sku": sku, "q": quantity}).first()
        if row is None:
            missed = True
            continue
        ledger.append(_ledger_row(loc, sku, quantity, row, now, fulfilment_ids[loc]))
    if ledger:
        conn.execute(t.ledger.insert(), ledger)
    conn.execute(
        t.decisions.insert(),
        {"id": uuid.uuid4().hex, "order_id": order_id, "at": now, "explanation": s.explanation},
    )
    conn.execute(
        t.orders.insert(),
        {
            "id": order_id,
            "channel": s.channel,
            "external_id": f"RAW-{order_id}",
            "status": s.status,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "doc": s.doc,
        },
    )
    _index_rows(conn, s, order_id, fulfilment_ids, now)
    return not missed


def _ledger_row(
    loc: str, sku: str, quantity: int, after: Any, now: datetime, ref: str
) -> dict[str, Any]:
    return {
        "location_id": loc,
        "sku": sku,
        "at": now,
        "on_hand_delta": 0,
        "reserved_delta": quantity,
        "on_hand_after": after.on_hand,
        "reserved_after": after.reserved,
        "reason": "reservation",
        "ref": ref,
        "actor": "admin",
    }


def _index_rows(
    conn: Connection, s: Sample, order_id: str, fulfilment_ids: dict[str, str], now: datetime
) -> None:
    """Fulfilment index, back-order rows and outbox events, as `SqlOrders.add` writes them."""
    rows = [
        {"id": fid, "order_id": order_id, "location_id": loc, "status": "released"}
        | {"updated_at": now}
        for loc, fid in fulfilment_ids.items()
    ]
    upsert(conn, t.fulfilments, rows, ["id"], ["status", "updated_at"])
    conn.execute(_DELETE_BACKORDERS, {"oid": order_id})
    if s.backorders:
        conn.execute(
            t.backorders.insert(),
            [
                {"order_id": order_id, "line_id": line, "sku": sku, "quantity": qty}
                | {"order_created_at": now}
                for line, sku, qty in s.backorders
            ],
        )
    if s.events:
        txid = (
            text("pg_current_xact_id()::text::bigint") if conn.dialect.name == "postgresql" else 0
        )
        conn.execute(
            t.events.insert().values(txid=txid),
            [
                {"id": uuid.uuid4().hex, "type": kind, "order_id": order_id, "at": now}
                | {"actor": actor, "data": data}
                for kind, actor, data in s.events
            ],
        )


@dataclass(frozen=True)
class RawJob:
    url: str
    samples: list[Sample]
    index: int
    threads: int
    window: Window


def _replay_loop(job: RawJob, engine: Engine, window_start: float) -> Work:
    # One sequence per process, shared by its threads: each transaction replays the next
    # placement, so concurrent threads touch different orders' rows, as the clients do.
    picks = itertools.count(job.index * 7919)

    def work(tally: Tally, end: float) -> None:
        while (sent := time.monotonic()) < end:
            sample = job.samples[next(picks) % len(job.samples)]
            try:
                with engine.begin() as conn:
                    complete = replay_placement(conn, sample)
                error = None if complete else "reservation missed"
            except SQLAlchemyError as exc:
                error = type(exc).__name__
            done = time.monotonic()
            if window_start <= done <= end:
                if error is not None:
                    tally.errors[error] += 1
                if error in {None, "reservation missed"}:
                    tally.latencies.append(done - sent)

    return work


def raw_process(job: RawJob, barrier: Barrier, results: Any) -> None:
    """One bare-DB process: `job.threads` threads replaying placements on one engine."""
    engine = make_engine(job.url, pool_size=job.threads)
    with engine.connect() as conn:
        conn.execute(select(1))
    barrier.wait()
    start, end = job.window.bounds(time.monotonic())
    try:
        results.put(threads_in_window(job.threads, _replay_loop(job, engine, start), start, end))
    finally:
        engine.dispose()


def top_up_stock(url: str) -> None:
    """Deep stock everywhere, so replaying the same placements again and again never
    misses a reservation (the product would re-source; the replay would write less)."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(update(P).values(on_hand=P.c.on_hand + 1_000_000))
    finally:
        engine.dispose()
