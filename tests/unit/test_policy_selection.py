"""Which policy decides an order: most specific matching selector, then priority, then id."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ordergrid.domain.sourcing import (
    DEFAULT_POLICY,
    OrderFacts,
    Policy,
    Selector,
    policy_from_document,
    select_policy,
)

WEB_SHIP = OrderFacts("web", "ship", "standard", "US", "10001", Decimal("120.00"))


def policy(pid: str, priority: int = 0, **selector: object) -> Policy:
    return Policy(id=pid, version=1, name=pid, priority=priority, selector=Selector(**selector))  # type: ignore[arg-type]


def test_no_active_policy_means_the_builtin_default() -> None:
    assert select_policy([], WEB_SHIP) is DEFAULT_POLICY


def test_a_policy_whose_selector_does_not_match_is_ignored() -> None:
    pos_only = policy("pos", channels=frozenset({"pos"}))
    assert select_policy([pos_only], WEB_SHIP) is DEFAULT_POLICY


def test_the_most_specific_match_wins_over_a_higher_priority() -> None:
    broad = policy("broad", priority=100, channels=frozenset({"web"}))
    narrow = policy(
        "narrow", priority=1, channels=frozenset({"web"}), delivery_methods=frozenset({"ship"})
    )
    assert select_policy([broad, narrow], WEB_SHIP).id == "narrow"


def test_priority_decides_between_equally_specific_matches_then_the_id() -> None:
    a = policy("a", priority=5, channels=frozenset({"web"}))
    b = policy("b", priority=9, channels=frozenset({"web"}))
    c = policy("c", priority=9, channels=frozenset({"web"}))
    assert select_policy([a, c, b], WEB_SHIP).id == "b"


def test_region_and_value_dimensions() -> None:
    nyc = policy("nyc", countries=frozenset({"US"}), postal_prefixes=frozenset({"100"}))
    la = policy("la", postal_prefixes=frozenset({"900"}))
    big = policy("big", min_order_value=Decimal("500"))
    small = policy("small", max_order_value=Decimal("120.00"))
    assert select_policy([la, nyc], WEB_SHIP).id == "nyc"
    assert select_policy([big], WEB_SHIP) is DEFAULT_POLICY
    assert select_policy([small], WEB_SHIP).id == "small"  # bounds are inclusive


def test_document_defaults_are_those_of_the_builtin_policy() -> None:
    p = policy_from_document("p", 4, {"name": "P"})
    assert (p.id, p.version, p.name) == ("p", 4, "P")
    assert p.costs == DEFAULT_POLICY.costs
    assert p.constraints == DEFAULT_POLICY.constraints
    assert p.fallback == DEFAULT_POLICY.fallback
    assert p.selector.specificity == 0


def test_document_fields_reach_the_policy() -> None:
    p = policy_from_document(
        "p",
        1,
        {
            "name": "P",
            "priority": 7,
            "selector": {"channels": ["web"], "countries": ["us"], "min_order_value": "10.5"},
            "constraints": {"location_types": ["dc"], "max_shipments": 1, "max_distance_km": 500},
            "costs": {"per_shipment": 5, "handling_per_shipment": {"store": 2.0}},
            "fallback": "cancel",
        },
    )
    assert p.selector.countries == frozenset({"US"})
    assert p.selector.min_order_value == Decimal("10.5")
    assert p.selector.specificity == 3
    assert p.constraints.location_types == frozenset({"dc"})
    assert (p.constraints.max_shipments, p.constraints.max_distance_km) == (1, 500)
    assert p.costs.per_shipment == 5.0
    assert p.costs.handling_per_shipment == {"store": 2.0}
    assert p.fallback.value == "cancel"


def test_order_tags_and_customer_segments_select_policies() -> None:
    vip = policy("vip", customer_segments=frozenset({"vip"}))
    gifts = policy("gifts", order_tags=frozenset({"gift", "wrap"}))
    assert select_policy([vip, gifts], WEB_SHIP) is DEFAULT_POLICY
    tagged = replace(WEB_SHIP, tags=frozenset({"wrap"}))
    assert select_policy([vip, gifts], tagged).id == "gifts"
    both = replace(tagged, segment="vip")
    picked = select_policy(
        [
            vip,
            gifts,
            policy(
                "vip-gifts", customer_segments=frozenset({"vip"}), order_tags=frozenset({"gift"})
            ),
        ],
        both,
    )
    assert picked.id == "gifts"  # vip-gifts needs the "gift" tag, this order has "wrap"
    assert vip.selector.specificity == 1


def test_a_radius_selector_matches_destinations_inside_the_circle() -> None:
    nyc = policy_from_document(
        "nyc",
        1,
        {"name": "nyc", "selector": {"within": {"lat": 40.75, "lon": -73.99, "radius_km": 50}}},
    )
    inside = replace(WEB_SHIP, destination=(40.70, -74.00))
    outside = replace(WEB_SHIP, destination=(42.36, -71.06))  # Boston
    assert select_policy([nyc], inside).id == "nyc"
    assert select_policy([nyc], outside) is DEFAULT_POLICY
    assert select_policy([nyc], replace(WEB_SHIP, destination=None)) is DEFAULT_POLICY
    assert nyc.selector.specificity == 1
