"""In-memory cart reservations: optimistic versions, pending events moved to the outbox."""

from __future__ import annotations

import copy

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.reservations import Reservation
from ordergrid.service.ports import ConcurrentUpdate, Page, ReservationFilter


class InMemoryReservations(_Repo):
    def add(self, reservation: Reservation) -> None:
        t = self._t
        key = (reservation.channel, reservation.external_id)
        taken = (
            reservation.id in t.reservations
            or (reservation.external_id is not None and key in t.reservation_external_ids)
            or (
                reservation.idempotency_key is not None
                and reservation.idempotency_key in t.reservation_keys
            )
        )
        if taken:
            raise ConcurrentUpdate(f"reservation {reservation.id!r} or its keys already exist")
        reservation.version = 1
        if reservation.external_id is not None:
            t.reservation_external_ids[(reservation.channel, reservation.external_id)] = (
                reservation.id
            )
        if reservation.idempotency_key is not None:
            t.reservation_keys[reservation.idempotency_key] = reservation.id
        self._store(reservation)

    def get(self, reservation_id: str) -> Reservation | None:
        r = self._t.reservations.get(reservation_id)
        return None if r is None else copy.deepcopy(r)

    def by_external_id(self, channel: str, external_id: str) -> Reservation | None:
        found = self._t.reservation_external_ids.get((channel, external_id))
        return None if found is None else self.get(found)

    def by_idempotency_key(self, key: str) -> Reservation | None:
        found = self._t.reservation_keys.get(key)
        return None if found is None else self.get(found)

    def save(self, reservation: Reservation) -> None:
        stored = self._t.reservations.get(reservation.id)
        if stored is None or stored.version != reservation.version:
            raise ConcurrentUpdate(f"reservation {reservation.id!r} changed since it was read")
        reservation.version += 1
        self._store(reservation)

    def _store(self, reservation: Reservation) -> None:
        self._uow.outbox.append(reservation.events, reservation.updated_at)
        reservation.events.clear()
        self._t.reservations[reservation.id] = copy.deepcopy(reservation)

    def page(self, flt: ReservationFilter, limit: int, cursor: str | None) -> Page[Reservation]:
        ids = sorted(
            k
            for k, r in self._t.reservations.items()
            if (not cursor or k > cursor)
            and (not flt.status or r.status.value == flt.status)
            and (not flt.channel or r.channel == flt.channel)
        )
        items = [copy.deepcopy(self._t.reservations[k]) for k in ids[:limit]]
        return Page(items, items[-1].id if len(ids) > limit and items else None)

    def holding(self, location_id: str, sku: str) -> list[str]:
        found = [r for r in self._t.reservations.values() if (location_id, sku) in r.holds()]
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return [r.id for r in found]
