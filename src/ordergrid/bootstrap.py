"""The composition root: reads settings once and wires adapters into the service layer."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from ordergrid.adapters.connectors.shopify import ShopifyConnector
from ordergrid.adapters.db import migrate
from ordergrid.adapters.db.catalogue_repo import LocationCache, ProductTagCache
from ordergrid.adapters.db.engine import make_engine
from ordergrid.adapters.db.policies_repo import ActivePolicyCache
from ordergrid.adapters.db.postgres_limits import ConnectionLimits
from ordergrid.adapters.db.stock_cache import StockCache
from ordergrid.adapters.db.stock_rules_repo import SettingsCache
from ordergrid.adapters.db.uow import SqlUnitOfWork
from ordergrid.adapters.db.write_gate import WriteGate
from ordergrid.adapters.geo import FirstFound, PostalCentroids, UsZipGeocoder
from ordergrid.adapters.metrics import Metrics
from ordergrid.adapters.system import SystemClock, TimeOrderedIds
from ordergrid.adapters.webhook_sender import PooledSender, RandomJitter, SocketResolver
from ordergrid.domain.reservations import ReservationLimits
from ordergrid.service import queries
from ordergrid.service.bus import MessageBus
from ordergrid.service.context import Context, WebhookOptions
from ordergrid.service.nats_relay import StreamRelay
from ordergrid.service.ports import Clock, Geocoder, IdSource, Jitter, WebhookSender
from ordergrid.settings import Settings


class NotMigrated(RuntimeError):
    """The database schema is missing or older than this version of ordergrid."""


@dataclass(frozen=True)
class WorkDue:
    """Set when a command made work due at once (a rejection's re-sourcing, a webhook to
    queue or send again). Each of the worker's loops waits on a flag of its own, so one
    loop taking the wake never hides it from another."""

    timers: threading.Event = field(default_factory=threading.Event)
    relay: threading.Event = field(default_factory=threading.Event)
    webhooks: threading.Event = field(default_factory=threading.Event)

    def set(self) -> None:
        self.timers.set()
        self.relay.set()
        self.webhooks.set()


@dataclass(frozen=True)
class Application:
    settings: Settings
    engine: Engine
    ctx: Context
    bus: MessageBus
    metrics: Metrics
    #: The worker of this process wakes on it.
    work_due: WorkDue
    #: Relays the outbox to NATS JetStream when `ORDERGRID_NATS_URL` is set.
    stream_relay: StreamRelay | None = None
    #: Takes Shopify's orders/create webhooks when `ORDERGRID_SHOPIFY_WEBHOOK_SECRET` is set.
    shopify: ShopifyConnector | None = None
    #: SQLite: the turn of this process's writers (threads marked urgent go first).
    write_gate: WriteGate | None = None

    def close(self) -> None:
        if self.stream_relay is not None:
            self.stream_relay.publisher.close()
        self.ctx.webhooks.attempts.close()
        self.engine.dispose()


def ensure_schema(engine: Engine, settings: Settings) -> None:
    """Migrate when allowed (embedded SQLite by default), else refuse an old schema."""
    auto = settings.is_sqlite if settings.auto_migrate is None else settings.auto_migrate
    if auto:
        migrate.upgrade(engine)
        return
    current, head = migrate.pending(engine)
    if current != head:
        raise NotMigrated(
            f"database schema is at {current or 'nothing'}, this version needs {head}; "
            "run `ordergrid migrate` first"
        )


def connection_limits(settings: Settings) -> ConnectionLimits:
    return ConnectionLimits(
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
        pool_timeout_seconds=settings.db_pool_timeout_seconds,
        statement_timeout_seconds=settings.db_statement_timeout_seconds,
        tcp_timeout_seconds=settings.db_tcp_timeout_seconds,
    )


def _webhook_options(
    settings: Settings, sender: WebhookSender | None, jitter: Jitter | None
) -> WebhookOptions:
    return WebhookOptions(
        sender=sender or PooledSender(settings.webhook_timeout_seconds),
        resolver=SocketResolver(),
        jitter=jitter or RandomJitter(),
        max_attempts=settings.webhook_max_attempts,
        backoff_seconds=settings.webhook_backoff_seconds,
        backoff_max_seconds=settings.webhook_backoff_max_seconds,
        # Short, renewed three times per lease while the delivery is worked on: a killed
        # process's deliveries are free again within one lease.
        lease_seconds=settings.webhook_lease_seconds,
        renew_seconds=settings.webhook_lease_seconds / 3,
        # Each of the pool wait, connecting, sending and the answer has the timeout.
        attempt_seconds=settings.webhook_timeout_seconds * 4,
        allow_private=settings.webhook_allow_private,
    )


def _reservation_limits(settings: Settings) -> ReservationLimits:
    return ReservationLimits(
        default_ttl=timedelta(seconds=settings.reservation_default_ttl_seconds),
        max_ttl=timedelta(seconds=settings.reservation_max_ttl_seconds),
        max_lifetime=timedelta(seconds=settings.reservation_max_lifetime_seconds),
    )


def _geocoder(settings: Settings) -> Geocoder:
    if settings.postal_centroids_csv is None:
        return UsZipGeocoder()
    return FirstFound(UsZipGeocoder(), PostalCentroids(settings.postal_centroids_csv))


def _stream_relay(settings: Settings, ctx: Context, metrics: Metrics) -> StreamRelay | None:
    if not settings.nats_url:
        return None
    # Imported only here: nats-py is an optional extra, needed only when NATS is used.
    from ordergrid.adapters.nats_publisher import NatsPublisher, StreamOptions  # noqa: PLC0415
    from ordergrid.adapters.relay_metrics import RelayCollector  # noqa: PLC0415

    publisher = NatsPublisher(
        StreamOptions(
            url=settings.nats_url,
            stream=settings.nats_stream,
            subject_prefix=settings.nats_subject_prefix,
            timeout_seconds=settings.nats_timeout_seconds,
            duplicate_window_seconds=settings.nats_duplicate_window_seconds,
        )
    )
    relay = StreamRelay(ctx, publisher)
    metrics.registry.register(RelayCollector(relay))
    return relay


def _shopify(settings: Settings) -> ShopifyConnector | None:
    secret = settings.shopify_webhook_secret
    if secret is None or not secret.get_secret_value():
        return None
    return ShopifyConnector(
        secret.get_secret_value(),
        service_levels=settings.shopify_service_levels,
        pickup_locations=settings.shopify_pickup_locations,
    )


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    geocoder: Geocoder | None = None,
    check_schema: bool = True,
    webhook_sender: WebhookSender | None = None,
    jitter: Jitter | None = None,
) -> Application:
    """Wire everything; tests pass their own clock, ids, geocoder, sender or jitter."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url, settings.db_pool_size, connection_limits(settings))
    if check_schema:
        ensure_schema(engine, settings)
    clock = clock or SystemClock()
    cache = LocationCache()

    gate = WriteGate(settings.db_pool_timeout_seconds) if settings.is_sqlite else None
    policies, tags = ActivePolicyCache(), ProductTagCache()
    stock = StockCache(settings.stock_cache_positions)
    settings_cache = SettingsCache()

    def uow(readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            engine, cache, clock, readonly, gate, policies, tags, stock, settings_cache
        )

    holder: list[Context] = []
    metrics = Metrics(lambda: queries.orders_by_status(holder[0]))
    work_due = WorkDue()
    ctx = Context(
        uow=uow,
        clock=clock,
        ids=ids or TimeOrderedIds(),
        geocoder=geocoder or _geocoder(settings),
        observer=metrics,
        wake=work_due.set,
        webhooks=_webhook_options(settings, webhook_sender, jitter),
        reservations=_reservation_limits(settings),
    )
    holder.append(ctx)
    relay = _stream_relay(settings, ctx, metrics)
    return Application(
        settings, engine, ctx, MessageBus(ctx), metrics, work_due, relay, _shopify(settings), gate
    )
