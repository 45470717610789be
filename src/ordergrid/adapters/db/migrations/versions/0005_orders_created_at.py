"""orders by creation time: the recent demand shadow prices are estimated from

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 00:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_created_at", "orders", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_created_at", table_name="orders")
