"""In-memory timers and exception cases."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.exception_queue import ExceptionCase
from ordergrid.service.ports import ConcurrentUpdate, ExceptionFilter, Page, Timer


def _timer_copy(timer: Timer) -> Timer:
    return replace(timer, data=copy.deepcopy(timer.data))


class InMemoryTimers(_Repo):
    """Writers are serialised by the store's lock, so a claimed timer is this
    transaction's alone until it commits or rolls back."""

    def add(self, timer: Timer) -> None:
        if timer.id in self._t.timers:
            raise ConcurrentUpdate(f"timer {timer.id!r} already exists")
        self._t.timers[timer.id] = _timer_copy(timer)

    def claim_due(self, now: datetime) -> Timer | None:
        due = [t for t in self._t.timers.values() if t.due_at <= now]
        if not due:
            return None
        return _timer_copy(min(due, key=lambda t: (t.due_at, t.id)))

    def claim_kind(self, kind: str, limit: int) -> list[Timer]:
        found = sorted(
            (t for t in self._t.timers.values() if t.kind == kind), key=lambda t: (t.due_at, t.id)
        )
        return [_timer_copy(t) for t in found[:limit]]

    def done(self, timer_id: str) -> None:
        self._t.timers.pop(timer_id, None)

    def postpone(self, timer_id: str, due_at: datetime, error: str) -> None:
        del error  # the SQL adapter keeps it for operators; tests read attempts
        timer = self._t.timers.get(timer_id)
        if timer is not None:
            self._t.timers[timer_id] = replace(timer, due_at=due_at, attempts=timer.attempts + 1)

    def cancel(self, fulfilment_id: str) -> None:
        for timer_id in [k for k, t in self._t.timers.items() if t.fulfilment_id == fulfilment_id]:
            del self._t.timers[timer_id]

    def pending(self, order_id: str) -> list[Timer]:
        found = [t for t in self._t.timers.values() if t.order_id == order_id]
        return [_timer_copy(t) for t in sorted(found, key=lambda t: (t.due_at, t.id))]

    def next_due(self) -> datetime | None:
        return min((t.due_at for t in self._t.timers.values()), default=None)


class InMemoryExceptions(_Repo):
    def add(self, case: ExceptionCase) -> None:
        if case.id in self._t.exceptions:
            raise ConcurrentUpdate(f"exception {case.id!r} already exists")
        self._t.exceptions[case.id] = copy.deepcopy(case)

    def get(self, case_id: str) -> ExceptionCase | None:
        case = self._t.exceptions.get(case_id)
        return None if case is None else copy.deepcopy(case)

    def save(self, case: ExceptionCase) -> None:
        if case.id not in self._t.exceptions:
            raise ConcurrentUpdate(f"exception {case.id!r} is not stored")
        self._t.exceptions[case.id] = copy.deepcopy(case)

    def page(self, flt: ExceptionFilter, limit: int, cursor: str | None) -> Page[ExceptionCase]:
        ids = sorted(
            k
            for k, c in self._t.exceptions.items()
            if (not cursor or k > cursor)
            and (not flt.status or c.status.value == flt.status)
            and (not flt.reason or c.reason == flt.reason)
            and (not flt.channel or c.channel == flt.channel)
            and (not flt.order_id or c.order_id == flt.order_id)
        )
        items = [copy.deepcopy(self._t.exceptions[k]) for k in ids[:limit]]
        return Page(items, items[-1].id if len(ids) > limit and items else None)
