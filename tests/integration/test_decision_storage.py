"""A large decision explanation is stored whole and reads back unchanged; on PostgreSQL it
is compressed with lz4 (migration 0013), which placing orders depends on for speed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from tests.integration.conftest import wire

from ordergrid.bootstrap import Application
from ordergrid.service.ports import StoredDecision

AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def an_explanation(candidates: int) -> dict[str, object]:
    return {
        "outcome": "allocated",
        "candidates": [
            {
                "location_id": f"L{i:04d}",
                "status": "scored",
                "distance_km": round(i * 7.3, 1),
                "available": {"SKU-1": i % 5, "SKU-2": 0},
                "single_location_cost": None if i % 3 else i * 0.25,
                "cost_parts": {"per_shipment": 5.0, "handling": 1.5, "distance": i / 7},
                "blocked": {},
                "covers_order": i % 2 == 0,
            }
            for i in range(candidates)
        ],
        "elapsed_ms": 0.123,
    }


def test_a_large_explanation_reads_back_unchanged(application: Application) -> None:
    explanation = an_explanation(300)
    with application.ctx.uow() as uow:
        uow.decisions.add(StoredDecision("D1", "O1", AT, explanation))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        [stored] = uow.decisions.for_order("O1")
    assert stored.explanation == explanation


@pytest.mark.postgres
def test_explanations_are_compressed_with_lz4_on_postgresql(postgres_url: str) -> None:
    app = wire(postgres_url)
    try:
        with app.ctx.uow() as uow:
            uow.decisions.add(StoredDecision("D1", "O1", AT, an_explanation(300)))
            uow.commit()
        with app.engine.connect() as conn:
            method = conn.execute(
                text("SELECT pg_column_compression(explanation) FROM decisions WHERE id = 'D1'")
            ).scalar()
    finally:
        app.close()
    assert method == "lz4"
