"""cart reservations: stock held for a checkout until it expires or becomes an order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cart_reservations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=True),
        sa.Column("idempotency_key", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("doc", Json, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint(
            "channel", "external_id", name="uq_cart_reservations_channel_external_id"
        ),
    )
    op.create_index("ix_cart_reservations_status", "cart_reservations", ["status", "id"])
    op.create_table(
        "cart_holds",
        sa.Column("reservation_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reservation_id", "location_id", "sku"),
    )
    op.create_index("ix_cart_holds_position", "cart_holds", ["location_id", "sku", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cart_holds_position", table_name="cart_holds")
    op.drop_table("cart_holds")
    op.drop_index("ix_cart_reservations_status", table_name="cart_reservations")
    op.drop_table("cart_reservations")
