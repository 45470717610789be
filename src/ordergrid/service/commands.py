"""Commands: what a caller asks the service layer to do, already parsed at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ordergrid.domain.calendar import LocationCalendar
from ordergrid.domain.network import Address
from ordergrid.domain.orders import DeliveryPromise
from ordergrid.domain.stock_counts import SnapshotMode


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking, and what their token lets them touch (None: everything)."""

    name: str
    channels: frozenset[str] | None = None
    locations: frozenset[str] | None = None


SYSTEM = Actor("system")


@dataclass(frozen=True, slots=True)
class PutLocation:
    location_id: str
    name: str
    type: str
    address: Address
    capabilities: frozenset[str]
    status: str = "active"
    handling_cost: float = 0.0
    orders_per_day: int | None = None
    units_per_day: int | None = None
    tags: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    cutoff_utc: time | None = None
    calendar: LocationCalendar | None = None


@dataclass(frozen=True, slots=True)
class ProductInput:
    sku: str
    name: str
    weight_kg: float | None = None
    tags: frozenset[str] = frozenset()
    attributes: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class PutProducts:
    products: tuple[ProductInput, ...]


@dataclass(frozen=True, slots=True)
class AdjustmentInput:
    id: str
    location_id: str
    sku: str
    delta: int
    reason: str = "adjustment"


@dataclass(frozen=True, slots=True)
class AdjustInventory:
    adjustments: tuple[AdjustmentInput, ...]
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class ApplySnapshot:
    location_id: str
    as_of: datetime
    items: tuple[tuple[str, int], ...]  # (sku, on_hand counted at as_of)
    actor: Actor = SYSTEM
    mode: SnapshotMode = SnapshotMode.PARTIAL  # full: positions not listed counted as zero


@dataclass(frozen=True, slots=True)
class LineInput:
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    external_id: str
    channel: str
    method: str
    lines: tuple[LineInput, ...]
    service_level: str = "standard"
    address: Address | None = None
    pickup_location_id: str | None = None
    customer: dict[str, Any] = field(default_factory=dict, hash=False)
    tags: frozenset[str] = frozenset()
    idempotency_key: str | None = None
    fingerprint: str = ""
    actor: Actor = SYSTEM
    #: The cart reservation this order completes: its held units become the order's.
    reservation_id: str | None = None
    #: The dates the shop showed the customer (a promise quote's option).
    promise: DeliveryPromise | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str
    lines: tuple[tuple[str, int], ...] | None = None  # None: the whole order
    reason: str | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class CancelChannelOrder:
    """A sales channel cancelled its order (found by its external id): every unit not yet
    shipped is cancelled. When ordergrid never had the order (the channel's cancellation
    came first), `placement`, the order as the channel describes it, is recorded already
    cancelled, so that its placement arriving late finds it and reserves nothing."""

    channel: str
    external_id: str
    reason: str
    placement: PlaceOrder | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class SetHold:
    order_id: str
    hold: bool
    reason: str | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class ActOnFulfilment:
    """accept | reject | pick | ship | ready_for_pickup | collect | cancel."""

    fulfilment_id: str
    action: str
    reason: str | None = None
    picked: tuple[tuple[str, int], ...] = ()
    parcels: tuple[tuple[str, str | None], ...] = ()  # (carrier, tracking number)
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class SourceBackorders:
    """Stock became available for these SKUs: re-source back-orders, oldest first.

    `rose_at`, when known, names the locations where each SKU's stock rose: an order
    collected at a store whose missing units are all on their way by transfer can only
    be helped by stock at that store, so stock elsewhere passes it over."""

    skus: frozenset[str]
    rose_at: Mapping[str, frozenset[str]] | None = None


@dataclass(frozen=True, slots=True)
class SweepBackorders:
    """Periodic safety net: re-source back-orders whose SKUs have stock somewhere."""


@dataclass(frozen=True, slots=True)
class RefreshScarcity:
    """Re-estimate the shadow prices of stock from recent demand (worker, periodic)."""

    lookback: timedelta = timedelta(days=7)
    horizon: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class CreateToken:
    name: str
    role: str
    channels: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PutPolicy:
    """Store a new version of a routing policy (a document validated at the edge)."""

    policy_id: str
    document: dict[str, Any] = field(hash=False)
    activate: bool = False
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class ActivatePolicy:
    """Make a version active (the latest when None); `active=False` switches it off."""

    policy_id: str
    version: int | None = None
    active: bool = True
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class RunDueTimers:
    """Run deadlines and re-sourcing work that is due, each in its own transaction."""

    limit: int = 100


@dataclass(frozen=True, slots=True)
class RetryException:
    """Source the order's waiting units again with a fresh budget of attempts."""

    case_id: str
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class RerouteException:
    """Place every waiting unit of the order at the location a person chose."""

    case_id: str
    location_id: str
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class CancelException:
    """Cancel what is left of the order and close its case."""

    case_id: str
    reason: str | None = None
    actor: Actor = SYSTEM
