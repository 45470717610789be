"""Configuration from the environment (`ORDERGRID_*`), read once by the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ordergrid.adapters.connectors.shopify import DEFAULT_SERVICE_LEVELS, DeliveryOption

DEFAULT_URL = "sqlite:///ordergrid.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERGRID_", extra="ignore")

    database_url: str = Field(DEFAULT_URL, description="SQLAlchemy URL; default a SQLite file here")
    admin_token: str | None = Field(None, description="bootstrap admin bearer token")
    db_pool_size: int = Field(20, ge=1, description="connections per process (PostgreSQL)")
    db_connect_timeout_seconds: int = Field(
        5, ge=0, description="longest wait to connect to PostgreSQL (at least 2; 0: none)"
    )
    db_pool_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description="longest wait for a free pooled connection, or on SQLite for the write "
        "turn (then 503)",
    )
    db_statement_timeout_seconds: float = Field(
        30.0,
        ge=0,
        description="PostgreSQL statement_timeout; the client waits at most 2 s more for "
        "any answer, then closes the connection (0: neither)",
    )
    db_tcp_timeout_seconds: float = Field(
        15.0,
        ge=0,
        description="a silent network path to PostgreSQL (keepalives unanswered, data "
        "unacknowledged) closes the connection after this long (0: the system's defaults)",
    )
    stock_cache_positions: int = Field(
        1_000_000,
        ge=0,
        description="positions each process keeps for promise and availability reads "
        "(about 120 bytes each; 0: read them from the database every time)",
    )
    stock_cache_warm: bool = Field(
        True,
        description="API processes read every position and product tag into their caches "
        "at start, before answering, when the stock cache can hold every position",
    )
    worker_poll_seconds: float = Field(0.2, gt=0, description="worker idle poll interval")
    log_format: Literal["text", "json"] = Field(
        "text", description="text for a terminal, json for one JSON object per line"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="the least severe records written"
    )
    access_log: bool = Field(
        True,
        description="one record per HTTP request: method, path, route, status, duration, "
        "request id",
    )
    gc_young_threshold: int = Field(
        50_000,
        ge=0,
        description="objects allocated between collections of the youngest generation in "
        "`serve` and `worker` processes (0: the interpreter's default, 700)",
    )
    backorder_sweep_seconds: float = Field(
        30.0, gt=0, description="how often the worker re-offers stock to waiting back-orders"
    )
    auto_migrate: bool | None = Field(
        None, description="migrate at start; default: yes for SQLite, no for PostgreSQL"
    )
    max_body_bytes: int = Field(1_048_576, ge=1024, description="largest accepted request body")
    max_import_bytes: int = Field(
        268_435_456, ge=1024, description="largest body of a bulk snapshot import"
    )
    scarcity_refresh_seconds: float = Field(
        0.0,
        ge=0,
        description="how often shadow prices of stock are re-estimated; 0: not used",
    )
    scarcity_lookback_hours: float = Field(
        168.0, gt=0, description="recent orders the expected demand is estimated from"
    )
    scarcity_horizon_hours: float = Field(
        168.0, gt=0, description="demand the stock on hand must serve (until replenishment)"
    )
    embedded_worker: bool = Field(
        True, description="run the event worker inside each API process (`serve`)"
    )
    webhook_allow_private: bool = Field(
        False, description="allow webhook URLs on loopback, private or link-local addresses"
    )
    webhook_max_attempts: int = Field(
        8, ge=1, description="attempts before a webhook delivery is dead"
    )
    webhook_timeout_seconds: float = Field(
        5.0, gt=0, description="how long a webhook receiver may take to answer"
    )
    webhook_lease_seconds: float = Field(
        6.0,
        ge=1,
        description="how long a delivery claimed by a process that died waits before "
        "another process sends it (live processes renew their claims)",
    )
    webhook_backoff_seconds: float = Field(
        1.0, gt=0, description="delay before the first retry; doubles with each attempt"
    )
    postal_centroids_csv: Path | None = Field(
        None, description="CSV of country,postal_code,lat,lon for postal codes outside the US"
    )
    webhook_backoff_max_seconds: float = Field(
        3600.0, gt=0, description="longest delay between two attempts"
    )
    reservation_default_ttl_seconds: int = Field(
        900, ge=1, description="how long a cart holds stock when the request names no TTL"
    )
    reservation_max_ttl_seconds: int = Field(
        7200, ge=1, description="the longest TTL one reservation request or extension may ask"
    )
    reservation_max_lifetime_seconds: int = Field(
        86400, ge=1, description="no extension holds a cart's stock longer after its creation"
    )
    nats_url: str | None = Field(
        None, description="NATS server with JetStream; when set, the worker relays events there"
    )
    nats_stream: str = Field("ORDERGRID", min_length=1, description="JetStream stream name")
    nats_subject_prefix: str = Field(
        "ordergrid", min_length=1, description="events go to `<prefix>.<event type>`"
    )
    nats_timeout_seconds: float = Field(
        5.0, gt=0, description="how long NATS may take to connect or acknowledge a batch"
    )
    nats_duplicate_window_seconds: float = Field(
        120.0, gt=0, description="how long JetStream remembers event ids to drop repeats"
    )

    shopify_webhook_secret: SecretStr | None = Field(
        None,
        description="the key Shopify signs orders/create webhooks with (the app's client "
        "secret); unset: POST /v1/connectors/shopify/orders answers 503",
    )
    shopify_service_levels: dict[Annotated[str, Field(min_length=1)], DeliveryOption] = Field(
        default_factory=lambda: dict(DEFAULT_SERVICE_LEVELS),
        description="JSON object: phrase found in a Shopify shipping line's code or title -> "
        "standard | express | next_day | same_day; first match in the order written wins, "
        "no match is standard",
    )
    shopify_pickup_locations: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: Shopify location id -> ordergrid location id; an order "
        "without shipping address placed at that till is collected at that store",
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
