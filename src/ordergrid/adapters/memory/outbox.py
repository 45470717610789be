"""In-memory outbox: events get positions 1, 2, …; commits are serial, so every `txid`
is 0 and delivery order is the order of positions."""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.events import Event
from ordergrid.service.ports import EventCursor, EventWindow, PrunedEvents, StoredEvent


class InMemoryOutbox(_Repo):
    def append(self, events: Sequence[Event], at: datetime) -> None:
        events_ = self._t.events
        for e in events:
            events_.append(
                StoredEvent(
                    self._last_position() + 1,
                    uuid.uuid4().hex,
                    e.type,
                    at,
                    copy.deepcopy(e.data),
                    e.order_id,
                    e.actor,
                )
            )

    def _last_position(self) -> int:
        if self._t.events:
            return self._t.events[-1].position
        return 0 if self._t.pruned is None else self._t.pruned.through[1]

    def for_order(self, order_id: str) -> list[StoredEvent]:
        return [_event_copy(e) for e in self._t.events if e.order_id == order_id]

    def after(self, cursor: EventCursor, limit: int) -> list[StoredEvent]:
        found = (e for e in self._t.events if e.cursor > cursor)
        return [_event_copy(e) for e in itertools.islice(found, max(limit, 0))]

    def consumer_position(self, consumer: str) -> EventCursor:
        return self._t.consumers.get(consumer, (0, 0))

    def set_consumer_position(self, consumer: str, cursor: EventCursor) -> None:
        self._t.consumers[consumer] = max(cursor, self._t.consumers.get(consumer, (0, 0)))

    def hold_consumer(self, consumer: str) -> bool:
        del consumer  # writes are serial under the store's lock
        return True

    def backlog(self, cursor: EventCursor, limit: int) -> int:
        return min(limit, sum(1 for e in self._t.events if e.cursor > cursor))

    def slowest_consumer(self) -> EventCursor | None:
        return min(self._t.consumers.values(), default=None)

    def locate(self, event_id: str) -> StoredEvent | None:
        found = next((e for e in self._t.events if e.id == event_id), None)
        return None if found is None else _event_copy(found)

    def start_of(self, moment: datetime) -> EventCursor:
        # Serial commits write events in time order: the first one at or after `moment`.
        first = next((e for e in self._t.events if e.at >= moment), None)
        if first is None:
            return (0, self._last_position())
        return (first.txid, first.position - 1)

    def window(self, window: EventWindow, limit: int) -> list[StoredEvent]:
        return [_event_copy(e) for e in itertools.islice(_within(self._t.events, window), limit)]

    def pruned(self) -> PrunedEvents | None:
        return self._t.pruned

    def prune(self, through: EventCursor, limit: int, now: datetime) -> int:
        # Never the newest event, as on SQLite, whose numbering continues from it.
        events = self._t.events
        doomed = [e for e in events[:-1] if e.cursor <= through][:limit]
        if not doomed:
            return 0
        before = self._t.pruned
        latest = max(e.at for e in doomed)
        self._t.events = events[len(doomed) :]
        self._t.pruned = PrunedEvents(
            doomed[-1].cursor,
            latest if before is None else max(latest, before.at),
            len(doomed) + (0 if before is None else before.events),
            now,
        )
        return len(doomed)


def _within(events: list[StoredEvent], window: EventWindow) -> Iterator[StoredEvent]:
    for e in events:
        if e.cursor <= window.after or e.type not in window.types:
            continue
        if e.cursor > window.through:
            return
        if window.since is not None and e.at < window.since:
            continue
        if window.until is not None and e.at >= window.until:
            continue
        yield e


def _event_copy(e: StoredEvent) -> StoredEvent:
    return replace(e, data=copy.deepcopy(e.data))
