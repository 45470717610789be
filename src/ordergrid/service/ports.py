"""Ports the service layer needs; adapters implement them (SQL) and tests fake them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from ordergrid.domain.catalogue import Product
from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.events import Event
from ordergrid.domain.exception_queue import ExceptionCase
from ordergrid.domain.fulfilments import Fulfilment
from ordergrid.domain.inventory import Movement, Position
from ordergrid.domain.network import Location
from ordergrid.domain.orders import Order
from ordergrid.domain.reservations import Reservation
from ordergrid.domain.sourcing.policy import Policy
from ordergrid.domain.sourcing.sku_stock import SkuStock
from ordergrid.domain.stock_counts import CountRow, SnapshotTotals
from ordergrid.domain.stock_rules import StockRule
from ordergrid.domain.supply import Incoming, Peg, Supply, Waiting
from ordergrid.domain.webhooks import EventTypes

T = TypeVar("T")


class Role(StrEnum):
    ADMIN = "admin"
    INTEGRATOR = "integrator"
    ASSOCIATE = "associate"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    name: str
    role: Role
    token_hash: str
    created_at: datetime
    channels: frozenset[str] = frozenset()  # integrator scope; empty: all channels
    locations: frozenset[str] = frozenset()  # associate scope; empty: all locations


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    id: str
    type: str
    at: datetime
    data: dict[str, Any]
    order_id: str | None = None
    actor: str | None = None
    txid: int = 0  # writing transaction (PostgreSQL); 0 where commits are serial

    @property
    def cursor(self) -> EventCursor:
        return (self.txid, self.position)


#: How far out of time order concurrent transactions may write events (each takes its
#: time when it starts, its place in delivery order when it first writes): readers that
#: look events up by time look this much further.
EVENT_TIME_SKEW = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class EventWindow:
    """Outbox events after `after` up to and including `through`, in delivery order, of
    the selected types, written at or after `since` and before `until` when given."""

    after: EventCursor
    through: EventCursor
    types: EventTypes
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class PrunedEvents:
    """How far the outbox was pruned: every event up to `through` is gone; `at` is the
    latest time written among them."""

    through: EventCursor
    at: datetime
    events: int
    pruned_at: datetime


#: Position in the queue of back-orders: (order created at, order id).
BackorderCursor = tuple[datetime, str]

#: Where a consumer has read up to: events are delivered in (txid, position) order.
EventCursor = tuple[int, int]


@dataclass(frozen=True, slots=True)
class StoredDecision:
    id: str
    order_id: str
    at: datetime
    explanation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: str | None = None
    channel: str | None = None
    external_id: str | None = None
    location_id: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    location_id: str
    sku: str
    at: datetime
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str
    ref: str | None = None
    actor: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # the store's sequence number once recorded


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    sku: str
    location_id: str | None = None
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    policy_id: str
    version: int
    document: dict[str, Any]
    created_at: datetime
    created_by: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    id: str
    latest_version: int
    active_version: int | None


@dataclass(frozen=True, slots=True)
class Timer:
    """Work due at a time: a deadline, or a re-sourcing that must survive a crash."""

    id: str
    kind: str
    due_at: datetime
    order_id: str | None = None
    fulfilment_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0  # runs that failed unexpectedly


@dataclass(frozen=True, slots=True)
class ExceptionFilter:
    status: str | None = None
    reason: str | None = None
    channel: str | None = None
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Webhook:
    """A subscription: events matching `events` are POSTed to `url`, signed with `secret`."""

    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event for one subscription; `body` is the exact JSON that is POSTed and signed."""

    id: str
    webhook_id: str
    event_id: str
    event_type: str
    body: str
    status: str  # a `DeliveryStatus`
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    #: '' for a live delivery; the replay that queued the event again otherwise.
    replay_id: str = ""


@dataclass(frozen=True, slots=True)
class SupplyFilter:
    location_id: str | None = None
    sku: str | None = None
    status: str | None = None
    expected_after: datetime | None = None  # at or after
    expected_before: datetime | None = None  # before
    origin: str | None = None  # a transfer's source location


class ConcurrentUpdate(Exception):
    """Another transaction changed the aggregate first; the command is retried."""


class LocationRepository(Protocol):
    def get(self, location_id: str) -> Location | None: ...
    def put(self, location: Location) -> bool: ...  # True when created
    def all(self) -> list[Location]: ...
    def by_id(self) -> Mapping[str, Location]:
        """Every location by id, in id order; not to be changed. Answers in one
        process return the same mapping while the network is unchanged."""
        ...


