"""In-memory snapshot import: the same semantics as the SQL one, row by row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.inventory import PHYSICAL, MovementReason, Position, snapshot_on_hand
from ordergrid.domain.stock_counts import STALE_ROWS_LISTED, CountRow, SnapshotTotals
from ordergrid.service.ports import LedgerEntry, PositionChange

if TYPE_CHECKING:
    from ordergrid.adapters.memory.uow import InMemoryUnitOfWork

_PHYSICAL_REASONS = frozenset(r.value for r in PHYSICAL)
_UNLISTED = 0  # row number of a position a full count implied


class InMemorySnapshotImports(_Repo):
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        super().__init__(uow)
        self._clear()

    def _clear(self) -> None:
        self._rows: dict[tuple[str, str], CountRow] = {}
        self._repeats: dict[tuple[str, str], int] = {}
        self._full: dict[str, datetime] = {}
        self._changes: list[PositionChange] = []

    def stage(self, rows: Sequence[CountRow]) -> None:
        for r in rows:
            key = (r.location_id, r.sku)
            if key in self._rows:
                self._repeats.setdefault(key, r.row)
            else:
                self._rows[key] = r

    def stage_full(self, location_id: str, as_of: datetime) -> None:
        self._full[location_id] = as_of

    def first_duplicate(self) -> tuple[int, int] | None:
        if not self._repeats:
            return None
        key = min(self._repeats, key=lambda k: self._rows[k].row)
        return self._rows[key].row, self._repeats[key]

    def apply(self, at: datetime, actor: str | None) -> SnapshotTotals:
        plan = self._plan()
        moved = self._physical_after(plan)
        entries: list[LedgerEntry] = []
        stale: list[int] = []
        for key in sorted(plan):
            r = plan[key]
            before = self._t.positions.get(key)
            last = None if before is None else before.snapshot_as_of
            if last is not None and r.as_of <= last:
                stale.append(r.row)
                continue
            old = before or Position(*key)
            on_hand = snapshot_on_hand(r.on_hand, sum(d for t, d in moved[key] if t > r.as_of))
            after = replace(old, on_hand=on_hand, snapshot_as_of=r.as_of)
            self._t.positions[key] = after
            self._changes.append(PositionChange(old, after))
            entries.append(_entry(after, on_hand - old.on_hand, r.as_of, at, actor))
        self._uow.inventory.record(entries)
        listed = sorted(n for n in stale if n != _UNLISTED)
        return SnapshotTotals(
            applied=len(entries),
            stale=len(listed),
            unlisted=len(plan) - len(self._rows),
            stale_rows=tuple(listed[:STALE_ROWS_LISTED]),
        )

    def finish(self, rising: Collection[str]) -> list[PositionChange]:
        found = [
            c
            for c in self._changes
            if c.after.on_hand < c.after.reserved
            or (c.after.sku in rising and c.after.available > c.before.available)
        ]
        self._clear()
        return found

    def _plan(self) -> dict[tuple[str, str], CountRow]:
        plan = dict(self._rows)
        for key in self._t.positions:
            as_of = self._full.get(key[0])
            if as_of is not None and key not in plan:
                plan[key] = CountRow(_UNLISTED, key[0], key[1], 0, as_of)
        return plan

    def _physical_after(
        self, plan: dict[tuple[str, str], CountRow]
    ) -> defaultdict[tuple[str, str], list[tuple[datetime, int]]]:
        """Physical movements of the planned positions, read in one pass of the ledger."""
        moved: defaultdict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
        for e in self._t.ledger:
            key = (e.location_id, e.sku)
            if key in plan and str(e.reason) in _PHYSICAL_REASONS:
                moved[key].append((e.at, e.on_hand_delta))
        return moved


def _entry(
    after: Position, delta: int, as_of: datetime, at: datetime, actor: str | None
) -> LedgerEntry:
    return LedgerEntry(
        after.location_id,
        after.sku,
        at,
        delta,
        0,
        after.on_hand,
        after.reserved,
        MovementReason.SNAPSHOT.value,
        as_of.isoformat(),
        actor,
    )
