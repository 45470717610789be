"""Alembic migrations, run by `ordergrid migrate` (configured in code, no alembic.ini)."""
