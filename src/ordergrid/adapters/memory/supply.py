"""In-memory supply documents; stored and returned as private copies (they are mutable)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.supply import Incoming, Peg, Supply, Waiting, peg
from ordergrid.service.ports import Page, SupplyFilter


def _copy(s: Supply) -> Supply:
    """Lines are mutable, pegs are frozen: new lines, a new list of the same pegs."""
    return replace(s, lines=[replace(line) for line in s.lines], pegs=list(s.pegs))


def _matches(s: Supply, flt: SupplyFilter) -> bool:
    return (
        (flt.location_id is None or s.location_id == flt.location_id)
        and (flt.sku is None or s.line(flt.sku) is not None)
        and (flt.status is None or s.status.value == flt.status)
        and (flt.expected_after is None or s.expected_at >= flt.expected_after)
        and (flt.expected_before is None or s.expected_at < flt.expected_before)
        and (flt.origin is None or s.origin == flt.origin)
    )


class InMemorySupply(_Repo):
    """Writers are serialised by the store's lock, so `lock` has nothing more to do."""

    def get(self, supply_id: str, lock: bool = False) -> Supply | None:
        del lock
        found = self._t.supply.get(supply_id)
        return None if found is None else _copy(found)

    def put(self, supply: Supply) -> None:
        before = self._t.supply.get(supply.id)
        self._reindex(supply.id, before.pegs if before else [], supply.pegs)
        self._t.supply[supply.id] = _copy(supply)

    def _reindex(self, supply_id: str, old: list[Peg], new: list[Peg]) -> None:
        index = self._t.pegged_orders
        for order_id in {p.order_id for p in old} - {p.order_id for p in new}:
            left = index.get(order_id, frozenset()) - {supply_id}
            if left:
                index[order_id] = left
            else:
                index.pop(order_id, None)
        for order_id in {p.order_id for p in new}:
            index[order_id] = index.get(order_id, frozenset()) | {supply_id}

    def page(self, flt: SupplyFilter, limit: int, cursor: str | None) -> Page[Supply]:
        ids = sorted(
            k for k, s in self._t.supply.items() if (not cursor or k > cursor) and _matches(s, flt)
        )
        items = [_copy(self._t.supply[k]) for k in ids[:limit]]
        return Page(items, items[-1].id if len(ids) > limit and items else None)

    def incoming(self, sku: str, expected_by: datetime | None = None) -> list[Incoming]:
        found = [
            Incoming(s.id, s.location_id, s.expected_at, line.free)
            for s in self._t.supply.values()
            if s.incoming
            and (expected_by is None or s.expected_at <= expected_by)
            and (line := s.line(sku)) is not None
            and line.free > 0
        ]
        return sorted(found, key=lambda x: (x.expected_at, x.supply_id))

    def peg(self, supply_id: str, waiting: Waiting, now: datetime) -> Peg | None:
        stored = self._t.supply.get(supply_id)
        if stored is None:
            return None
        supply = _copy(stored)
        taken = peg(supply, waiting, now)
        if taken is not None:
            # Only this order gains a document: no need to rebuild its whole index entry set.
            self._t.supply[supply_id] = supply
            index = self._t.pegged_orders
            index[waiting.order_id] = index.get(waiting.order_id, frozenset()) | {supply_id}
        return taken

    def pegs_of_order(self, order_id: str) -> list[Peg]:
        pegs = [
            p
            for supply_id in self._t.pegged_orders.get(order_id, ())
            for p in self._t.supply[supply_id].pegs
            if p.order_id == order_id
        ]
        return sorted(pegs, key=lambda p: (p.supply_id, p.line_id))

    def claim_receipt(self, receipt_id: str, supply_id: str, at: datetime) -> str | None:
        found = self._t.receipts.get(receipt_id)
        if found is not None:
            return found[0]
        self._t.receipts[receipt_id] = (supply_id, at)
        return None
