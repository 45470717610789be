"""No oversell at full scale: after a configuration's load, every position's reserved
units equal what the open fulfilments of the stored orders hold, and none is oversold.

Read straight from the tables (the order documents and the positions), independently of
the code paths that wrote them. The load benchmark places no cart reservations, so open
fulfilments are the only holders of reserved units.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.engine import make_engine
from ordergrid.domain.fulfilments import OPEN

_OPEN = {status.value for status in OPEN}


@dataclass(frozen=True)
class StockCheck:
    orders: int
    positions: int  # positions holding or expected to hold reserved units
    oversold: int  # reserved above on-hand (less safety stock), or negative
    drifting: int  # reserved differs from what open fulfilments hold

    @property
    def ok(self) -> bool:
        return self.oversold == 0 and self.drifting == 0


def check_stock(url: str) -> StockCheck:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            held: Counter[tuple[str, str]] = Counter()
            orders = 0
            for (doc,) in conn.execute(select(t.orders.c.doc)):
                orders += 1
                for f in doc["fulfilments"]:
                    if f["status"] in _OPEN:
                        for line in f["lines"]:
                            held[(f["location_id"], line["sku"])] += line["quantity"]
            p = t.positions
            rows = conn.execute(
                select(p.c.location_id, p.c.sku, p.c.on_hand, p.c.reserved, p.c.safety_stock).where(
                    p.c.reserved != 0
                )
            ).all()
    finally:
        engine.dispose()
    reserved = {(r.location_id, r.sku): r for r in rows}
    oversold = sum(1 for r in rows if r.reserved < 0 or r.reserved > r.on_hand - r.safety_stock)
    keys = set(reserved) | {k for k, v in held.items() if v}
    drifting = sum(1 for k in keys if (reserved[k].reserved if k in reserved else 0) != held[k])
    return StockCheck(orders, len(keys), oversold, drifting)
