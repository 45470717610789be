"""In-memory adapters: every port of `ordergrid.service.ports`, with real transactions.

First-class code, not a mock: service tests, the simulator and embedded demos run on it,
and the contract it follows is the SQL adapter's (conditional reservations, optimistic
order versions, an append-only ledger and outbox).

Transactions are serialisable by construction. A unit of work takes the store's lock on
entry, works on its own copy of the tables and publishes that copy on `commit()`;
leaving the block without committing drops the copy. A read-only unit of work takes no
lock: it reads the last committed tables, which are never changed once published. Every
stored value is immutable or copied on the way in and out, so copying a table is copying
a dict, not its contents. That copy is still linear in the store's size per transaction
(about 0.2 ms per thousand orders): right for tests and demos, not for replaying a season.
"""

from __future__ import annotations

import copy
import itertools
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from ordergrid.domain.catalogue import Product
from ordergrid.domain.events import Event
from ordergrid.domain.fulfilments import Fulfilment
from ordergrid.domain.inventory import PHYSICAL, Movement, Position
from ordergrid.domain.network import Location
from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing.policy import Policy, policy_from_document
from ordergrid.service.context import UnitOfWorkFactory
from ordergrid.service.ports import (
    ApiToken,
    BackorderCursor,
    ConcurrentUpdate,
    DecisionRepository,
    EventCursor,
    IdempotencyRepository,
    InventoryRepository,
    LedgerEntry,
    LocationRepository,
    OrderFilter,
    OrderRepository,
    Outbox,
    Page,
    PolicyRecord,
    PolicyRepository,
    PolicyVersion,
    ProductRepository,
    StoredDecision,
    StoredEvent,
    TokenRepository,
    UnitOfWork,
)

_PHYSICAL_REASONS = frozenset(r.value for r in PHYSICAL)


@dataclass(slots=True)
class _Tables:
    """Everything the store holds; values are immutable or private copies."""

    locations: dict[str, Location] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    adjustments: dict[str, datetime] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    external_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    fulfilment_orders: dict[str, str] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    consumers: dict[str, EventCursor] = field(default_factory=dict)
    decisions: list[StoredDecision] = field(default_factory=list)
    idempotency: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    tokens: dict[str, ApiToken] = field(default_factory=dict)
    policies: dict[str, PolicyRecord] = field(default_factory=dict)
    policy_versions: dict[str, list[PolicyVersion]] = field(default_factory=dict)

    def copy(self) -> _Tables:
        """A copy whose containers can change without touching this one."""
        return _Tables(
            dict(self.locations),
            dict(self.products),
            dict(self.positions),
            list(self.ledger),
            dict(self.adjustments),
            dict(self.orders),
            dict(self.external_ids),
            dict(self.fulfilment_orders),
            list(self.events),
            dict(self.consumers),
            list(self.decisions),
            dict(self.idempotency),
            dict(self.tokens),
            dict(self.policies),
            {k: list(v) for k, v in self.policy_versions.items()},
        )