class ProductRepository(Protocol):
    def get(self, sku: str) -> Product | None: ...
    def put(self, product: Product) -> bool: ...
    def known(self, skus: Iterable[str]) -> set[str]: ...
    def tags(self, skus: Iterable[str]) -> dict[str, frozenset[str]]: ...
    def page(self, limit: int, cursor: str | None) -> Page[Product]: ...


class InventoryRepository(Protocol):
    def positions(self, skus: Iterable[str]) -> list[Position]: ...
    def position(self, location_id: str, sku: str) -> Position | None: ...
    def lock(self, location_id: str, skus: Iterable[str]) -> None:
        """Hold these positions (in SKU order) until the transaction ends, so a read
        followed by an absolute write cannot lose a concurrent change."""
        ...

    def positions_at(self, location_id: str) -> list[Position]:
        """Every position held at a location, by SKU."""
        ...

    def skus_available_at(self, location_id: str) -> list[str]:
        """SKUs with available stock at a location."""
        ...

    def reserve(self, location_id: str, sku: str, quantity: int, keep: int = 0) -> Position | None:
        """Reserve only if `keep` units stay unreserved (available never below 0); None
        when the stock is no longer there."""
        ...

    def move(self, movement: Movement, clamp: bool = False) -> Position | None:
        """Apply a change; on-hand never goes below 0: with `clamp` it stops at 0,
        without it the change is refused (None)."""
        ...

    def set_on_hand(
        self, location_id: str, sku: str, on_hand: int, as_of: datetime
    ) -> Position: ...
    def physical_since(self, location_id: str, sku: str, since: datetime) -> int: ...
    def record(self, entries: Sequence[LedgerEntry]) -> None: ...
    def ledger(self, flt: LedgerFilter, limit: int, after: int | None) -> list[LedgerEntry]:
        """Entries of one SKU in the order they were recorded, after the entry `after`."""
        ...

    def claim_adjustment(self, adjustment_id: str, at: datetime) -> bool:
        """Record the id; False when it was already applied (the adjustment is skipped)."""
        ...


class StockReads(Protocol):
    """Committed positions for answers that only read (delivery promise, availability).

    At least as recent as every transaction committed before the unit of work began; an
    adapter may serve them from a per-process cache kept current from the ledger. Once
    the unit of work has changed stock itself, they show its own changes.
    """

    def positions(self, skus: Iterable[str]) -> list[Position]: ...

    def by_sku(self, skus: Iterable[str]) -> dict[str, SkuStock]:
        """The same positions as arrays per SKU (every SKU asked for, held or not)."""
        ...

    def warm(self, after: str | None, count: int) -> list[str]:
        """Read the next `count` SKUs holding positions, in SKU order after `after`,
        into the adapter's cache ahead of use; the SKUs read (none: nothing more to
        read, or no cache that could hold every position)."""
        ...


class StockRuleRepository(Protocol):
    def put(self, rule: StockRule) -> bool: ...  # True when created
    def get(self, rule_id: str) -> StockRule | None: ...
    def remove(self, rule_id: str) -> bool: ...
    def all(self) -> list[StockRule]: ...
    def covering(self, skus: Iterable[str]) -> list[StockRule]:
        """Rules that may apply to these SKUs: those naming one of them, and those naming
        no SKU (by tag, location or channel only)."""
        ...


class ChannelRepository(Protocol):
    def put(self, settings: ChannelSettings) -> bool: ...  # True when created
    def get(self, channel: str) -> ChannelSettings | None: ...
    def all(self) -> list[ChannelSettings]: ...
    def watched(self) -> list[ChannelSettings]:
        """Channels with availability thresholds."""
        ...

    def bands(self, channel: str, skus: Iterable[str]) -> dict[str, int]:
        """The availability band last told to the channel, per SKU (absent: never told)."""
        ...

    def set_bands(self, channel: str, bands: dict[str, int]) -> None: ...


@dataclass(frozen=True, slots=True)
class PositionChange:
    """A position before and after a feed set it (before: zeros when it was new)."""

    before: Position
    after: Position


