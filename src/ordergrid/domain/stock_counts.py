"""Counted stock from WMS, POS and store feeds: one row per (location, SKU) at `as_of`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: Largest on-hand a count may report; positions are 32-bit integers in the database.
MAX_ON_HAND = 2**31 - 1


class SnapshotMode(StrEnum):
    """`partial` changes only the listed SKUs; `full` is a location's complete count, so
    every other position there was counted as zero (a WMS full-count file)."""

    PARTIAL = "partial"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class CountRow:
    """One counted position; `row` is its 1-based ordinal in the feed, for error reports."""

    row: int
    location_id: str
    sku: str
    on_hand: int
    as_of: datetime


#: How many stale rows a result names one by one (the rest are counted).
STALE_ROWS_LISTED = 100


@dataclass(frozen=True, slots=True)
class SnapshotTotals:
    """What applying a snapshot did: positions set (`applied`), rows older than the count
    already applied (`stale`, the first of them by row number in `stale_rows`), and
    positions of fully counted locations that no row listed (`unlisted`, set to zero plus
    the movements since, and included in `applied` unless stale)."""

    applied: int = 0
    stale: int = 0
    unlisted: int = 0
    stale_rows: tuple[int, ...] = ()
