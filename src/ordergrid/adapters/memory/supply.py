"""In-memory supply documents; stored and returned as private copies (they are mutable)."""

from __future__ import annotations

import copy
from datetime import datetime

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.supply import Peg, Supply
from ordergrid.service.ports import Page, SupplyFilter


def _matches(s: Supply, flt: SupplyFilter) -> bool:
    return (
        (flt.location_id is None or s.location_id == flt.location_id)
        and (flt.sku is None or s.line(flt.sku) is not None)
        and (flt.status is None or s.status.value == flt.status)
        and (flt.expected_after is None or s.expected_at >= flt.expected_after)
        and (flt.expected_before is None or s.expected_at < flt.expected_before)
    )


class InMemorySupply(_Repo):
    """Writers are serialised by the store's lock, so `lock` has nothing more to do."""

    def get(self, supply_id: str, lock: bool = False) -> Supply | None:
        del lock
        found = self._t.supply.get(supply_id)
        return None if found is None else copy.deepcopy(found)

    def put(self, supply: Supply) -> None:
        self._t.supply[supply.id] = copy.deepcopy(supply)

    def page(self, flt: SupplyFilter, limit: int, cursor: str | None) -> Page[Supply]:
        ids = sorted(
            k for k, s in self._t.supply.items() if (not cursor or k > cursor) and _matches(s, flt)
        )
        items = [copy.deepcopy(self._t.supply[k]) for k in ids[:limit]]
        return Page(items, items[-1].id if len(ids) > limit and items else None)

    def incoming(self, sku: str, expected_by: datetime | None = None) -> list[Supply]:
        found = [
            s
            for s in self._t.supply.values()
            if s.incoming
            and (expected_by is None or s.expected_at <= expected_by)
            and (line := s.line(sku)) is not None
            and line.free > 0
        ]
        return [copy.deepcopy(s) for s in sorted(found, key=lambda s: (s.expected_at, s.id))]

    def pegs_of_order(self, order_id: str) -> list[Peg]:
        pegs = [p for s in self._t.supply.values() for p in s.pegs if p.order_id == order_id]
        return sorted(pegs, key=lambda p: (p.supply_id, p.line_id))

    def claim_receipt(self, receipt_id: str, supply_id: str, at: datetime) -> str | None:
        found = self._t.receipts.get(receipt_id)
        if found is not None:
            return found[0]
        self._t.receipts[receipt_id] = (supply_id, at)
        return None
