"""In-memory orders: optimistic versions, with pending events moved to the outbox."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.fulfilments import Fulfilment
from ordergrid.domain.orders import Order
from ordergrid.service.ports import BackorderCursor, ConcurrentUpdate, OrderFilter, Page


class InMemoryOrders(_Repo):
    def get(self, order_id: str) -> Order | None:
        o = self._t.orders.get(order_id)
        return None if o is None else copy.deepcopy(o)

    def by_external_id(self, channel: str, external_id: str) -> Order | None:
        order_id = self._t.external_ids.get((channel, external_id))
        return None if order_id is None else self.get(order_id)

    def add(self, order: Order) -> None:
        key = (order.channel, order.external_id)
        if order.id in self._t.orders or key in self._t.external_ids:
            raise ConcurrentUpdate(f"order {order.id!r} or {key!r} already exists")
        order.version = 1
        self._t.external_ids[key] = order.id
        self._store(order)

    def save(self, order: Order) -> None:
        stored = self._t.orders.get(order.id)
        if stored is None or stored.version != order.version:
            raise ConcurrentUpdate(f"order {order.id!r} changed since it was read")
        order.version += 1
        self._store(order)

    def _store(self, order: Order) -> None:
        """Keep a private copy and move the pending events to the outbox."""
        self._uow.outbox.append(order.events, order.updated_at)
        order.events.clear()
        self._t.orders[order.id] = copy.deepcopy(order)
        for f in order.fulfilments:
            self._t.fulfilment_orders[f.id] = order.id

    def _matches(self, o: Order, flt: OrderFilter) -> bool:
        return (
            (not flt.status or o.status.value == flt.status)
            and (not flt.channel or o.channel == flt.channel)
            and (not flt.external_id or o.external_id == flt.external_id)
            and (
                not flt.location_id or any(f.location_id == flt.location_id for f in o.fulfilments)
            )
        )

    def page(self, flt: OrderFilter, limit: int, cursor: str | None) -> Page[Order]:
        ids = sorted(
            k
            for k, o in self._t.orders.items()
            if (not cursor or k > cursor) and self._matches(o, flt)
        )
        items = [copy.deepcopy(self._t.orders[k]) for k in ids[:limit]]
        return Page(items, items[-1].id if len(ids) > limit and items else None)

    def order_id_of_fulfilment(self, fulfilment_id: str) -> str | None:
        return self._t.fulfilment_orders.get(fulfilment_id)

    def fulfilments(
        self, location_id: str | None, status: str | None, limit: int, cursor: str | None
    ) -> Page[tuple[Order, Fulfilment]]:
        found: list[tuple[str, str]] = []
        for fid, order_id in self._t.fulfilment_orders.items():
            if cursor and fid <= cursor:
                continue
            f = self._t.orders[order_id].fulfilment(fid)
            if f is None or (location_id and f.location_id != location_id):
                continue
            if status and f.status.value != status:
                continue
            found.append((fid, order_id))
        found.sort()
        copies: dict[str, Order] = {}
        items: list[tuple[Order, Fulfilment]] = []
        for fid, order_id in found[:limit]:
            order = copies.setdefault(order_id, copy.deepcopy(self._t.orders[order_id]))
            f = order.fulfilment(fid)
            assert f is not None  # found in the same order above
            items.append((order, f))
        return Page(items, items[-1][1].id if len(found) > limit and items else None)

    def backordered(
        self, skus: Iterable[str], limit: int, after: BackorderCursor | None = None
    ) -> list[BackorderCursor]:
        wanted = set(skus)
        waiting = sorted(
            (o.created_at, o.id)
            for o in self._t.orders.values()
            if not o.on_hold
            and any(line.backordered > 0 and line.sku in wanted for line in o.lines)
        )
        return [w for w in waiting if after is None or w > after][:limit]

    def backordered_skus_with_stock(self) -> list[str]:
        free = {p.sku for p in self._t.positions.values() if p.available > 0}
        return sorted(
            {
                line.sku
                for o in self._t.orders.values()
                if not o.on_hold
                for line in o.lines
                if line.backordered > 0 and line.sku in free
            }
        )

    def work_at(self, location_id: str, statuses: Iterable[str]) -> list[tuple[str, str]]:
        wanted = set(statuses)
        found = [
            (fid, order_id)
            for fid, order_id in self._t.fulfilment_orders.items()
            if (f := self._t.orders[order_id].fulfilment(fid)) is not None
            and f.location_id == location_id
            and f.status.value in wanted
        ]
        return sorted(found, reverse=True)

    def placed_since(self, since: datetime, limit: int) -> list[Order]:
        recent = [o for o in self._t.orders.values() if o.created_at >= since]
        recent.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        return [copy.deepcopy(o) for o in recent[:limit]]

    def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self._t.orders.values():
            counts[o.status.value] = counts.get(o.status.value, 0) + 1
        return counts
