"""stock rules (safety stock, channel fences), channel settings, availability bands

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "stock_rules",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=True),
        sa.Column("location_id", sa.String(length=128), nullable=True),
        sa.Column("location_type", sa.String(length=32), nullable=True),
        sa.Column("sku", sa.String(length=128), nullable=True),
        sa.Column("sku_tag", sa.String(length=128), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stock_rules_sku", "stock_rules", ["sku"])
    op.create_table(
        "channels",
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("availability_thresholds", Json, nullable=False),
        sa.Column("pickup_radius_km", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "availability_bands",
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "sku"),
    )


def downgrade() -> None:
    op.drop_table("availability_bands")
    op.drop_table("channels")
    op.drop_index("ix_stock_rules_sku", table_name="stock_rules")
    op.drop_table("stock_rules")
