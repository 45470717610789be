"""Stock positions read in bulk: a sourcing view or a cache fill reads hundreds to
hundreds of thousands of rows, so the per-row work is kept to building the position."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import DateTime, type_coerce

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.tables import utc
from ordergrid.domain.inventory import Position

P = t.positions

#: A position's columns in `Position`'s field order. `snapshot_as_of` comes as the
#: driver gives it and is made UTC here, only where it is set: the column type's own
#: conversion is a call per row, set or not, and cost more than the rest of the row.
COLUMNS = (
    P.c.location_id,
    P.c.sku,
    P.c.on_hand,
    P.c.reserved,
    P.c.safety_stock,
    type_coerce(P.c.snapshot_as_of, DateTime(timezone=True)).label("snapshot_as_of"),
)


def position(r: Any) -> Position:
    """One row of `COLUMNS`."""
    loc, sku, on_hand, reserved, safety, as_of = r
    return Position(loc, sku, on_hand, reserved, safety, None if as_of is None else utc(as_of))


def positions(rows: Iterable[Any]) -> list[Position]:
    """Rows of `COLUMNS`, in order."""
    return [
        Position(loc, sku, on_hand, reserved, safety, None if as_of is None else utc(as_of))
        for loc, sku, on_hand, reserved, safety, as_of in rows
    ]
