"""The SQL unit of work: one connection and one transaction per use case."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ordergrid.adapters.db.catalogue_repo import (
    LocationCache,
    MetaCounters,
    ProductTagCache,
    SqlLocations,
    SqlProducts,
)
from ordergrid.adapters.db.exceptions_repo import SqlExceptions
from ordergrid.adapters.db.inventory_repo import SqlInventory
from ordergrid.adapters.db.load_repo import SqlLoad
from ordergrid.adapters.db.orders_repo import SqlOrders
from ordergrid.adapters.db.outbox_repo import SqlOutbox
from ordergrid.adapters.db.policies_repo import ActivePolicyCache, SqlPolicies
from ordergrid.adapters.db.postgres_limits import NoAnswer
from ordergrid.adapters.db.records_repo import SqlDecisions, SqlIdempotency, SqlTokens
from ordergrid.adapters.db.reservations_repo import SqlReservations
from ordergrid.adapters.db.snapshot_import_repo import SqlSnapshotImports
from ordergrid.adapters.db.stock_cache import SqlStockReads, StockCache
from ordergrid.adapters.db.stock_rules_repo import SettingsCache, SqlChannels, SqlStockRules
from ordergrid.adapters.db.supply_repo import SqlSupply
from ordergrid.adapters.db.timers_repo import SqlTimers
from ordergrid.adapters.db.webhooks_repo import SqlWebhooks
from ordergrid.adapters.db.write_gate import WriteGate
from ordergrid.domain.errors import InvalidInput, Unavailable
from ordergrid.service.ports import (
    ChannelRepository,
    Clock,
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
    WebhookRepository,
)

#: PostgreSQL SQLSTATEs that mean "run the transaction again".
_RETRYABLE_STATES = {"40001", "40P01", "55P03"}
#: query_canceled: here, the statement outlived `statement_timeout`.
_STATEMENT_TIMEOUT = "57014"


def _translate(exc: BaseException) -> BaseException | None:
    """Map driver errors to what the service layer understands."""
    if isinstance(exc, PoolTimeout):
        return Unavailable("every database connection is busy; retry shortly", code="database_busy")
    if isinstance(exc, IntegrityError):
        return ConcurrentUpdate(str(exc.orig))
    if isinstance(exc, DataError):
        # A value the database cannot hold (out of range, untranslatable text).
        return InvalidInput(
            "a value is out of range or not storable",
            code="invalid_value",
            field="body",
            reason=str(exc.orig).splitlines()[0],
        )
    if isinstance(exc, DBAPIError):
        return _translate_driver(exc)
    return None


def _translate_driver(exc: DBAPIError) -> BaseException | None:
    state = getattr(exc.orig, "sqlstate", None)
    if state in _RETRYABLE_STATES or "database is locked" in str(exc.orig):
        return ConcurrentUpdate(str(exc.orig))
    if state == _STATEMENT_TIMEOUT or isinstance(exc.orig, NoAnswer):
        return Unavailable(
            "the database did not answer in time; retry shortly", code="database_timeout"
        )
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return Unavailable(
            "the database is unreachable; retry shortly", code="database_unavailable"
        )
    return None


class SqlUnitOfWork:
    # Typed as the ports: a Protocol's attributes must match exactly.
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

    def __init__(
        self,
        engine: Engine,
        cache: LocationCache,
        clock: Clock,
        readonly: bool = False,
        write_gate: WriteGate | None = None,
        policy_cache: ActivePolicyCache | None = None,
        tag_cache: ProductTagCache | None = None,
        stock_cache: StockCache | None = None,
        settings_cache: SettingsCache | None = None,
    ) -> None:
        self.engine, self.cache, self.clock = engine, cache, clock
        self.policy_cache = policy_cache or ActivePolicyCache()
        self.tag_cache = tag_cache or ProductTagCache()
        self.stock_cache = stock_cache or StockCache()
        self.settings_cache = settings_cache or SettingsCache()
        self.readonly = readonly
        self.conn: Connection | None = None
        # SQLite allows one writer: this process's writers queue at the gate.
        self.gate = None if readonly else write_gate

    def __enter__(self) -> Self:
        if self.gate is not None and not self.gate.acquire():
            raise Unavailable(
                "the database is busy with other writes; retry shortly", code="database_busy"
            )
        try:
            self._begin()
        except BaseException as exc:
            # Whatever stopped it (the database, Ctrl+C), the connection and the write
            # turn are given back: a turn kept here would stop every other writer.
            self._close()
            translated = _translate(exc)
            if translated is None:
                raise
            raise translated from exc
        return self

    def _begin(self) -> None:
        self.conn = conn = self.engine.connect()
        if self.readonly:
            self.conn = conn = conn.execution_options(ordergrid_readonly=True)
        conn.begin()
        now = self.clock.now()
        self.outbox = outbox = SqlOutbox(conn)
        counters = MetaCounters(conn)
        self.locations = SqlLocations(conn, self.cache, counters, now)
        self.products = SqlProducts(conn, self.tag_cache, counters, now)
        self.stock_reads = reads = SqlStockReads(conn, self.stock_cache, counters)
        self.inventory = SqlInventory(conn, reads)
        self.orders = SqlOrders(conn, outbox)
        self.decisions = SqlDecisions(conn)
        self.load = SqlLoad(conn)
        self.policies = SqlPolicies(conn, self.policy_cache, counters)
        self.idempotency = SqlIdempotency(conn)
        self.tokens = SqlTokens(conn)
        self.timers = SqlTimers(conn)
        self.exceptions = SqlExceptions(conn)
        self.webhooks = SqlWebhooks(conn)
        self.stock_rules = SqlStockRules(conn, now, counters, self.settings_cache)
        self.channels = SqlChannels(conn, now, counters, self.settings_cache)
        self.reservations = SqlReservations(conn, outbox)
        self.supply = SqlSupply(conn)
        self.snapshot_imports = SqlSnapshotImports(conn, reads)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.conn is not None
        try:
            self.rollback()
        except DBAPIError:
            pass  # the connection is gone; closing it below discards it from the pool
        finally:
            self._close()
        if exc is not None:
            translated = _translate(exc)
            if translated is not None:
                raise translated from exc

    def _close(self) -> None:
        try:
            if self.conn is not None:
                self.conn.close()
        finally:
            self.conn = None
            self._open_gate()

    def _open_gate(self) -> None:
        if self.gate is not None:
            self.gate.release()

    def commit(self) -> None:
        assert self.conn is not None
        try:
            self.conn.commit()
        except DBAPIError as exc:
            translated = _translate(exc)
            if translated is None:
                raise
            raise translated from exc

    def rollback(self) -> None:
        assert self.conn is not None
        if self.conn.in_transaction():
            self.conn.rollback()
