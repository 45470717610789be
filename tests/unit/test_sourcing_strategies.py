"""Ordered strategies: the first that covers the order wins; conditions; fallback."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.unit.factories import NOW, location, order, view

from ordergrid.domain.sourcing import (
    DEFAULT_POLICY,
    Fallback,
    OrderFacts,
    SourcingRequest,
    policy_from_document,
    source,
)

PARIS = (48.8566, 2.3522)
LOCS = [
    location("DC1", 45.76, 4.84),
    location("DC2", 43.30, 5.37),
    location("ST1", 48.86, 2.35, type="store"),
]
STOCK = {("DC1", "A"): 1, ("DC2", "A"): 1, ("ST1", "A"): 2, ("DC1", "B"): 1}
POLICY = policy_from_document(
    "p",
    3,
    {
        "name": "p",
        "strategies": [
            {"name": "one DC", "constraints": {"location_types": ["dc"], "max_shipments": 1}},
            {
                "name": "gift wrap",
                "when": {"order_tags": ["gift"]},
                "constraints": {"location_types": ["store"]},
            },
            {"name": "anywhere"},
        ],
    },
)


def decide(lines: list[tuple[str, str, int]], tags: frozenset[str] = frozenset(), policy=POLICY):
    o = order(lines, dest=PARIS)
    req = SourcingRequest.for_order(o)
    facts = OrderFacts("web", "ship", "standard", "FR", None, Decimal(0), tags)
    return source(replace(req, facts=facts), view(LOCS, STOCK), policy, NOW)


def test_the_first_strategy_that_covers_the_order_wins() -> None:
    d = decide([("1", "A", 1)])
    assert d.strategy == "one DC"
    assert d.strategies_tried == ()
    assert d.plan.shipments[0].location_id in {"DC1", "DC2"}


def test_later_strategies_are_tried_and_the_reason_is_recorded() -> None:
    d = decide([("1", "A", 2)])  # no single DC holds 2; the store does
    assert d.strategy == "anywhere"
    assert d.strategies_tried == (
        {"strategy": "one DC", "result": "incomplete", "detail": "covers 1 of 2 units"},
        {"strategy": "gift wrap", "result": "conditions_not_met"},
    )
    assert d.outcome == "allocated"


def test_conditions_select_a_strategy() -> None:
    d = decide([("1", "A", 2)], tags=frozenset({"gift"}))
    assert d.strategy == "gift wrap"
    assert [s.location_id for s in d.plan.shipments] == ["ST1"]


def test_when_no_strategy_covers_the_order_the_fallback_uses_the_best_attempt() -> None:
    strict = policy_from_document(
        "p",
        1,
        {
            "name": "p",
            "fallback": "partial",
            "strategies": [
                {"name": "one DC", "constraints": {"location_types": ["dc"], "max_shipments": 1}}
            ],
        },
    )
    d = decide([("1", "A", 3)], policy=strict)
    assert (d.outcome, d.strategy, d.plan.units, d.backordered) == (
        "partially_allocated",
        "one DC",
        1,
        {"1": 2},
    )
    assert strict.fallback is Fallback.PARTIAL


def test_strategy_overrides_are_merged_over_the_policy() -> None:
    p = policy_from_document(
        "p",
        1,
        {
            "name": "p",
            "constraints": {"max_shipments": 2, "max_distance_km": 900},
            "costs": {"per_shipment": 5},
            "strategies": [
                {"name": "near", "constraints": {"max_distance_km": 50}, "costs": {"per_unit": 1}}
            ],
        },
    )
    [near] = p.strategies
    assert (near.constraints.max_shipments, near.constraints.max_distance_km) == (2, 50)
    assert (near.costs.per_shipment, near.costs.per_unit) == (5.0, 1.0)


def test_a_policy_without_strategies_is_its_own_single_strategy() -> None:
    d = decide([("1", "A", 1)], policy=DEFAULT_POLICY)
    assert d.strategy == DEFAULT_POLICY.name
    assert d.as_dict()["strategies_tried"] == []
