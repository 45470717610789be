"""JSON for the database's JSON columns: written through orjson, read by the standard
library.

Explanations of sourcing decisions run to tens of kilobytes per order; the standard
library's encoder took a tenth of the time of a placement. What is written reads back to
the same values: keys that are not strings become strings as `json.dumps` makes them, and
anything orjson refuses (integers beyond 64 bits, numpy scalars) goes through the
standard library. Reading stays with the standard library: orjson turns integers beyond
64 bits into floats, and rows written before may hold NaN."""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    return json.loads(text)
