"""transfers: when a transfer left its origin, how it travels, and the order it serves

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("supply") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("carrier", sa.String(128), nullable=True))
        batch.add_column(sa.Column("tracking_number", sa.String(256), nullable=True))
        batch.add_column(sa.Column("order_id", sa.String(64), nullable=True))
        batch.create_index("ix_supply_order", ["order_id"])


def downgrade() -> None:
    with op.batch_alter_table("supply") as batch:
        batch.drop_index("ix_supply_order")
        batch.drop_column("order_id")
        batch.drop_column("tracking_number")
        batch.drop_column("carrier")
        batch.drop_column("dispatched_at")
