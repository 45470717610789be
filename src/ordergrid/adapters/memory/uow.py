"""The in-memory store and its transactions: `InMemoryUnitOfWork`."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from ordergrid.adapters.memory.catalogue import InMemoryLocations, InMemoryProducts
from ordergrid.adapters.memory.inventory import InMemoryInventory, InMemoryStockReads
from ordergrid.adapters.memory.lifecycle import InMemoryExceptions, InMemoryTimers
from ordergrid.adapters.memory.orders import InMemoryOrders
from ordergrid.adapters.memory.outbox import InMemoryOutbox
from ordergrid.adapters.memory.records import (
    InMemoryDecisions,
    InMemoryIdempotency,
    InMemoryLoad,
    InMemoryPolicies,
    InMemoryTokens,
)
from ordergrid.adapters.memory.reservations import InMemoryReservations
from ordergrid.adapters.memory.snapshot_import import InMemorySnapshotImports
from ordergrid.adapters.memory.stock_rules import InMemoryChannels, InMemoryStockRules
from ordergrid.adapters.memory.supply import InMemorySupply
from ordergrid.adapters.memory.tables import _Tables
from ordergrid.adapters.memory.webhooks import InMemoryWebhooks
from ordergrid.service.context import UnitOfWorkFactory
from ordergrid.service.ports import (
    ChannelRepository,
    ConcurrentUpdate,
    DecisionRepository,
    ExceptionRepository,
    IdempotencyRepository,
    InventoryRepository,
    LoadRepository,
    LocationRepository,
    OrderRepository,
    Outbox,
    PolicyRepository,
    ProductRepository,
    ReservationRepository,
    SnapshotImportRepository,
    StockReads,
    StockRuleRepository,
    SupplyRepository,
    TimerRepository,
    TokenRepository,
    UnitOfWork,
    WebhookRepository,
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
    load: LoadRepository
    idempotency: IdempotencyRepository
    tokens: TokenRepository
    timers: TimerRepository
    exceptions: ExceptionRepository
    webhooks: WebhookRepository
    stock_rules: StockRuleRepository
    channels: ChannelRepository
    reservations: ReservationRepository
    supply: SupplyRepository
    snapshot_imports: SnapshotImportRepository
    stock_reads: StockReads

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
        self.load = InMemoryLoad(self)
        self.idempotency = InMemoryIdempotency(self)
        self.tokens = InMemoryTokens(self)
        self.timers = InMemoryTimers(self)
        self.exceptions = InMemoryExceptions(self)
        self.webhooks = InMemoryWebhooks(self)
        self.stock_rules = InMemoryStockRules(self)
        self.channels = InMemoryChannels(self)
        self.reservations = InMemoryReservations(self)
        self.supply = InMemorySupply(self)
        self.snapshot_imports = InMemorySnapshotImports(self)
        self.stock_reads = InMemoryStockReads(self)

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
