"""stock cache: the transaction that wrote each ledger row

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("txid", sa.BigInteger(), nullable=False, server_default="0"))
        batch.create_index("ix_ledger_txid", ["txid"])


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.drop_index("ix_ledger_txid")
        batch.drop_column("txid")
