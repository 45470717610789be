"""A large decision explanation is stored whole and reads back unchanged; the engine's
candidates are stored as columns and read back spelled out; on PostgreSQL explanations
are compressed with lz4 (migration 0013), which placing orders depends on for speed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from tests.integration.conftest import wire
from tests.unit.factories import NOW, location, order, view

from ordergrid.bootstrap import Application
from ordergrid.domain.sourcing import DEFAULT_POLICY, Decision, SourcingRequest, source
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


def a_decision_with_every_kind_of_candidate() -> Decision:
    """Chosen, beaten on cost, covering part, holding nothing wanted, paused, and a store
    a product rule keeps one SKU away from."""
    locs = [
        location("DC-NEAR", 48.86, 2.36),
        location("DC-FAR", 45.0, 5.0),
        location("ST-PART", 48.9, 2.4, type="store"),
        location("ST-DOWN", 48.8, 2.3, type="store", status="paused"),
    ]
    stock = {
        ("DC-NEAR", "A"): 5,
        ("DC-NEAR", "H"): 5,
        ("DC-FAR", "A"): 5,
        ("DC-FAR", "H"): 5,
        ("ST-PART", "A"): 1,
        ("ST-PART", "H"): 3,
        ("ST-DOWN", "A"): 9,
    }
    v = replace(view(locs, stock), product_tags={"H": frozenset({"not-from-store"})})
    req = SourcingRequest.for_order(order([("1", "A", 1), ("2", "H", 1)], dest=(48.85, 2.35)))
    return source(req, v, DEFAULT_POLICY, NOW)


def test_candidates_are_stored_as_columns_and_read_back_spelled_out(
    application: Application,
) -> None:
    decision = a_decision_with_every_kind_of_candidate()
    record = decision.as_record()
    assert isinstance(record["candidates"], dict)  # columns, not one object per candidate
    with application.ctx.uow() as uow:
        uow.decisions.add(StoredDecision("D1", "O1", AT, record))
        uow.commit()
    with application.ctx.uow(readonly=True) as uow:
        [stored] = uow.decisions.for_order("O1")
    assert stored.explanation == decision.as_dict()
    by_id = {c["location_id"]: c for c in stored.explanation["candidates"]}
    assert by_id["DC-NEAR"]["status"] == "chosen"
    assert (by_id["ST-DOWN"]["status"], by_id["ST-DOWN"]["reason"]) == (
        "excluded",
        "location_paused",
    )
    assert by_id["ST-PART"]["blocked"] == {"H": "not-from-store"}
    assert by_id["ST-PART"]["available"] == {"A": 1, "H": 0}
    assert by_id["ST-PART"]["detail"] == "alone covers 1 of 2 units"
    assert by_id["DC-FAR"]["detail"].startswith("alone costs ")
