"""Bulk snapshot import: many locations' counts in one transaction, applied set-based.

Semantics are those of `inventory.snapshot` row by row (count at `as_of` plus physical
movements since; stale rows change nothing; one ledger entry per position set). Events
stay proportional to what needs them rather than to the rows: `inventory.changed` for
positions left below their reservations (each also gets a re-allocation timer) and for
back-ordered SKUs whose availability rose (what wakes back-orders), plus one
`inventory.snapshot_imported` summary for subscribers that re-read positions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.events import Event
from ordergrid.domain.inventory import MovementReason
from ordergrid.domain.stock_counts import CountRow, SnapshotMode, SnapshotTotals
from ordergrid.service.availability import watch_availability
from ordergrid.service.commands import SYSTEM, Actor
from ordergrid.service.context import Context
from ordergrid.service.disruptions import watch_positions
from ordergrid.service.inventory import CLOCK_SKEW
from ordergrid.service.ports import PositionChange, UnitOfWork
from ordergrid.service.stock import position_data

#: Chunks of counted rows; called again when the transaction is retried.
Feed = Callable[[], Iterable[Sequence[CountRow]]]


@dataclass(frozen=True, slots=True)
class ImportSnapshot:
    feed: Feed
    mode: SnapshotMode = SnapshotMode.PARTIAL
    #: Locations counted in full with nothing on hand (full mode; no row can say so).
    empty_locations: tuple[tuple[str, datetime], ...] = ()
    actor: Actor = SYSTEM
    progress: Callable[[int], None] | None = None  # told the rows staged so far


@dataclass(frozen=True, slots=True)
class ImportResult:
    mode: SnapshotMode
    rows: int
    locations: int
    totals: SnapshotTotals


def row_field(row: int, name: str) -> str:
    """Where an offending value is: `rows.<row>.<column>`, rows numbered from 1."""
    return f"rows.{row}.{name}"


class _RowCheck:
    """References and times of every row, each looked up once per import."""

    def __init__(self, uow: UnitOfWork, now: datetime, mode: SnapshotMode) -> None:
        self.uow, self.latest, self.mode = uow, now + CLOCK_SKEW, mode
        self.locations: set[str] = set()
        self.skus: set[str] = set()
        self.full: dict[str, datetime] = {}
        self.server_time = now

    def chunk(self, rows: Sequence[CountRow]) -> None:
        """Check a chunk by its distinct values; only a chunk with an offender is read row
        by row, to name the first one."""
        unseen = {r.sku for r in rows} - self.skus
        missing = unseen - self.uow.products.known(unseen) if unseen else set()
        times: dict[str, set[datetime]] = {}
        for location_id, as_of in {(r.location_id, r.as_of) for r in rows}:
            times.setdefault(location_id, set()).add(as_of)
        if missing or not all(self._fine(loc, ts) for loc, ts in times.items()):
            self._first_offender(rows, missing)
        self.skus |= unseen
        for location_id, ts in times.items():
            self.locations.add(location_id)
            if self.mode is SnapshotMode.FULL:
                self.full.setdefault(location_id, next(iter(ts)))

    def _fine(self, location_id: str, times: set[datetime]) -> bool:
        if location_id not in self.locations and self.uow.locations.get(location_id) is None:
            return False
        if max(times) > self.latest:
            return False
        if self.mode is SnapshotMode.PARTIAL:
            return True
        first = self.full.get(location_id)
        return len(times) == 1 and (first is None or first in times)

    def _first_offender(self, rows: Sequence[CountRow], missing: set[str]) -> None:
        for r in rows:
            self.location(r.location_id, row_field(r.row, "location_id"))
            if r.sku in missing:
                raise InvalidInput(
                    f"unknown SKU {r.sku!r}", code="unknown_sku", field=row_field(r.row, "sku")
                )
            self.time(r.location_id, r.as_of, row_field(r.row, "as_of"))

    def location(self, location_id: str, field: str) -> None:
        if location_id in self.locations:
            return
        if self.uow.locations.get(location_id) is None:
            raise InvalidInput(
                f"unknown location {location_id!r}", code="unknown_location", field=field
            )
        self.locations.add(location_id)

    def time(self, location_id: str, as_of: datetime, field: str) -> None:
        if as_of > self.latest:
            raise InvalidInput(
                "as_of is in the future",
                code="as_of_in_future",
                field=field,
                server_time=self.server_time.isoformat(),
            )
        if self.mode is SnapshotMode.FULL:
            first = self.full.setdefault(location_id, as_of)
            if first != as_of:
                raise InvalidInput(
                    f"a full count of {location_id!r} has one as_of; this row says "
                    f"{as_of.isoformat()}, an earlier one {first.isoformat()}",
                    code="mixed_as_of",
                    field=field,
                )


def import_snapshot(cmd: ImportSnapshot, ctx: Context) -> ImportResult:
    """Apply the whole feed or nothing: any bad row refuses the import with its row."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        check = _RowCheck(uow, now, cmd.mode)
        rows = _stage(uow, cmd, check)
        for location_id, as_of in cmd.empty_locations:
            check.location(location_id, "locations")
            check.time(location_id, as_of, "locations")
        for location_id, as_of in sorted(check.full.items()):
            uow.snapshot_imports.stage_full(location_id, as_of)
        _refuse_duplicates(uow)
        totals = uow.snapshot_imports.apply(now, cmd.actor.name)
        changes = uow.snapshot_imports.finish(uow.orders.backordered_skus_with_stock())
        result = ImportResult(cmd.mode, rows, len(check.locations), totals)
        _publish(uow, result, changes, cmd.actor.name, now)
        uow.outbox.append(watch_availability(uow, check.skus, cmd.actor.name), now)
        watch_positions(uow, [c.after for c in changes], ctx, now)
        uow.commit()
    return result


def _stage(uow: UnitOfWork, cmd: ImportSnapshot, check: _RowCheck) -> int:
    rows = 0
    for chunk in cmd.feed():
        check.chunk(chunk)
        uow.snapshot_imports.stage(chunk)
        rows += len(chunk)
        if cmd.progress is not None:
            cmd.progress(rows)
    return rows


def _refuse_duplicates(uow: UnitOfWork) -> None:
    repeated = uow.snapshot_imports.first_duplicate()
    if repeated is not None:
        first, again = repeated
        raise InvalidInput(
            f"row {again} counts the same location and SKU as row {first}",
            code="duplicate_row",
            field=row_field(again, "sku"),
            first_row=first,
        )


def _publish(
    uow: UnitOfWork, result: ImportResult, changes: list[PositionChange], actor: str, now: datetime
) -> None:
    reason = MovementReason.SNAPSHOT.value
    events = [
        Event("inventory.changed", {**position_data(c.after), "reason": reason}, actor=actor)
        for c in changes
    ]
    t = result.totals
    summary = {
        "mode": result.mode.value,
        "rows": result.rows,
        "locations": result.locations,
        "applied": t.applied,
        "stale": t.stale,
        "unlisted": t.unlisted,
    }
    events.append(Event("inventory.snapshot_imported", summary, actor=actor))
    uow.outbox.append(events, now)
