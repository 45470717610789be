"""Work released to each location per UTC day."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.sql.dml import Insert

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.driver import write
from ordergrid.adapters.db.upsert import insert_on

W = t.location_load
# A sourcing view asks for the load of every location holding its SKUs (a thousand on a
# large network): one array parameter instead of an IN list keeps the statement compiled
# once and cheap to bind.
_TODAY_SQLITE = text(
    "SELECT location_id, orders, units FROM location_load "
    "WHERE day = :day AND location_id IN (SELECT value FROM json_each(:ids))"
)
_TODAY_POSTGRES = text(
    "SELECT location_id, orders, units FROM location_load "
    "WHERE day = :day AND location_id = ANY(:ids)"
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
        postgres = self.conn.dialect.name == "postgresql"
        ids: object = wanted if postgres else json.dumps(wanted)
        rows = self.conn.execute(
            _TODAY_POSTGRES if postgres else _TODAY_SQLITE, {"day": day.isoformat(), "ids": ids}
        )
        return {location_id: (orders, units) for location_id, orders, units in rows}

    def add(self, location_id: str, day: date, orders: int, units: int) -> None:
        write(
            self.conn,
            _add(self.conn.dialect.name),
            {"b_loc": location_id, "b_day": day.isoformat(), "b_orders": orders, "b_units": units},
        )
