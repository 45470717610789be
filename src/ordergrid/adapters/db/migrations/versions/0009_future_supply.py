"""future supply: purchase orders, transfers and ASNs, their lines, pegs and receipts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supply",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("location_id", sa.String(length=128), nullable=False),
        sa.Column("origin", sa.String(length=256), nullable=True),
        sa.Column("reference", sa.String(length=256), nullable=True),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supply_location_expected", "supply", ["location_id", "expected_at"])
    op.create_index("ix_supply_status_expected", "supply", ["status", "expected_at"])
    op.create_table(
        "supply_lines",
        sa.Column("supply_id", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("pegged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("supply_id", "sku"),
    )
    op.create_index("ix_supply_lines_sku", "supply_lines", ["sku", "supply_id"])
    op.create_table(
        "supply_pegs",
        sa.Column("supply_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("order_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pegged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("supply_id", "order_id", "line_id"),
    )
    op.create_index("ix_supply_pegs_order", "supply_pegs", ["order_id"])
    op.create_table(
        "supply_receipts",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("supply_id", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("supply_receipts")
    op.drop_index("ix_supply_pegs_order", table_name="supply_pegs")
    op.drop_table("supply_pegs")
    op.drop_index("ix_supply_lines_sku", table_name="supply_lines")
    op.drop_table("supply_lines")
    op.drop_index("ix_supply_status_expected", table_name="supply")
    op.drop_index("ix_supply_location_expected", table_name="supply")
    op.drop_table("supply")
