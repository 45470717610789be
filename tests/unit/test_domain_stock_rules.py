"""Safety stock and channel fences: which rule covers a position, and what it keeps."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.factories import location, position

from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.stock_rules import RuleKind, RuleScope, StockRule, StockRules

STORE = location("S1", 48.85, 2.35, type="store", caps=("ship", "pickup"))
DC = location("DC1", 45.76, 4.84)
SAFETY = RuleKind.SAFETY_STOCK
FENCE = RuleKind.CHANNEL_FENCE


def rule(
    rule_id: str, quantity: int | None = None, share: float | None = None, **scope: str
) -> StockRule:
    kind = FENCE if scope.pop("fence", None) else SAFETY
    return StockRule(rule_id, kind, RuleScope(**scope), quantity, share)


def safety(rules: list[StockRule], loc=STORE, sku="A", tags=frozenset(), channel=None, on_hand=10):
    return StockRules(rules).safety_stock(loc, sku, tags, channel, on_hand)


def test_no_rule_keeps_nothing() -> None:
    assert safety([]) == 0


def test_sku_rule_beats_tag_rule_beats_general_rule() -> None:
    rules = [rule("any", 1), rule("tag", 2, sku_tag="fragile"), rule("sku", 3, sku="A")]
    assert safety(rules, tags=frozenset({"fragile"})) == 3
    assert safety(rules, sku="B", tags=frozenset({"fragile"})) == 2
    assert safety(rules, sku="B") == 1


def test_location_rule_beats_location_type_rule() -> None:
    rules = [rule("type", 5, location_type="store"), rule("here", 2, location_id="S1")]
    assert safety(rules) == 2
    assert safety(rules, loc=location("S2", 0, 0, type="store")) == 5
    assert safety(rules, loc=DC) == 0


def test_product_specificity_outranks_location_specificity() -> None:
    rules = [rule("place", 7, location_id="S1"), rule("product", 1, sku="A")]
    assert safety(rules) == 1


def test_channel_rule_applies_only_to_its_channel_and_beats_any_channel() -> None:
    rules = [rule("all", 2, sku="A"), rule("web", 6, sku="A", channel="web")]
    assert safety(rules, channel="web") == 6
    assert safety(rules, channel="app") == 2
    assert safety(rules, channel=None) == 2


def test_equally_specific_rules_keep_the_larger_amount() -> None:
    rules = [rule("a", 2, sku_tag="x"), rule("b", 4, sku_tag="y")]
    assert safety(rules, tags=frozenset({"x", "y"})) == 4


def test_share_is_of_on_hand_rounded_up() -> None:
    assert safety([rule("s", share=0.25)], on_hand=10) == 3
    assert safety([rule("s", share=0.5)], on_hand=10) == 5
    assert safety([rule("s", share=0.5)], on_hand=0) == 0


@pytest.mark.parametrize(
    ("quantity", "share", "field"),
    [(None, None, "quantity"), (1, 0.5, "quantity"), (-1, None, "quantity"), (None, 1.5, "share")],
)
def test_invalid_amounts_are_refused_with_the_field(
    quantity: int | None, share: float | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        StockRule("r", SAFETY, RuleScope(), quantity, share)
    assert caught.value.code == "invalid_rule"
    assert caught.value.details["field"] == field


def test_fence_must_name_its_channel() -> None:
    with pytest.raises(InvalidInput) as caught:
        StockRule("f", FENCE, RuleScope(sku="A"), 3)
    assert caught.value.details["field"] == "scope.channel"


def test_fence_is_kept_from_other_channels_but_not_from_its_own() -> None:
    rules = StockRules([rule("mkt", 4, sku="A", channel="marketplace", fence="1"), rule("ss", 1)])
    p = position("S1", "A", on_hand=10, reserved=2)
    assert rules.keep(p, STORE, frozenset(), "web") == 5
    assert rules.keep(p, STORE, frozenset(), "marketplace") == 1
    # The position's own view (GET /v1/inventory) shows safety stock only.
    assert rules.keep(p, STORE, frozenset(), None) == 1


def test_most_specific_fence_per_channel_wins() -> None:
    rules = StockRules(
        [
            rule("wide", 9, channel="mkt", fence="1"),
            rule("narrow", 2, channel="mkt", location_id="S1", fence="1"),
        ]
    )
    assert rules.fences(STORE, "A", frozenset(), 10) == {"mkt": 2}
    assert rules.fences(DC, "A", frozenset(), 10) == {"mkt": 9}


scopes = st.builds(
    RuleScope,
    channel=st.sampled_from([None, "web", "app"]),
    location_id=st.sampled_from([None, "S1", "DC1"]),
    location_type=st.sampled_from([None, "store", "dc"]),
    sku=st.sampled_from([None, "A", "B"]),
    sku_tag=st.sampled_from([None, "x"]),
)
safety_rules = st.lists(
    st.builds(
        StockRule,
        id=st.text("abcdef", min_size=1, max_size=4),
        kind=st.just(SAFETY),
        scope=scopes,
        quantity=st.integers(0, 20),
    ),
    max_size=8,
    unique_by=lambda r: r.id,
)


@given(
    safety_rules,
    st.sampled_from([STORE, DC]),
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from([frozenset(), frozenset({"x"})]),
    st.sampled_from([None, "web", "app"]),
)
def test_resolution_matches_a_brute_force_ranking(rules, loc, sku, tags, channel) -> None:
    """The winner is the covering rule with the highest (product, location, channel)
    specificity, then the largest quantity; every other covering rule ranks below it."""
    covering = [
        r for r in rules if r.scope.covers(loc, sku, tags) and r.scope.channel in (None, channel)
    ]
    expected = max((r.scope.specificity, r.quantity) for r in covering)[1] if covering else 0
    assert StockRules(rules).safety_stock(loc, sku, tags, channel, 10) == expected


@given(
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 30),
    st.integers(0, 30),
    st.sampled_from(["web", "mkt", None]),
)
def test_available_is_never_negative_whatever_is_kept(
    on_hand, reserved, ss, fence, channel
) -> None:
    rules = StockRules([rule("ss", ss), rule("f", fence, channel="mkt", fence="1")])
    p = position("S1", "A", on_hand=on_hand, reserved=reserved)
    kept = rules.keep(p, STORE, frozenset(), channel)
    assert kept >= ss
    seen = position("S1", "A", on_hand=on_hand, reserved=reserved, safety_stock=kept)
    assert 0 <= seen.available <= max(0, on_hand - reserved)
    if channel == "web":
        assert kept == ss + fence


def test_share_rounding_never_protects_less_than_the_share() -> None:
    for on_hand in range(40):
        kept = StockRule("s", SAFETY, RuleScope(), share=0.3).amount(on_hand)
        assert kept == math.ceil(round(0.3 * on_hand, 9))
