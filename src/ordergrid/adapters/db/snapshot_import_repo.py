"""Set-based snapshot import: rows are staged in temporary tables (SQLite `executemany`,
PostgreSQL `COPY`), then a handful of statements set every position, write the ledger and
report what changed, whatever the number of rows.

The temporary tables live in the transaction: PostgreSQL drops them at commit, SQLite
when the import finishes (its DDL is transactional, so a rollback drops them too).
"""

# S608: statements are assembled from module constants only; every value is bound.
# ruff: noqa: S608

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from ordergrid.adapters.db.postgres_limits import lift_statement_bound
from ordergrid.adapters.db.stock_cache import SqlStockReads
from ordergrid.adapters.db.tables import PHYSICAL_LEDGER_REASONS, UtcDateTime
from ordergrid.domain.inventory import MovementReason, Position
from ordergrid.domain.stock_counts import STALE_ROWS_LISTED, CountRow, SnapshotTotals
from ordergrid.service.ports import PositionChange

_TEMP_TABLES = (
    "snapshot_watch",
    "snapshot_plan",
    "snapshot_moved",
    "snapshot_full",
    "snapshot_rows",
)
_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DATETIME on SQLite
_COLUMNS = "row_no, location_id, sku, counted, as_of, ref"

_UNLISTED = f"""
INSERT INTO snapshot_rows ({_COLUMNS})
SELECT NULL, p.location_id, p.sku, 0, f.as_of, f.ref
FROM positions p JOIN snapshot_full f ON f.location_id = p.location_id
WHERE NOT EXISTS (
    SELECT 1 FROM snapshot_rows s WHERE s.location_id = p.location_id AND s.sku = p.sku)
"""
# On PostgreSQL the positions are locked first, in the order every writer takes them, so
# the plan reads values no one else can change before commit.
_LOCK = """
SELECT COUNT(*) FROM (
    SELECT 1 FROM positions p
    JOIN snapshot_rows s ON s.location_id = p.location_id AND s.sku = p.sku
    ORDER BY p.location_id, p.sku FOR UPDATE OF p) locked
"""
# Physical movements after each count, read set-based from the earliest count time on
# through `ix_ledger_physical_at` (few rows: counts are recent), not one look-up per row.
# The ledger drives the join (CROSS JOIN fixes that order on SQLite).
_MOVED = f"""
INSERT INTO snapshot_moved (location_id, sku, moved)
SELECT s.location_id, s.sku, SUM(ledger.on_hand_delta)
FROM ledger CROSS JOIN snapshot_rows s
WHERE ledger.at > (SELECT MIN(as_of) FROM snapshot_rows) AND {PHYSICAL_LEDGER_REASONS}
  AND s.location_id = ledger.location_id AND s.sku = ledger.sku AND ledger.at > s.as_of
GROUP BY s.location_id, s.sku
"""
_PLAN = """
SELECT q.*, CASE WHEN q.counted + q.moved < 0 THEN 0 ELSE q.counted + q.moved END AS on_hand
FROM (
    SELECT s.row_no, s.location_id, s.sku, s.counted, s.as_of, s.ref,
           p.on_hand AS before_on_hand, p.snapshot_as_of AS before_as_of,
           COALESCE(p.reserved, 0) AS reserved, COALESCE(p.safety_stock, 0) AS safety_stock,
           CASE WHEN p.snapshot_as_of IS NOT NULL AND s.as_of <= p.snapshot_as_of
                THEN 1 ELSE 0 END AS stale,
           COALESCE(m.moved, 0) AS moved
    FROM snapshot_rows s
    LEFT JOIN positions p ON p.location_id = s.location_id AND p.sku = s.sku
    LEFT JOIN snapshot_moved m ON m.location_id = s.location_id AND m.sku = s.sku) q
"""
_UPDATE = """
UPDATE positions SET on_hand = n.on_hand, snapshot_as_of = n.as_of
FROM snapshot_plan n
WHERE positions.location_id = n.location_id AND positions.sku = n.sku
  AND n.stale = 0 AND n.before_on_hand IS NOT NULL
"""
_INSERT = """
INSERT INTO positions (location_id, sku, on_hand, reserved, safety_stock, snapshot_as_of)
SELECT location_id, sku, on_hand, 0, 0, as_of FROM snapshot_plan
WHERE stale = 0 AND before_on_hand IS NULL ORDER BY location_id, sku
"""
# `txid`: the writing transaction on PostgreSQL, which the stock cache follows (0 on
# SQLite, where ids alone order the ledger).
_LEDGER = f"""
INSERT INTO ledger (location_id, sku, at, on_hand_delta, reserved_delta, on_hand_after,
                    reserved_after, reason, ref, actor, txid)
SELECT location_id, sku, :at, on_hand - COALESCE(before_on_hand, 0), 0, on_hand, reserved,
       '{MovementReason.SNAPSHOT.value}', ref, :actor, {{txid}}
FROM snapshot_plan WHERE stale = 0 ORDER BY location_id, sku
"""
_PG_TXID = "pg_current_xact_id()::text::bigint"
_TOTALS = """
SELECT COALESCE(SUM(CASE WHEN stale = 0 THEN 1 ELSE 0 END), 0) AS applied,
       COALESCE(SUM(CASE WHEN stale = 1 AND row_no IS NOT NULL THEN 1 ELSE 0 END), 0) AS stale,
       COALESCE(SUM(CASE WHEN row_no IS NULL THEN 1 ELSE 0 END), 0) AS unlisted
FROM snapshot_plan
"""
_STALE_ROWS = f"""
SELECT row_no FROM snapshot_plan WHERE stale = 1 AND row_no IS NOT NULL
ORDER BY row_no LIMIT {STALE_ROWS_LISTED}
"""
_DUPLICATE = """
SELECT d.first, MIN(s.row_no) AS again
FROM (SELECT location_id, sku, MIN(row_no) AS first FROM snapshot_rows
      GROUP BY location_id, sku HAVING COUNT(*) > 1 ORDER BY MIN(row_no) LIMIT 1) d
JOIN snapshot_rows s ON s.location_id = d.location_id AND s.sku = d.sku AND s.row_no > d.first
GROUP BY d.first
"""
_CHANGES = text("""
SELECT location_id, sku, before_on_hand, before_as_of, on_hand, as_of, reserved, safety_stock
FROM snapshot_plan
WHERE stale = 0 AND (on_hand < reserved OR (
    on_hand > COALESCE(before_on_hand, 0) AND sku IN (SELECT sku FROM snapshot_watch)))
ORDER BY location_id, sku
""").columns(before_as_of=UtcDateTime, as_of=UtcDateTime)


