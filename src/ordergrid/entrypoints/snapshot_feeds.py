"""Snapshot feeds as WMS and store systems send them: CSV, NDJSON and JSON, parsed into
chunks of `CountRow`s without building a model per row.

Rows are numbered from 1 in feed order (CSV: data rows after the header; NDJSON: lines;
JSON: items in document order across locations); a bad value is reported as
`rows.<n>.<column>`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.stock_counts import MAX_ON_HAND, CountRow, SnapshotMode
from ordergrid.service.commands import Actor
from ordergrid.service.snapshot_import import ImportSnapshot, row_field

CHUNK = 20_000
MAX_ID = 128
CSV_COLUMNS = ("location_id", "sku", "on_hand")


class FeedFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"


def _bad(row: int, column: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_row", field=row_field(row, column), row=row)


class _Reader:
    """Checks one row's values; parsed times are shared, as a feed repeats few of them."""

    def __init__(self, as_of: datetime | None) -> None:
        self.default = as_of
        self.times: dict[str, datetime] = {}

    def row(self, n: int, location_id: Any, sku: Any, on_hand: Any, as_of: Any) -> CountRow:
        return CountRow(
            n,
            self.ident(n, "location_id", location_id),
            self.ident(n, "sku", sku),
            self.count(n, on_hand),
            self.time(n, as_of),
        )

    @staticmethod
    def ident(n: int, column: str, value: Any) -> str:
        if not isinstance(value, str) or not value or len(value) > MAX_ID:
            raise _bad(n, column, f"{column} must be 1 to {MAX_ID} characters")
        return value

    @staticmethod
    def count(n: int, value: Any) -> int:
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value)
        if type(value) is not int or not 0 <= value <= MAX_ON_HAND:
            raise _bad(n, "on_hand", f"on_hand must be a whole number from 0 to {MAX_ON_HAND}")
        return value

    def time(self, n: int, value: Any) -> datetime:
        if value is None or value == "":
            if self.default is None:
                raise _bad(n, "as_of", "as_of is required (in the row or for the whole feed)")
            return self.default
        if isinstance(value, datetime):
            return value
        found = self.times.get(value) if isinstance(value, str) else None
        if found is None:
            found = self.times[value] = parse_time(value, row_field(n, "as_of"))
        return found


def parse_time(value: Any, field: str) -> datetime:
    """An ISO 8601 time with its offset, in UTC."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise InvalidInput(
        "as_of must be an ISO 8601 time with an offset", code="invalid_time", field=field
    )


def _chunked(rows: Iterator[CountRow]) -> Iterator[list[CountRow]]:
    chunk: list[CountRow] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def csv_rows(lines: Iterable[str], as_of: datetime | None) -> Iterator[list[CountRow]]:
    """`location_id,sku,on_hand[,as_of]` with a header naming the columns (any order)."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in names]
    if missing:
        raise InvalidInput(
            f"the header lacks {', '.join(missing)}", code="invalid_header", field="header"
        )
    loc, sku, qty = (names.index(c) for c in CSV_COLUMNS)
    at = names.index("as_of") if "as_of" in names else None
    width, read = len(names), _Reader(as_of)
    chunk: list[CountRow] = []
    for n, cells in enumerate(reader, start=1):
        if len(cells) != width:
            raise _bad(n, "row", f"expected {width} columns, found {len(cells)}")
        location_id, item, counted = cells[loc], cells[sku], cells[qty]
        # The common row (plain ids, a plain count) is taken as it is; anything else goes
        # through the checks, which name what is wrong.
        if (
            0 < len(location_id) <= MAX_ID
            and 0 < len(item) <= MAX_ID
            and counted.isdigit()
            and counted.isascii()
            and len(counted) < 10
        ):
            on_hand = int(counted)
        else:
            location_id = read.ident(n, "location_id", location_id)
            item = read.ident(n, "sku", item)
            on_hand = read.count(n, counted)
        time = read.default if at is None else read.time(n, cells[at])
        if time is None:
            time = read.time(n, None)
        chunk.append(CountRow(n, location_id, item, on_hand, time))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ndjson_rows(lines: Iterable[str | bytes], as_of: datetime | None) -> Iterator[list[CountRow]]:
    """One JSON object per line: `{"location_id", "sku", "on_hand"[, "as_of"]}`."""
    read = _Reader(as_of)

    def rows() -> Iterator[CountRow]:
        n = 0
        for line in lines:
            if not line.strip():
                continue
            n += 1
            try:
                item = json.loads(line)
            except ValueError:
                raise _bad(n, "row", "not a JSON object") from None
            if not isinstance(item, dict):
                raise _bad(n, "row", "not a JSON object")
            g = item.get
            yield read.row(n, g("location_id"), g("sku"), g("on_hand"), g("as_of"))

    yield from _chunked(rows())


def json_feed(
    document: Any, as_of: datetime | None, mode: SnapshotMode, actor: Actor
) -> ImportSnapshot:
    """`{"as_of"?, "locations": [{"location_id", "as_of"?, "items": [{"sku", "on_hand"}]}]}`
    as an import; in full mode a location without items was counted empty."""
    if not isinstance(document, dict) or not isinstance(document.get("locations"), list):
        raise InvalidInput(
            "expected an object with a locations list", code="invalid_body", field="locations"
        )
    if document.get("as_of") is not None:
        as_of = parse_time(document["as_of"], "as_of")
    read, rows, empty, n = _Reader(as_of), [], [], 0
    for i, loc in enumerate(document["locations"]):
        location_id, loc_as_of = _location(loc, f"locations.{i}", as_of)
        if not loc["items"] and mode is SnapshotMode.FULL:
            if loc_as_of is None:
                raise InvalidInput(
                    "as_of is required (for the location or the document)",
                    code="invalid_body",
                    field=f"locations.{i}.as_of",
                )
            empty.append((location_id, loc_as_of))
        for item in loc["items"]:
            n += 1
            if not isinstance(item, dict):
                raise _bad(n, "row", "not a JSON object")
            rows.append(read.row(n, location_id, item.get("sku"), item.get("on_hand"), loc_as_of))
    chunks = list(_chunked(iter(rows)))

    def feed() -> Iterable[Sequence[CountRow]]:
        return chunks

    return ImportSnapshot(feed, mode, tuple(empty), actor)


def _location(loc: Any, where: str, as_of: datetime | None) -> tuple[str, datetime | None]:
    if not isinstance(loc, dict) or not isinstance(loc.get("items"), list):
        raise InvalidInput(
            "expected a location_id and an items list", code="invalid_body", field=where
        )
    location_id = loc.get("location_id")
    if not isinstance(location_id, str) or not location_id or len(location_id) > MAX_ID:
        raise InvalidInput(
            f"location_id must be 1 to {MAX_ID} characters",
            code="invalid_body",
            field=f"{where}.location_id",
        )
    if loc.get("as_of") is None:
        return location_id, as_of
    return location_id, parse_time(loc["as_of"], f"{where}.as_of")
