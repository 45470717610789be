"""webhook replay and short delivery leases; pruning the outbox

- `webhook_deliveries.replay_id`: a replay queues an event again for a subscription as a
  new delivery; live deliveries have ''. One delivery per (subscription, event, replay).
- `webhook_deliveries.claim_id`: which claim holds a delivery being sent, so only that
  claim renews its lease or records its outcome.
- `ix_events_at`: a replay from a time finds where to start without reading the outbox.
- `events_pruned`: how far `ordergrid events prune` removed the outbox, so a replay
  from before that is refused instead of silently missing events.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(
            sa.Column("replay_id", sa.String(length=256), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("claim_id", sa.String(length=64), nullable=True))
        batch.drop_constraint("uq_webhook_deliveries_event", type_="unique")
        batch.create_unique_constraint(
            "uq_webhook_deliveries_replay", ["webhook_id", "event_id", "replay_id"]
        )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_table(
        "events_pruned",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("events_pruned")
    op.drop_index("ix_events_at", table_name="events")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_constraint("uq_webhook_deliveries_replay", type_="unique")
        batch.create_unique_constraint("uq_webhook_deliveries_event", ["webhook_id", "event_id"])
        batch.drop_column("claim_id")
        batch.drop_column("replay_id")
