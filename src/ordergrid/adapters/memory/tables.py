"""The tables an `InMemoryStore` holds, and the base of every in-memory repository."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from ordergrid.domain.catalogue import Product
from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.exception_queue import ExceptionCase
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Location
from ordergrid.domain.orders import Order
from ordergrid.domain.reservations import Reservation
from ordergrid.domain.stock_rules import StockRule
from ordergrid.domain.supply import Supply
from ordergrid.service.ports import (
    ApiToken,
    EventCursor,
    LedgerEntry,
    PolicyRecord,
    PolicyVersion,
    PrunedEvents,
    StoredDecision,
    StoredEvent,
    Timer,
    Webhook,
    WebhookDelivery,
)

if TYPE_CHECKING:
    from ordergrid.adapters.memory.uow import InMemoryUnitOfWork


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
    load: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    exceptions: dict[str, ExceptionCase] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deliveries: dict[str, WebhookDelivery] = field(default_factory=dict)
    stock_rules: dict[str, StockRule] = field(default_factory=dict)
    channels: dict[str, ChannelSettings] = field(default_factory=dict)
    bands: dict[tuple[str, str], int] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    reservation_external_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    reservation_keys: dict[str, str] = field(default_factory=dict)
    supply: dict[str, Supply] = field(default_factory=dict)  # private copies
    receipts: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    #: order id -> ids of the supply documents holding its pegs
    pegged_orders: dict[str, frozenset[str]] = field(default_factory=dict)
    #: delivery id -> the claim sending it now
    claims: dict[str, str] = field(default_factory=dict)
    pruned: PrunedEvents | None = None

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
            dict(self.load),
            dict(self.timers),
            dict(self.exceptions),
            dict(self.webhooks),
            dict(self.deliveries),
            dict(self.stock_rules),
            dict(self.channels),
            dict(self.bands),
            reservations=dict(self.reservations),
            reservation_external_ids=dict(self.reservation_external_ids),
            reservation_keys=dict(self.reservation_keys),
            supply=dict(self.supply),
            receipts=dict(self.receipts),
            pegged_orders=dict(self.pegged_orders),
            claims=dict(self.claims),
            pruned=self.pruned,
        )


class _Repo:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _t(self) -> _Tables:
        return self._uow.tables
