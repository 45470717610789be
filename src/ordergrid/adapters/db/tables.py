"""Relational schema (SQLAlchemy Core). Alembic migrations create it; this mirrors them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import DateTime, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return utc(value)


def utc(value: datetime) -> datetime:
    """A stored timestamp as `UtcDateTime` returns it: timezone-aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The physical ledger reasons (`domain.inventory.PHYSICAL`), as SQL; queries that want
#: `ix_ledger_physical_at` repeat this text exactly (SQLite matches partial indexes by it).
PHYSICAL_LEDGER_REASONS = (
    "reason IN ('adjustment', 'collection', 'cycle_count', 'damaged', 'receipt', 'return', "
    "'shipment', 'short_pick', 'stock_correction', 'write_off')"
)

Json = JSON().with_variant(JSONB(), "postgresql")
#: SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("type", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("doc", Json, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(128), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("weight_kg", Float),
    Column("tags", Json, nullable=False),
    Column("attributes", Json, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

positions = Table(
    "positions",
    metadata,
    Column("location_id", String(128), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("safety_stock", Integer, nullable=False),
    Column("snapshot_as_of", UtcDateTime),
    Index("ix_positions_sku", "sku"),
    # Room in each page for in-place (HOT) updates on PostgreSQL (migration 0011).
    postgresql_with={"fillfactor": 60},
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("location_id", String(128), nullable=False),
    Column("sku", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("on_hand_after", Integer, nullable=False),
    Column("reserved_after", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("ref", String(256)),
    Column("actor", String(256)),
    Column("details", Json),  # why, where the reason alone does not say it
    # PostgreSQL: the writing transaction, so stock caches can catch up in commit order
    # (`stock_cache.py`); 0 on SQLite, where ids already become visible in order.
    Column("txid", BigInteger, nullable=False, server_default="0"),
    Index("ix_ledger_position_at", "location_id", "sku", "at"),
    # Physical movements since a count, for bulk snapshot imports (migration 0011).
    Index(
        "ix_ledger_physical_at",
        "at",
        postgresql_where=text(PHYSICAL_LEDGER_REASONS),
        sqlite_where=text(PHYSICAL_LEDGER_REASONS),
    ),
    Index("ix_ledger_txid", "txid"),
)

applied_adjustments = Table(
    "applied_adjustments",
    metadata,
    Column("id", String(256), primary_key=True),
    Column("applied_at", UtcDateTime, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("channel", String(128), nullable=False),
    Column("external_id", String(256), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", Json, nullable=False),
    # The promise the shop showed (also in `doc`, with its offset): UTC, for queries.
    Column("promised_earliest", UtcDateTime, nullable=True),
    Column("promised_latest", UtcDateTime, nullable=True),
    UniqueConstraint("channel", "external_id", name="uq_orders_channel_external_id"),
    Index("ix_orders_status", "status"),
    Index("ix_orders_created_at", "created_at"),
    Index("ix_orders_promised_latest", "promised_latest"),
)

fulfilments = Table(
    "fulfilments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("location_id", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_fulfilments_location_status", "location_id", "status"),
    Index("ix_fulfilments_order", "order_id"),
)

backorders = Table(
    "backorders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("line_id", String(128), primary_key=True),
    Column("sku", String(128), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("order_created_at", UtcDateTime, nullable=False),
    Index("ix_backorders_sku_created", "sku", "order_created_at"),
)

events = Table(
    "events",
    metadata,
    Column("position", BigId, primary_key=True, autoincrement=True),
    # PostgreSQL: the writing transaction's id; readers order by (txid, position) and only
    # read transactions older than every running one, so no event is ever skipped.
    Column("txid", BigInteger, nullable=False),
    Column("id", String(64), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("order_id", String(64)),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(256)),
    Column("data", Json, nullable=False),
    Index("ix_events_order", "order_id", "position"),
    Index("ix_events_txid_position", "txid", "position"),
    Index("ix_events_at", "at"),
)

#: How far the outbox was pruned (one row, id 1): the newest pruned event's position and
#: the latest time among pruned events.
events_pruned = Table(
    "events_pruned",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("txid", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("pruned_at", UtcDateTime, nullable=False),
)

consumers = Table(
    "consumers",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("txid", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("explanation", Json, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(256), primary_key=True),
    Column("fingerprint", String(128), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("channels", Json, nullable=False),
    Column("locations", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("latest_version", Integer, nullable=False),
    Column("active_version", Integer),
    Column("updated_at", UtcDateTime, nullable=False),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("policy_id", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("document", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(256)),
)

location_load = Table(
    "location_load",
    metadata,
    Column("location_id", String(128), primary_key=True),
    Column("day", String(10), primary_key=True),  # UTC date, YYYY-MM-DD
    Column("orders", Integer, nullable=False),
    Column("units", Integer, nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("order_id", String(64)),
    Column("fulfilment_id", String(64)),
    Column("data", Json, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(512)),
    Index("ix_timers_due", "due_at", "id"),
    Index("ix_timers_fulfilment", "fulfilment_id"),
    Index("ix_timers_order", "order_id"),
)

exception_cases = Table(
    "exception_cases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("channel", String(128), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("doc", Json, nullable=False),
    Index("ix_exception_cases_status", "status", "id"),
    Index("ix_exception_cases_order", "order_id"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("events", Json, nullable=False),
    Column("secret", String(256), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("webhook_id", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", String(512)),
    Column("delivered_at", UtcDateTime),
    # '' for live deliveries; a replay's id (or its Idempotency-Key) for replayed ones.
    Column("replay_id", String(256), nullable=False, server_default=""),
    # The claim sending it now: only that claim renews the lease or records the outcome.
    Column("claim_id", String(64)),
    UniqueConstraint("webhook_id", "event_id", "replay_id", name="uq_webhook_deliveries_replay"),
    Index("ix_webhook_deliveries_due", "next_attempt_at", "id"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
)

stock_rules = Table(
    "stock_rules",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("channel", String(128)),
    Column("location_id", String(128)),
    Column("location_type", String(32)),
    Column("sku", String(128)),
    Column("sku_tag", String(128)),
    Column("quantity", Integer),
    Column("share", Float),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_stock_rules_sku", "sku"),
)

channels = Table(
    "channels",
    metadata,
    Column("channel", String(128), primary_key=True),
    Column("availability_thresholds", Json, nullable=False),
    Column("pickup_radius_km", Float, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

availability_bands = Table(
    "availability_bands",
    metadata,
    Column("channel", String(128), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("band", Integer, nullable=False),
)

cart_reservations = Table(
    "cart_reservations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("channel", String(128), nullable=False),
    Column("external_id", String(256)),
    Column("idempotency_key", String(256), unique=True),
    Column("status", String(16), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("order_id", String(64)),
    Column("version", Integer, nullable=False),
    Column("doc", Json, nullable=False),
    UniqueConstraint("channel", "external_id", name="uq_cart_reservations_channel_external_id"),
    Index("ix_cart_reservations_status", "status", "id"),
)

#: What each active cart holds, per position: which carts give way when a count is short.
cart_holds = Table(
    "cart_holds",
    metadata,
    Column("reservation_id", String(64), primary_key=True),
    Column("location_id", String(128), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_cart_holds_position", "location_id", "sku", "created_at"),
)

supply = Table(
    "supply",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("location_id", String(128), nullable=False),
    Column("origin", String(256)),
    Column("reference", String(256)),
    Column("expected_at", UtcDateTime, nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("dispatched_at", UtcDateTime, nullable=True),
    Column("carrier", String(128), nullable=True),
    Column("tracking_number", String(256), nullable=True),
    Column("order_id", String(64), nullable=True),
    Index("ix_supply_location_expected", "location_id", "expected_at"),
    Index("ix_supply_order", "order_id"),
    Index("ix_supply_status_expected", "status", "expected_at"),
)

supply_lines = Table(
    "supply_lines",
    metadata,
    Column("supply_id", String(128), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("received", Integer, nullable=False),
    Column("pegged", Integer, nullable=False),
    Index("ix_supply_lines_sku", "sku", "supply_id"),
)

supply_pegs = Table(
    "supply_pegs",
    metadata,
    Column("supply_id", String(128), primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("line_id", String(128), primary_key=True),
    Column("sku", String(128), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("order_created_at", UtcDateTime, nullable=False),
    Column("pegged_at", UtcDateTime, nullable=False),
    Index("ix_supply_pegs_order", "order_id"),
)

supply_receipts = Table(
    "supply_receipts",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("supply_id", String(128), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)
