"""Work released to each location per UTC day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, select

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.upsert import insert_on

W = t.location_load


class SqlLoad:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def today(self, day: date, location_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        wanted = sorted(set(location_ids))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(W.c.location_id, W.c.orders, W.c.units).where(
                W.c.day == day.isoformat(), W.c.location_id.in_(wanted)
            )
        )
        return {r.location_id: (r.orders, r.units) for r in rows}

    def add(self, location_id: str, day: date, orders: int, units: int) -> None:
        stmt = insert_on(self.conn.dialect.name, W).values(
            location_id=location_id, day=day.isoformat(), orders=orders, units=units
        )
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["location_id", "day"],
                set_={"orders": W.c.orders + orders, "units": W.c.units + units},
            )
        )
