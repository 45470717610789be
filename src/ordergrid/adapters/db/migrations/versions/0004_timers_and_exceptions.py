"""timers and exception cases: durable deadlines and re-sourcing, the exception queue,
and the why of a ledger movement

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("fulfilment_id", sa.String(length=64), nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timers_due", "timers", ["due_at", "id"])
    op.create_index("ix_timers_fulfilment", "timers", ["fulfilment_id"])
    op.create_index("ix_timers_order", "timers", ["order_id"])
    op.create_table(
        "exception_cases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("doc", Json, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exception_cases_status", "exception_cases", ["status", "id"])
    op.create_index("ix_exception_cases_order", "exception_cases", ["order_id"])
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("details", Json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("details")
    op.drop_index("ix_exception_cases_order", table_name="exception_cases")
    op.drop_index("ix_exception_cases_status", table_name="exception_cases")
    op.drop_table("exception_cases")
    op.drop_index("ix_timers_order", table_name="timers")
    op.drop_index("ix_timers_fulfilment", table_name="timers")
    op.drop_index("ix_timers_due", table_name="timers")
    op.drop_table("timers")
