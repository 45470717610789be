"""Schema migrations: apply, and check whether a database is at the latest revision."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ordergrid.adapters.db.postgres_limits import lift_statement_bound


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("ordergrid.adapters.db") / "migrations")
    )
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        lift_statement_bound(conn)  # building an index on a large table takes long
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def pending(engine: Engine) -> tuple[str | None, str]:
    """(current revision, latest revision) of the database."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head or ""