class SqlSnapshotImports:
    def __init__(self, conn: Connection, reads: SqlStockReads | None = None) -> None:
        self.conn = conn
        self.reads = reads  # told when positions change (see `SqlStockReads`)
        self.postgres = conn.dialect.name == "postgresql"
        self._started = False
        self._indexed = False

    def stage(self, rows: Sequence[CountRow]) -> None:
        self._start()
        if not rows:
            return
        refs: dict[str, tuple[Any, str]] = {}
        staged: list[tuple[Any, ...]] = []
        last: datetime | None = None
        stored: tuple[Any, str] = (None, "")
        for r in rows:
            if r.as_of is not last:  # rows share few times, mostly the very same object
                last, stored = r.as_of, self._as_of(r.as_of, refs)
            staged.append((r.row, r.location_id, r.sku, r.on_hand, *stored))
        if self.postgres:
            self._copy(staged)
        else:
            insert = f"INSERT INTO snapshot_rows ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
            self.conn.exec_driver_sql(insert, staged)

    def stage_full(self, location_id: str, as_of: datetime) -> None:
        self._start()
        stamp, ref = self._as_of(as_of, {})
        self.conn.execute(
            text("INSERT INTO snapshot_full (location_id, as_of, ref) VALUES (:loc, :as_of, :ref)"),
            {"loc": location_id, "as_of": stamp, "ref": ref},
        )

    def first_duplicate(self) -> tuple[int, int] | None:
        self._start()
        try:
            with self.conn.begin_nested():
                self.conn.exec_driver_sql(
                    "CREATE UNIQUE INDEX snapshot_rows_key ON snapshot_rows (location_id, sku)"
                )
        except IntegrityError:
            r = self.conn.exec_driver_sql(_DUPLICATE).one()
            return int(r.first), int(r.again)
        self._indexed = True
        return None

    def apply(self, at: datetime, actor: str | None) -> SnapshotTotals:
        if not self._indexed and self.first_duplicate() is not None:
            raise ValueError("a (location, SKU) was staged twice")
        if self.reads is not None:
            self.reads.changed_stock = True
        run = self.conn.exec_driver_sql
        run(_UNLISTED)
        if self.postgres:
            run("ANALYZE snapshot_rows")
            run(_LOCK)
        run(_MOVED)
        run(f"CREATE TEMP TABLE snapshot_plan{self._on_commit()} AS {_PLAN}")
        if self.postgres:
            run("ANALYZE snapshot_plan")
        run(_UPDATE)
        run(_INSERT)
        stamp = at if self.postgres else at.astimezone(UTC).strftime(_SQLITE_STAMP)
        ledger = _LEDGER.format(txid=_PG_TXID if self.postgres else "0")
        self.conn.execute(text(ledger), {"at": stamp, "actor": actor})
        totals = run(_TOTALS).one()
        stale_rows = tuple(int(r.row_no) for r in run(_STALE_ROWS))
        return SnapshotTotals(
            int(totals.applied), int(totals.stale), int(totals.unlisted), stale_rows
        )

    def finish(self, rising: Collection[str]) -> list[PositionChange]:
        self.conn.exec_driver_sql(
            f"CREATE TEMP TABLE snapshot_watch (sku VARCHAR(128) PRIMARY KEY){self._on_commit()}"
        )
        if rising:
            self.conn.execute(
                text("INSERT INTO snapshot_watch (sku) VALUES (:sku)"),
                [{"sku": sku} for sku in sorted(set(rising))],
            )
        found = [_change(r) for r in self.conn.execute(_CHANGES)]
        self._drop()
        return found

    def _start(self) -> None:
        if self._started:
            return
        self._drop()  # left by an import this pooled SQLite connection committed earlier
        stamp = "TIMESTAMPTZ" if self.postgres else "VARCHAR(26)"
        key = "BIGINT" if self.postgres else "INTEGER"
        run, tail = self.conn.exec_driver_sql, self._on_commit()
        if self.postgres:
            # Hash joins and sorts over a network's rows, in memory rather than spilled.
            run("SET LOCAL work_mem = '256MB'")
            run("SET LOCAL maintenance_work_mem = '128MB'")
        # Millions of rows in a handful of statements: longer than any request's bound.
        lift_statement_bound(self.conn)
        run(
            f"CREATE TEMP TABLE snapshot_rows (row_no {key}, location_id VARCHAR(128) NOT NULL, "
            f"sku VARCHAR(128) NOT NULL, counted INTEGER NOT NULL, as_of {stamp} NOT NULL, "
            f"ref VARCHAR(64) NOT NULL){tail}"
        )
        run(
            f"CREATE TEMP TABLE snapshot_full (location_id VARCHAR(128) PRIMARY KEY, "
            f"as_of {stamp} NOT NULL, ref VARCHAR(64) NOT NULL){tail}"
        )
        run(
            "CREATE TEMP TABLE snapshot_moved (location_id VARCHAR(128), sku VARCHAR(128), "
            f"moved BIGINT NOT NULL, PRIMARY KEY (location_id, sku)){tail}"
        )
        self._started = True

    def _drop(self) -> None:
        for name in _TEMP_TABLES:
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        self._started = self._indexed = False

    def _on_commit(self) -> str:
        return " ON COMMIT DROP" if self.postgres else ""

    def _as_of(self, as_of: datetime, known: dict[str, tuple[Any, str]]) -> tuple[Any, str]:
        """The stored form of a count's time and the ledger reference naming it (as given,
        so the ledger shows the feed's own time); a feed repeats few distinct times."""
        ref = as_of.isoformat()
        found = known.get(ref)
        if found is None:
            stored = as_of if self.postgres else as_of.astimezone(UTC).strftime(_SQLITE_STAMP)
            found = known[ref] = (stored, ref)
        return found

    def _copy(self, staged: list[tuple[Any, ...]]) -> None:
        raw = self.conn.connection.driver_connection
        assert raw is not None
        # CSV written by the csv module (in C) is several times faster than `write_row`;
        # it quotes whatever an id may hold.
        text_rows = io.StringIO()
        csv.writer(text_rows, lineterminator="\n").writerows(staged)
        sql = f"COPY snapshot_rows ({_COLUMNS}) FROM STDIN WITH (FORMAT csv)"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            copy.write(text_rows.getvalue())


def _change(r: Any) -> PositionChange:
    before = Position(
        r.location_id,
        r.sku,
        0 if r.before_on_hand is None else int(r.before_on_hand),
        int(r.reserved),
        int(r.safety_stock),
        r.before_as_of,
    )
    after = Position(
        r.location_id, r.sku, int(r.on_hand), int(r.reserved), int(r.safety_stock), r.as_of
    )
    return PositionChange(before, after)
