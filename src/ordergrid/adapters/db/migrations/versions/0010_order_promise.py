"""order promise: the delivery dates the shop showed, queryable on orders

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("promised_earliest", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("promised_latest", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_orders_promised_latest", ["promised_latest"])


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_promised_latest")
        batch.drop_column("promised_latest")
        batch.drop_column("promised_earliest")
