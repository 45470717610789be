"""perf: decision explanations compressed with lz4 on PostgreSQL

Every placement stores its decision's explanation: every candidate location with its
verdict, tens of kilobytes of JSON that PostgreSQL compresses out of line (TOAST). With
the default pglz, that row was the costliest statement of a placement on PostgreSQL
(about 1.2 ms of ~3.4 ms of SQL per order on network M); lz4 compresses several times
faster to about the same size. Only rows written from now on are affected. A server
built without lz4 keeps pglz. SQLite stores the text as it is: nothing to do.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _set_compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    statement = f"ALTER TABLE decisions ALTER COLUMN explanation SET COMPRESSION {method}"
    try:
        with bind.begin_nested():
            bind.execute(sa.text(statement))
    except sa.exc.DBAPIError:
        pass  # the server was built without lz4: pglz stays, nothing else changes


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")
