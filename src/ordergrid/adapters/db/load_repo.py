"""Work released to each location per UTC day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.sql.dml import Insert

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.upsert import insert_on

W = t.location_load

# Built once: every placement reads and adds to the day's load.
_TODAY = select(W.c.location_id, W.c.orders, W.c.units).where(
    W.c.day == bindparam("b_day"), W.c.location_id.in_(bindparam("b_ids", expanding=True))
)


@lru_cache(maxsize=2)
def _add(dialect_name: str) -> Insert:
    stmt = insert_on(dialect_name, W).values(
        location_id=bindparam("b_loc"),
        day=bindparam("b_day"),
        orders=bindparam("b_orders"),
        units=bindparam("b_units"),
    )
    return stmt.on_conflict_do_update(
        index_elements=["location_id", "day"],
        set_={
            "orders": W.c.orders + bindparam("b_orders"),
            "units": W.c.units + bindparam("b_units"),
        },
    )


class SqlLoad:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def today(self, day: date, location_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        wanted = sorted(set(location_ids))
        if not wanted:
            return {}
        rows = self.conn.execute(_TODAY, {"b_day": day.isoformat(), "b_ids": wanted})
        return {r.location_id: (r.orders, r.units) for r in rows}

    def add(self, location_id: str, day: date, orders: int, units: int) -> None:
        self.conn.execute(
            _add(self.conn.dialect.name),
            {"b_loc": location_id, "b_day": day.isoformat(), "b_orders": orders, "b_units": units},
        )
