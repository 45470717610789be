"""Bulk snapshots: many locations' counts in one request, as JSON, NDJSON or CSV.

The request is one transaction: any bad row (unknown location or SKU, malformed value,
duplicate location and SKU) refuses the whole import with 422 naming `rows.<n>.<column>`.
Bodies may be as large as `ORDERGRID_MAX_IMPORT_BYTES` (256 MiB by default, about five
million CSV rows); every other endpoint keeps `ORDERGRID_MAX_BODY_BYTES`. The body is
spooled as it arrives (to a temporary file past `SPOOL_BYTES`), and CSV and NDJSON rows
are parsed from there in chunks: memory stays bounded whatever the size. A JSON document
is parsed whole, so large feeds should come as CSV or NDJSON.
"""

from __future__ import annotations

import codecs
import json
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.stock_counts import SnapshotMode
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.entrypoints.snapshot_feeds import (
    FeedFormat,
    csv_rows,
    json_feed,
    ndjson_rows,
    parse_time,
)
from ordergrid.service.commands import Actor
from ordergrid.service.snapshot_import import ImportResult, ImportSnapshot

PATH = "/v1/inventory/snapshots/bulk"
router = APIRouter(tags=["inventory"])

_MEDIA = {
    "application/json": FeedFormat.JSON,
    "application/x-ndjson": FeedFormat.NDJSON,
    "text/csv": FeedFormat.CSV,
}


class ImportOut(BaseModel):
    mode: SnapshotMode
    rows: int
    locations: int
    applied: int
    stale: int
    unlisted: int
    stale_rows: list[int]


def _result(r: ImportResult) -> dict[str, Any]:
    t = r.totals
    return {
        "mode": r.mode,
        "rows": r.rows,
        "locations": r.locations,
        "applied": t.applied,
        "stale": t.stale,
        "unlisted": t.unlisted,
        "stale_rows": list(t.stale_rows),
    }


#: Body bytes kept in memory before the spool moves to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024

Body = tempfile.SpooledTemporaryFile[bytes]


def _lines(body: Body) -> Iterator[str]:
    """The spooled body's lines, from its start each time (a retried import reads again).
    Lines end where the bytes hold a newline, which UTF-8 never puts inside a character."""
    body.seek(0)
    decode = codecs.getincrementaldecoder("utf-8-sig")().decode
    for raw in body:
        try:
            yield decode(raw)
        except UnicodeDecodeError as exc:
            raise InvalidInput("the body is not UTF-8", code="invalid_body", field="body") from exc


def _command(
    kind: FeedFormat, body: Body, mode: SnapshotMode, as_of: datetime | None, actor: Actor
) -> ImportSnapshot:
    if kind is FeedFormat.CSV:
        return ImportSnapshot(lambda: csv_rows(_lines(body), as_of), mode, actor=actor)
    if kind is FeedFormat.NDJSON:
        return ImportSnapshot(lambda: ndjson_rows(_lines(body), as_of), mode, actor=actor)
    try:
        document = json.loads("".join(_lines(body)))
    except ValueError as exc:
        raise InvalidInput("the body is not JSON", code="invalid_body", field="body") from exc
    return json_feed(document, as_of, mode, actor)


async def _spooled(request: Request) -> Body:
    body: Body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller closes it
    try:
        async for chunk in request.stream():
            if len(chunk) > SPOOL_BYTES // 8:  # large writes may roll over to disk: a thread
                await run_in_threadpool(body.write, chunk)
            else:
                body.write(chunk)
    except BaseException:
        body.close()
        raise
    return body


@router.post(
    PATH,
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_snapshots(
    request: Request,
    app: App,
    actor: Annotated[Actor, Depends(require(Right.INVENTORY))],
    mode: Annotated[SnapshotMode, Query()] = SnapshotMode.PARTIAL,
    as_of: Annotated[
        AwareDatetime | None, Query(description="for rows (or locations) that give none")
    ] = None,
) -> dict[str, Any]:
    """Counts of many locations: each becomes on-hand plus the movements recorded since
    its `as_of`; rows older than a position's last applied count change nothing. With
    `mode=full` each location in the feed was counted completely, so its positions that no
    row lists become zero (plus movements since). All rows apply, or none."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    kind = _MEDIA.get(media)
    if kind is None:
        raise InvalidInput(
            "send application/json, application/x-ndjson or text/csv",
            code="unsupported_media_type",
            field="content-type",
            allowed=sorted(_MEDIA),
        )
    default = None if as_of is None else parse_time(as_of.isoformat(), "as_of")
    body = await _spooled(request)

    def run() -> ImportResult:
        # Decoding and parsing a large body is CPU work: off the event loop, like the import.
        with body:
            result: ImportResult = app.bus.handle(_command(kind, body, mode, default, actor))
        return result

    return _result(await run_in_threadpool(run))