class SnapshotImportRepository(Protocol):
    """Set-based snapshot import within one transaction: stage rows, then apply them."""

    def stage(self, rows: Sequence[CountRow]) -> None:
        """Hold counted rows for `apply`; call as often as needed, one chunk at a time."""
        ...

    def stage_full(self, location_id: str, as_of: datetime) -> None:
        """The location was counted in full at `as_of`: its positions that no staged row
        lists were counted as zero."""
        ...

    def first_duplicate(self) -> tuple[int, int] | None:
        """After the last `stage` (rows staged in row order): the first and second row of
        the (location, SKU) staged more than once whose first row comes earliest; None
        when each is staged once."""
        ...

    def apply(self, at: datetime, actor: str | None) -> SnapshotTotals:
        """Lock the positions in (location, SKU) order; where a row's `as_of` is newer than
        the position's last snapshot, on-hand becomes the count plus the physical movements
        recorded after `as_of` (never below 0), with one `snapshot` ledger entry each."""
        ...

    def finish(self, rising: Collection[str]) -> list[PositionChange]:
        """End the import: positions it left below their reservations, and positions of
        the `rising` SKUs whose availability it raised, in (location, SKU) order."""
        ...


class LoadRepository(Protocol):
    """Work released to each location per day, for capacity limits."""

    def today(self, day: date, location_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(orders, units) released to these locations on that day."""
        ...

    def add(self, location_id: str, day: date, orders: int, units: int) -> None: ...


class OrderRepository(Protocol):
    def get(self, order_id: str) -> Order | None: ...
    def by_external_id(self, channel: str, external_id: str) -> Order | None: ...
    def add(self, order: Order) -> None: ...
    def save(self, order: Order) -> None:
        """Persist and move the order's pending events to the outbox; may raise ConcurrentUpdate."""
        ...

    def page(self, flt: OrderFilter, limit: int, cursor: str | None) -> Page[Order]: ...
    def order_id_of_fulfilment(self, fulfilment_id: str) -> str | None: ...
    def fulfilments(
        self, location_id: str | None, status: str | None, limit: int, cursor: str | None
    ) -> Page[tuple[Order, Fulfilment]]:
        """A location's work queue, by fulfilment id, each with its order."""
        ...

    def backordered(
        self, skus: Iterable[str], limit: int, after: BackorderCursor | None = None
    ) -> list[BackorderCursor]:
        """Orders (not on hold) with back-ordered units of these SKUs, oldest first, as
        (created_at, order id), after the given one."""
        ...

    def backordered_skus_with_stock(self) -> list[str]:
        """SKUs that some order waits for and some location has available."""
        ...

    def count_by_status(self) -> dict[str, int]: ...
    def placed_since(self, since: datetime, limit: int) -> list[Order]:
        """Orders created at or after `since`, the newest `limit` of them."""
        ...

    def work_at(self, location_id: str, statuses: Iterable[str]) -> list[tuple[str, str]]:
        """(fulfilment id, order id) of a location's fulfilments in these statuses,
        newest first."""
        ...


class TimerRepository(Protocol):
    def add(self, timer: Timer) -> None: ...
    def claim_due(self, now: datetime) -> Timer | None:
        """The earliest timer due at `now`, held by this transaction until it ends: other
        workers skip it (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite has one writer)."""
        ...

    def done(self, timer_id: str) -> None:
        """Remove a timer whose work is committed in the same transaction."""
        ...

    def postpone(self, timer_id: str, due_at: datetime, error: str) -> None:
        """Try again later after an unexpected failure (counts the attempt)."""
        ...

    def cancel(self, fulfilment_id: str) -> None:
        """Drop the deadlines of a fulfilment (it moved on)."""
        ...

    def pending(self, order_id: str) -> list[Timer]: ...
    def next_due(self) -> datetime | None: ...
    def claim_kind(self, kind: str, limit: int) -> list[Timer]:
        """Timers of a kind, due or not, earliest first, held by this transaction like
        `claim_due` (another worker's are skipped)."""
        ...


class ExceptionRepository(Protocol):
    def add(self, case: ExceptionCase) -> None: ...
    def get(self, case_id: str) -> ExceptionCase | None: ...
    def save(self, case: ExceptionCase) -> None: ...
    def page(self, flt: ExceptionFilter, limit: int, cursor: str | None) -> Page[ExceptionCase]:
        """Cases by id (oldest first), after the cursor."""
        ...


class SupplyRepository(Protocol):
    """Supply documents with their lines and pegs, saved and read as one aggregate."""

    def get(self, supply_id: str, lock: bool = False) -> Supply | None:
        """With `lock`, the document is held until the transaction ends (pegging and
        receiving read, then write it)."""
        ...

    def put(self, supply: Supply) -> None:
        """Insert or replace the document, its lines and its pegs."""
        ...

    def page(self, flt: SupplyFilter, limit: int, cursor: str | None) -> Page[Supply]:
        """Documents by id, after the cursor."""
        ...

    def incoming(self, sku: str, expected_by: datetime | None = None) -> list[Incoming]:
        """Units of the SKU no back-order holds yet on open or partly received documents
        expected by then, earliest first (then by document id)."""
        ...

    def peg(self, supply_id: str, waiting: Waiting, now: datetime) -> Peg | None:
        """Peg up to `waiting.quantity` free units of an incoming document in place, as a
        conditional update (like a reservation, without reading the whole document);
        returns what was pegged now, None when nothing is free."""
        ...

    def pegs_of_order(self, order_id: str) -> list[Peg]: ...
    def claim_receipt(self, receipt_id: str, supply_id: str, at: datetime) -> str | None:
        """Record a receipt id; None when new, else the supply it was recorded for."""
        ...


class Outbox(Protocol):
    def append(self, events: Sequence[Event], at: datetime) -> None: ...
    def for_order(self, order_id: str) -> list[StoredEvent]: ...
    def after(self, cursor: EventCursor, limit: int) -> list[StoredEvent]:
        """Committed events after the cursor, in delivery order; never skips a late commit."""
        ...

    def consumer_position(self, consumer: str) -> EventCursor:
        """Where a consumer has handled up to ((0, 0) before its first event)."""
        ...

    def set_consumer_position(self, consumer: str, cursor: EventCursor) -> None: ...

    def hold_consumer(self, consumer: str) -> bool:
        """Lease the consumer for as long as this unit of work is open; False when another
        unit of work holds it. The lease ends with the unit of work, also when its
        process dies (PostgreSQL: a transaction advisory lock; elsewhere writes are
        serial and it is always granted)."""
        ...

    def backlog(self, cursor: EventCursor, limit: int) -> int:
        """How many events were written after the cursor (a consumer's lag), counting up
        to `limit` (a health check stays cheap however far behind a consumer is)."""
        ...

    def slowest_consumer(self) -> EventCursor | None:
        """The position of the consumer furthest behind (None before any has read)."""
        ...

    def locate(self, event_id: str) -> StoredEvent | None: ...
    def start_of(self, moment: datetime) -> EventCursor:
        """A cursor just before the first event (in delivery order) written at or after
        `moment`; after the last event when there is none. Concurrent transactions write
        events slightly out of time order: this looks `EVENT_TIME_SKEW` further."""
        ...

    def window(self, window: EventWindow, limit: int) -> list[StoredEvent]:
        """The first `limit` events of the window, in delivery order."""
        ...

    def pruned(self) -> PrunedEvents | None:
        """How far the outbox was pruned; None when it never was."""
        ...

    def prune(self, through: EventCursor, limit: int, now: datetime) -> int:
        """Delete the first `limit` events up to `through` (delivery order) and move the
        pruned mark past them; how many were deleted."""
        ...


class WebhookRepository(Protocol):
    def add(self, webhook: Webhook) -> None: ...
    def get(self, webhook_id: str) -> Webhook | None: ...
    def all(self) -> list[Webhook]: ...
    def remove(self, webhook_id: str) -> bool:
        """Drop a subscription and its deliveries; False when there was none."""
        ...

    def enqueue(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Queue deliveries; one already queued for the same subscription, event and
        replay is kept as it is (a relay that repeats a batch, or a replay repeated with
        the same key, delivers nothing twice)."""
        ...

    def delivery(self, delivery_id: str) -> WebhookDelivery | None: ...
    def deliveries(self, webhook_id: str, limit: int, cursor: str | None) -> Page[WebhookDelivery]:
        """A subscription's deliveries by id (oldest first), after the cursor."""
        ...

    def knows_event(self, webhook_id: str, event_id: str) -> bool:
        """Whether any delivery of the event to the subscription was ever queued."""
        ...

    def claim_due(
        self, now: datetime, limit: int, lease_until: datetime, claim: str
    ) -> list[WebhookDelivery]:
        """Deliveries waiting for an attempt due at `now`, earliest first, now held by
        `claim`: each one's next attempt moves to `lease_until`, so once this transaction
        commits other workers leave it alone until the lease lapses (PostgreSQL `FOR
        UPDATE SKIP LOCKED` keeps them apart until then). Returned as they were."""
        ...

    def renew(self, claim: str, delivery_ids: Collection[str], lease_until: datetime) -> set[str]:
        """Move the lease of the deliveries `claim` still holds to `lease_until`; the ids
        it still holds (another claim took the rest after their lease lapsed, or they
        were requeued or removed)."""
        ...

    def settle(self, delivery: WebhookDelivery, claim: str) -> bool:
        """Record the outcome of `claim`'s attempt (status, attempts, next attempt, last
        error, delivered at: nothing else changes) and release it; False, recording
        nothing, when the claim no longer holds the delivery."""
        ...

    def settle_all(self, deliveries: Sequence[WebhookDelivery], claim: str) -> None:
        """`settle` each of a round's outcomes, in one statement where the store can."""
        ...

    def save_delivery(self, delivery: WebhookDelivery) -> None:
        """Store a delivery as given (a requeue), releasing any claim on it: an attempt
        still running records nothing."""
        ...


class WebhookSender(Protocol):
    """POSTs a webhook body; the call happens outside any transaction."""

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        """None when the receiver answered 2xx, else why not (status, timeout, refusal)."""
        ...


class PublishFailed(Exception):
    """An event stream did not confirm a whole batch: unreachable, timed out, or refused.
    `confirmed` events, from the first, were confirmed before the failure."""

    def __init__(self, message: str, confirmed: int = 0) -> None:
        super().__init__(message)
        self.confirmed = confirmed


class EventPublisher(Protocol):
    """Publishes outbox events to an event stream, outside any transaction."""

    def publish(self, events: Sequence[StoredEvent]) -> None:
        """Publish in order and wait until the stream confirms each one (stored, or
        recognised as a duplicate of the same event id); else `PublishFailed`."""
        ...

    def close(self) -> None: ...


class HostResolver(Protocol):
    def addresses(self, host: str) -> list[str]:
        """The IP addresses a host name resolves to ([] when it does not resolve)."""
        ...


class Jitter(Protocol):
    def fraction(self) -> float:
        """A number in [0, 1) that spreads retries out."""
        ...


class PolicyRepository(Protocol):
    def add_version(
        self, policy_id: str, document: dict[str, Any], at: datetime, actor: str | None
    ) -> int:
        """Store the next version of a policy (1 for a new one); returns its number."""
        ...

    def record(self, policy_id: str) -> PolicyRecord | None: ...
    def records(self) -> list[PolicyRecord]: ...
    def versions(self, policy_id: str) -> list[PolicyVersion]: ...
    def set_active(self, policy_id: str, version: int | None) -> None: ...
    def active(self) -> list[Policy]:
        """The active version of every active policy, as domain policies."""
        ...


class DecisionRepository(Protocol):
    def add(self, decision: StoredDecision) -> None: ...
    def for_order(self, order_id: str) -> list[StoredDecision]: ...


class IdempotencyRepository(Protocol):
    def get(self, key: str) -> tuple[str, str] | None:
        """(request fingerprint, order id) recorded for the key."""
        ...

    def put(self, key: str, fingerprint: str, order_id: str, at: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class ReservationFilter:
    status: str | None = None
    channel: str | None = None


class ReservationRepository(Protocol):
    def add(self, reservation: Reservation) -> None:
        """Store a new reservation; ConcurrentUpdate when its id, (channel, external id)
        or idempotency key is taken (another request created it first)."""
        ...

    def get(self, reservation_id: str) -> Reservation | None: ...
    def by_external_id(self, channel: str, external_id: str) -> Reservation | None: ...
    def by_idempotency_key(self, key: str) -> Reservation | None: ...
    def save(self, reservation: Reservation) -> None:
        """Persist and move its pending events to the outbox; ConcurrentUpdate when it
        changed since it was read."""
        ...

    def page(self, flt: ReservationFilter, limit: int, cursor: str | None) -> Page[Reservation]:
        """Reservations by id, after the cursor."""
        ...

    def holding(self, location_id: str, sku: str) -> list[str]:
        """Ids of the active reservations holding units of a position, newest first."""
        ...


class TokenRepository(Protocol):
    def by_hash(self, token_hash: str) -> ApiToken | None: ...
    def add(self, token: ApiToken) -> None: ...
    def all(self) -> list[ApiToken]: ...


class UnitOfWork(Protocol):
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

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdSource(Protocol):
    def new_id(self) -> str: ...


class Geocoder(Protocol):
    def locate(
        self, country: str | None, postal_code: str | None
    ) -> tuple[float, float] | None: ...


class Observer(Protocol):
    """Telemetry hook: the service reports, an adapter counts."""

    def decision_made(self, outcome: str, elapsed_ms: float) -> None: ...