class InMemoryStore:
    """The committed state shared by every unit of work opened on it (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables = _Tables()
        self.generation = 0  # bumped by each commit; detects a nested lost update

    def unit_of_work(self, readonly: bool = False) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self, readonly)


def unit_of_work_factory(store: InMemoryStore) -> UnitOfWorkFactory:
    """What `Context.uow` expects: a fresh unit of work on `store` per call."""

    def factory(readonly: bool = False) -> UnitOfWork:
        return InMemoryUnitOfWork(store, readonly)

    return factory


class _Repo:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _t(self) -> _Tables:
        return self._uow.tables


def _product_copy(p: Product) -> Product:
    return replace(p, attributes=copy.deepcopy(p.attributes))


class InMemoryLocations(_Repo):
    def get(self, location_id: str) -> Location | None:
        return self._t.locations.get(location_id)

    def put(self, location: Location) -> bool:
        created = location.id not in self._t.locations
        self._t.locations[location.id] = location
        return created

    def all(self) -> list[Location]:
        return [self._t.locations[k] for k in sorted(self._t.locations)]


class InMemoryProducts(_Repo):
    def get(self, sku: str) -> Product | None:
        p = self._t.products.get(sku)
        return None if p is None else _product_copy(p)

    def put(self, product: Product) -> bool:
        created = product.sku not in self._t.products
        self._t.products[product.sku] = _product_copy(product)
        return created

    def known(self, skus: Iterable[str]) -> set[str]:
        return {sku for sku in skus if sku in self._t.products}

    def tags(self, skus: Iterable[str]) -> dict[str, frozenset[str]]:
        return {sku: self._t.products[sku].tags for sku in set(skus) if sku in self._t.products}

    def page(self, limit: int, cursor: str | None) -> Page[Product]:
        keys = sorted(k for k in self._t.products if cursor is None or k > cursor)
        items = [_product_copy(self._t.products[k]) for k in keys[:limit]]
        return Page(items, items[-1].sku if len(keys) > limit and items else None)


class InMemoryInventory(_Repo):
    def positions(self, skus: Iterable[str]) -> list[Position]:
        wanted = set(skus)
        return [p for k, p in sorted(self._t.positions.items()) if k[1] in wanted]

    def position(self, location_id: str, sku: str) -> Position | None:
        return self._t.positions.get((location_id, sku))

    def lock(self, location_id: str, skus: Iterable[str]) -> None:
        del location_id, skus  # writers are serialised by the store's lock

    def skus_available_at(self, location_id: str) -> list[str]:
        return sorted(
            sku
            for (loc, sku), p in self._t.positions.items()
            if loc == location_id and p.available > 0
        )

    def reserve(self, location_id: str, sku: str, quantity: int) -> Position | None:
        p = self._t.positions.get((location_id, sku))
        if p is None or p.on_hand - p.reserved - p.safety_stock < quantity:
            return None
        return self._put(replace(p, reserved=p.reserved + quantity))

    def move(self, movement: Movement, clamp: bool = False) -> Position | None:
        m = movement
        p = self._t.positions.get((m.location_id, m.sku)) or Position(m.location_id, m.sku)
        on_hand = p.on_hand + m.on_hand_delta
        if on_hand < 0:
            if not clamp:
                return None
            on_hand = 0
        return self._put(replace(p, on_hand=on_hand, reserved=p.reserved + m.reserved_delta))

    def set_on_hand(self, location_id: str, sku: str, on_hand: int, as_of: datetime) -> Position:
        p = self._t.positions.get((location_id, sku)) or Position(location_id, sku)
        return self._put(replace(p, on_hand=on_hand, snapshot_as_of=as_of))

    def physical_since(self, location_id: str, sku: str, since: datetime) -> int:
        return sum(
            e.on_hand_delta
            for e in self._t.ledger
            if e.location_id == location_id
            and e.sku == sku
            and e.at > since
            and str(e.reason) in _PHYSICAL_REASONS
        )

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        self._t.ledger.extend(replace(e, details=copy.deepcopy(e.details)) for e in entries)

    def claim_adjustment(self, adjustment_id: str, at: datetime) -> bool:
        if adjustment_id in self._t.adjustments:
            return False
        self._t.adjustments[adjustment_id] = at
        return True

    def adjustment_applied(self, adjustment_id: str) -> bool:
        """Whether the id was claimed (not part of the port; for tests and tools)."""
        return adjustment_id in self._t.adjustments

    def _put(self, p: Position) -> Position:
        self._t.positions[(p.location_id, p.sku)] = p
        return p


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

    def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self._t.orders.values():
            counts[o.status.value] = counts.get(o.status.value, 0) + 1
        return counts


class InMemoryOutbox(_Repo):
    """Events get positions 1, 2, …; commits are serial, so every `txid` is 0."""

    def append(self, events: Sequence[Event], at: datetime) -> None:
        events_ = self._t.events
        for e in events:
            position = events_[-1].position + 1 if events_ else 1
            events_.append(
                StoredEvent(
                    position,
                    uuid.uuid4().hex,
                    e.type,
                    at,
                    copy.deepcopy(e.data),
                    e.order_id,
                    e.actor,
                )
            )

    def for_order(self, order_id: str) -> list[StoredEvent]:
        return [_event_copy(e) for e in self._t.events if e.order_id == order_id]

    def after(self, cursor: EventCursor, limit: int) -> list[StoredEvent]:
        found = (e for e in self._t.events if e.cursor > cursor)
        return [_event_copy(e) for e in itertools.islice(found, max(limit, 0))]

    def consumer_position(self, consumer: str) -> EventCursor:
        return self._t.consumers.get(consumer, (0, 0))

    def set_consumer_position(self, consumer: str, cursor: EventCursor) -> None:
        self._t.consumers[consumer] = max(cursor, self._t.consumers.get(consumer, (0, 0)))


def _event_copy(e: StoredEvent) -> StoredEvent:
    return replace(e, data=copy.deepcopy(e.data))


class InMemoryDecisions(_Repo):
    def add(self, decision: StoredDecision) -> None:
        self._t.decisions.append(replace(decision, explanation=copy.deepcopy(decision.explanation)))

    def for_order(self, order_id: str) -> list[StoredDecision]:
        found = [d for d in self._t.decisions if d.order_id == order_id]
        found.sort(key=lambda d: (d.at, d.id))
        return [replace(d, explanation=copy.deepcopy(d.explanation)) for d in found]


class InMemoryPolicies(_Repo):
    def add_version(
        self, policy_id: str, document: dict[str, Any], at: datetime, actor: str | None
    ) -> int:
        current = self._t.policies.get(policy_id)
        version = 1 if current is None else current.latest_version + 1
        stored = PolicyVersion(policy_id, version, copy.deepcopy(document), at, actor)
        self._t.policy_versions.setdefault(policy_id, []).append(stored)
        active = None if current is None else current.active_version
        self._t.policies[policy_id] = PolicyRecord(policy_id, version, active)
        return version

    def record(self, policy_id: str) -> PolicyRecord | None:
        return self._t.policies.get(policy_id)

    def records(self) -> list[PolicyRecord]:
        return [self._t.policies[k] for k in sorted(self._t.policies)]

    def versions(self, policy_id: str) -> list[PolicyVersion]:
        return [
            replace(v, document=copy.deepcopy(v.document))
            for v in self._t.policy_versions.get(policy_id, [])
        ]

    def set_active(self, policy_id: str, version: int | None) -> None:
        self._t.policies[policy_id] = replace(self._t.policies[policy_id], active_version=version)

    def active(self) -> list[Policy]:
        out = []
        for record in self.records():
            if record.active_version is not None:
                v = self._t.policy_versions[record.id][record.active_version - 1]
                out.append(policy_from_document(v.policy_id, v.version, v.document))
        return out


class InMemoryIdempotency(_Repo):
    def get(self, key: str) -> tuple[str, str] | None:
        seen = self._t.idempotency.get(key)
        return None if seen is None else (seen[0], seen[1])

    def put(self, key: str, fingerprint: str, order_id: str, at: datetime) -> None:
        if key in self._t.idempotency:
            raise ConcurrentUpdate(f"idempotency key {key!r} already recorded")
        self._t.idempotency[key] = (fingerprint, order_id, at)


class InMemoryTokens(_Repo):
    def by_hash(self, token_hash: str) -> ApiToken | None:
        return next((t for t in self._t.tokens.values() if t.token_hash == token_hash), None)

    def add(self, token: ApiToken) -> None:
        if token.id in self._t.tokens or self.by_hash(token.token_hash) is not None:
            raise ConcurrentUpdate(f"token {token.id!r} already exists")
        self._t.tokens[token.id] = token

    def all(self) -> list[ApiToken]:
        return sorted(self._t.tokens.values(), key=lambda t: (t.created_at, t.id))


class InMemoryUnitOfWork:
    """One transaction on an `InMemoryStore`; not re-entrant, one thread at a time.

    Holding the store's lock from `__enter__` to `__exit__` serialises transactions, so a
    conditional reservation can never be lost to a concurrent writer. A unit of work
    nested in another one on the same thread is allowed, but if the inner one commits
    first, the outer `commit()` raises `ConcurrentUpdate` instead of losing its update.
    A `readonly` one sees the state committed when it began, never blocks, and may not
    commit.
    """

    locations: LocationRepository
    products: ProductRepository
    inventory: InventoryRepository
    orders: OrderRepository
    outbox: Outbox
    decisions: DecisionRepository
    policies: PolicyRepository
    idempotency: IdempotencyRepository
    tokens: TokenRepository

    def __init__(self, store: InMemoryStore, readonly: bool = False) -> None:
        self.store = store
        self.readonly = readonly
        self._tables: _Tables | None = None
        self._generation = -1
        self.locations = InMemoryLocations(self)
        self.products = InMemoryProducts(self)
        self.inventory = InMemoryInventory(self)
        self.orders = InMemoryOrders(self)
        self.outbox = InMemoryOutbox(self)
        self.decisions = InMemoryDecisions(self)
        self.policies = InMemoryPolicies(self)
        self.idempotency = InMemoryIdempotency(self)
        self.tokens = InMemoryTokens(self)

    @property
    def tables(self) -> _Tables:
        if self._tables is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._tables

    def __enter__(self) -> Self:
        if self._tables is not None:
            raise RuntimeError("this unit of work is already in use")
        if self.readonly:
            self._begin()  # published tables are never changed: no lock needed
            return self
        self.store.lock.acquire()
        try:
            self._begin()
        except BaseException:
            self.store.lock.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tables = None
        if not self.readonly:
            self.store.lock.release()

    def _begin(self) -> None:
        self._tables = self.store.tables.copy()
        self._generation = self.store.generation

    def commit(self) -> None:
        """Publish this transaction's changes; the unit of work stays usable."""
        tables = self.tables
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        if self.store.generation != self._generation:
            raise ConcurrentUpdate("another unit of work committed during this one")
        self.store.tables = tables
        self.store.generation += 1
        self._begin()

    def rollback(self) -> None:
        """Forget the changes made since the last commit."""
        self.tables  # noqa: B018 - raises when used outside a `with` block
        self._begin()


class FixedClock:
    """A clock that moves only when told to; always timezone-aware UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _utc(start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = _utc(when)

    def advance(self, delta: timedelta | None = None, *, seconds: float = 0) -> datetime:
        """Move forward by `delta` plus `seconds`; returns the new time."""
        with self._lock:
            self._now += (delta or timedelta()) + timedelta(seconds=seconds)
            return self._now


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    return when.astimezone(UTC)


class SequentialIds:
    """Ids `000000000001`, `000000000002`, …: deterministic and ordered like creation."""

    def __init__(self, start: int = 1, prefix: str = "") -> None:
        self._counter: Iterator[int] = itertools.count(start)
        self._prefix = prefix
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            return f"{self._prefix}{next(self._counter):012d}"


class StaticGeocoder(dict[tuple[str, str], tuple[float, float]]):
    """Geocoder from a fixed table `{(country, postal_code): (lat, lon)}`.

    A key with an empty country matches that postal code in any country.
    """

    def locate(self, country: str | None, postal_code: str | None) -> tuple[float, float] | None:
        if not postal_code:
            return None
        code = postal_code.strip()
        return self.get(((country or "").strip().upper(), code)) or self.get(("", code))
