"""Baseline sourcing engine: cost formula, plan choice, exclusions, fallbacks, determinism."""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import product as cartesian
from math import asin, cos, radians, sin, sqrt
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from tests.unit.factories import NOW, location, order, position, sourced, view

from ordergrid.domain.network import Location
from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing import (
    DEFAULT_POLICY,
    Decision,
    Fallback,
    Policy,
    SourcingRequest,
)
from ordergrid.domain.sourcing import source as source_request
from ordergrid.domain.sourcing.policy import Constraints, Costs
from ordergrid.domain.sourcing.product_rules import ProductRule
from ordergrid.domain.sourcing.view import SourcingView

Case = tuple[
    list[tuple[str, str, int]],
    list[Location],
    dict[tuple[str, str], int],
    Policy,
    tuple[float, float],
]

PARIS = (48.8566, 2.3522)
LYON = (45.7640, 4.8357)


def source(o: Order, v: SourcingView, policy: Policy = DEFAULT_POLICY) -> Decision:
    return source_request(SourcingRequest.for_order(o), v, policy, NOW)


def policy(fallback: Fallback = Fallback.PARTIAL, **constraints: Any) -> Policy:
    return replace(
        DEFAULT_POLICY,
        fallback=fallback,
        constraints=replace(Constraints(), **constraints),
    )


def with_costs(base: Policy = DEFAULT_POLICY, **costs: Any) -> Policy:
    return replace(base, costs=replace(Costs(), **costs))


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Independent great-circle distance (mean Earth radius, IUGG)."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * asin(sqrt(h))


def chosen(d: Decision) -> list[str]:
    return [s.location_id for s in d.plan.shipments]


def candidate(d: Decision, location_id: str) -> tuple[str, str | None]:
    c = next(c for c in d.candidates if c.location_id == location_id)
    return c.status, c.reason


def allocated(d: Decision) -> dict[tuple[str, str], int]:
    """Units per (location, line)."""
    out: dict[tuple[str, str], int] = {}
    for s in d.plan.shipments:
        for a in s.allocations:
            out[(s.location_id, a.line_id)] = out.get((s.location_id, a.line_id), 0) + a.quantity
    return out


# --- cost formula -----------------------------------------------------------------------


def test_cost_matches_the_api_formula_by_hand() -> None:
    store = location("S1", *PARIS, type="store", handling=1.5)
    o = order([("1", "A", 2), ("2", "B", 1)], dest=LYON)
    p = with_costs(
        per_shipment=5.0,
        per_unit=0.5,
        per_unit_km=0.01,
        handling_per_shipment={"store": 2.0, "dc": 99.0},
    )
    d = source(o, view([store], {("S1", "A"): 2, ("S1", "B"): 1}), p)

    km = haversine_km(PARIS, LYON)
    assert 390 < km < 394  # Paris-Lyon as the crow flies
    expected = 5.0 + (1.5 + 2.0) + 3 * (0.5 + 0.01 * km)
    [shipment] = d.plan.shipments
    assert shipment.distance_km == pytest.approx(km, rel=1e-9)
    assert shipment.cost_parts == pytest.approx(
        {
            "per_shipment": 5.0,
            "handling": 3.5,
            "per_unit": 1.5,
            "distance": 3 * 0.01 * km,
        }
    )
    assert shipment.cost == pytest.approx(expected, abs=1e-6)
    assert d.plan.cost == pytest.approx(expected, abs=1e-6)


def test_split_plan_cost_is_the_sum_of_its_shipments() -> None:
    dc = location("DC1", *PARIS)
    store = location("S1", *LYON, type="store", handling=0.7)
    dest = (47.0, 3.0)
    o = order([("1", "A", 2), ("2", "B", 3)], dest=dest)
    p = with_costs(
        per_shipment=4.0,
        per_unit=0.25,
        per_unit_km=0.002,
        handling_per_shipment={"store": 1.0},
    )
    d = source(o, view([dc, store], {("DC1", "A"): 2, ("S1", "B"): 3}), p)

    cost_dc = 4.0 + 0.0 + 2 * (0.25 + 0.002 * haversine_km(PARIS, dest))
    cost_store = 4.0 + 1.7 + 3 * (0.25 + 0.002 * haversine_km(LYON, dest))
    assert chosen(d) == ["DC1", "S1"]
    assert [s.cost for s in d.plan.shipments] == pytest.approx([cost_dc, cost_store], abs=1e-6)
    assert d.plan.cost == pytest.approx(cost_dc + cost_store, abs=1e-6)


def test_missing_handling_entries_count_as_zero() -> None:
    o = order([("1", "A", 1)], dest=PARIS)
    d = source(
        o,
        view([location("DC1", *PARIS)], {("DC1", "A"): 1}),
        with_costs(
            per_shipment=1.0,
            per_unit=0.0,
            per_unit_km=0.0,
            handling_per_shipment={"store": 5.0},
        ),
    )
    assert d.plan.shipments[0].cost_parts["handling"] == 0.0
    assert d.plan.cost == pytest.approx(1.0)


# --- choosing a plan ---------------------------------------------------------------------


def test_cheapest_single_covering_location_is_chosen() -> None:
    locs = [
        location("A1", 48.0, 2.0, handling=3.0),
        location("A2", 48.0, 2.0, handling=1.0),
        location("A3", 48.0, 2.0, handling=2.0),
    ]
    stock = {(loc.id, "A"): 5 for loc in locs}
    d = source(order([("1", "A", 2)], dest=PARIS), view(locs, stock))
    assert d.outcome == "allocated"
    assert chosen(d) == ["A2"]
    costs = {c.location_id: c.single_location_cost for c in d.candidates}
    assert d.plan.cost == min(c for c in costs.values() if c is not None)
    assert candidate(d, "A1") == ("scored", "beaten")
    assert candidate(d, "A2") == ("chosen", None)


def test_nearer_of_two_equal_locations_wins() -> None:
    near = location("ZNEAR", 48.9, 2.4)  # id sorts last: distance, not id, decides
    far = location("AFAR", 45.0, 2.4)
    d = source(
        order([("1", "A", 1)], dest=PARIS),
        view([far, near], {("AFAR", "A"): 1, ("ZNEAR", "A"): 1}),
    )
    assert chosen(d) == ["ZNEAR"]
    assert candidate(d, "AFAR") == ("scored", "beaten")


def test_single_covering_location_preferred_over_a_cheaper_looking_split() -> None:
    far = location("FAR", 45.0, 2.35)  # ~430 km, holds everything
    near_a = location("NA", 48.85, 2.35)
    near_b = location("NB", 48.86, 2.35)
    o = order([("1", "A", 1), ("2", "B", 1)], dest=PARIS)
    v = view(
        [far, near_a, near_b],
        {("FAR", "A"): 1, ("FAR", "B"): 1, ("NA", "A"): 1, ("NB", "B"): 1},
    )
    d = source(o, v)
    assert chosen(d) == ["FAR"]  # one per_shipment beats the distance saved
    assert d.outcome == "allocated"


def test_single_location_wins_a_cost_tie_against_a_split() -> None:
    free = with_costs(per_shipment=0.0, per_unit=1.0, per_unit_km=0.0)
    o = order([("1", "A", 1), ("2", "B", 1)], dest=PARIS)
    v = view(
        [
            location("AA", 48.0, 2.0),
            location("AB", 48.0, 2.0),
            location("ZZ", 48.0, 2.0),
        ],
        {("AA", "A"): 1, ("AB", "B"): 1, ("ZZ", "A"): 1, ("ZZ", "B"): 1},
    )
    d = source(o, v, free)
    assert chosen(d) == ["ZZ"]


def test_fewer_shipments_win_a_cost_tie_between_splits() -> None:
    free = with_costs(per_shipment=0.0, per_unit=1.0, per_unit_km=0.0)
    o = order([("1", "A", 1), ("2", "B", 1), ("3", "C", 1)], dest=PARIS)
    locs = [location(x, 48.0, 2.0) for x in ("L1", "L2", "L3", "L4")]
    stock = {
        ("L1", "A"): 1,
        ("L1", "B"): 1,
        ("L2", "C"): 1,
        ("L3", "A"): 1,
        ("L4", "B"): 1,
    }
    d = source(o, view(locs, stock), free)
    assert d.plan.cost == 3.0
    assert chosen(d) == ["L1", "L2"]


def test_strictly_cheaper_split_beats_a_covering_single_location() -> None:
    o = order([("1", "A", 1), ("2", "B", 1)], dest=(48.0, 2.0))
    v = view(
        [
            location("FAR", 58.0, 2.0),
            location("N1", 48.05, 2.0),
            location("N2", 47.95, 2.0),
        ],
        {("FAR", "A"): 5, ("FAR", "B"): 5, ("N1", "A"): 5, ("N2", "B"): 5},
    )
    d = source(o, v, with_costs(per_shipment=0.0, per_unit=0.0, per_unit_km=1.0))
    assert chosen(d) == ["N1", "N2"]  # ~11 vs ~2224


def test_split_within_max_shipments_when_no_single_location_covers() -> None:
    locs = [location(f"L{i}", 48.0 + i * 0.1, 2.0) for i in range(3)]
    o = order([("1", "A", 1), ("2", "B", 1), ("3", "C", 1)], dest=PARIS)
    v = view(locs, {("L0", "A"): 1, ("L1", "B"): 1, ("L2", "C"): 1})

    three = source(o, v, policy(max_shipments=3))
    assert three.outcome == "allocated"
    assert chosen(three) == ["L0", "L1", "L2"]

    two = source(o, v, policy(max_shipments=2))
    assert two.outcome == "partially_allocated"
    assert len(two.plan.shipments) == 2
    assert two.plan.units == 2
    assert sum(two.backordered.values()) == 1

    one = source(o, v, policy(max_shipments=1))
    assert len(one.plan.shipments) == 1


def test_split_search_finds_the_cheapest_pair_beyond_the_nearest_holders() -> None:
    locs, stock = [], {}
    for i in range(8):  # near but expensive, each covering 3 of the 4 units
        locs.append(location(f"D{i}", 48.0 + 0.01 * i, 2.0, handling=100.0))
        stock[(f"D{i}", "A")] = 2
        stock[(f"D{i}", "B")] = 1
    locs += [location("X", 48.5, 2.0), location("Y", 48.5, 2.1)]
    stock[("X", "A")] = 2
    stock[("Y", "B")] = 2
    d = source(order([("1", "A", 2), ("2", "B", 2)], dest=(48.0, 2.0)), view(locs, stock))
    assert chosen(d) == ["X", "Y"]  # ~19.3 against ~219 for the plan chosen today


# --- brute-force oracle ------------------------------------------------------------------


def oracle(
    lines: list[tuple[str, str, int]],
    locs: list[Location],
    stock: dict[tuple[str, str], int],
    p: Policy,
    dest: tuple[float, float],
) -> tuple[int, float]:
    """Most units placeable with ≤ max_shipments locations, and the least cost for that."""
    costs = p.costs

    def splits(qty: int, avail: list[int]) -> list[tuple[int, ...]]:
        ranges = [range(min(qty, a) + 1) for a in avail]
        return [x for x in cartesian(*ranges) if sum(x) <= qty]

    best: tuple[int, float] = (0, 0.0)
    n = len(locs)

    def walk(i: int, left: dict[tuple[str, str], int], units: list[int]) -> None:
        nonlocal best
        if i == len(lines):
            used = [k for k in range(n) if units[k] > 0]
            if len(used) > p.constraints.max_shipments:
                return
            total = sum(units)
            cost = sum(
                round(
                    costs.per_shipment
                    + costs.handling(locs[k])
                    + units[k] * costs.per_unit
                    + units[k] * costs.per_unit_km * haversine_km((locs[k].lat, locs[k].lon), dest),
                    6,
                )
                for k in used
            )
            if (total, -cost) > (best[0], -best[1]) and not (
                total == best[0] and abs(cost - best[1]) < 1e-6
            ):
                best = (total, cost)
            return
        _, sku, qty = lines[i]
        for x in splits(qty, [left[(loc.id, sku)] for loc in locs]):
            after = dict(left)
            for k, q in enumerate(x):
                after[(locs[k].id, sku)] -= q
            walk(i + 1, after, [u + q for u, q in zip(units, x, strict=True)])

    left = {(loc.id, sku): stock.get((loc.id, sku), 0) for loc in locs for _, sku, _ in lines}
    walk(0, left, [0] * n)
    return best


@st.composite
def instances(draw: st.DrawFn) -> Case:
    n_locs = draw(st.integers(1, 4))
    types = ["dc", "store"]
    locs = [
        location(
            f"L{i}",
            draw(st.integers(430, 500)) / 10,
            draw(st.integers(-20, 80)) / 10,
            type=draw(st.sampled_from(types)),
            handling=draw(st.integers(0, 8)) / 2,
        )
        for i in range(n_locs)
    ]
    skus = draw(st.lists(st.sampled_from("ABC"), min_size=1, max_size=3))
    lines = [(str(i + 1), sku, draw(st.integers(1, 3))) for i, sku in enumerate(skus)]
    stock = {
        (loc.id, sku): q
        for loc in locs
        for sku in sorted(set(skus))
        if (q := draw(st.integers(0, 3))) > 0
    }
    costs = Costs(
        per_shipment=draw(st.integers(0, 20)) / 2,
        per_unit=draw(st.integers(0, 4)) / 4,
        per_unit_km=draw(st.sampled_from([0.0, 0.000336, 0.002, 0.01, 0.05])),
        handling_per_shipment={"store": draw(st.integers(0, 6)) / 2},
    )
    p = replace(
        DEFAULT_POLICY,
        costs=costs,
        constraints=Constraints(max_shipments=draw(st.integers(1, 3))),
    )
    dest = (draw(st.integers(430, 500)) / 10, draw(st.integers(-20, 80)) / 10)
    return lines, locs, stock, p, dest


def check_against_oracle(case: Case, require_no_single_cover: bool) -> None:
    lines, locs, stock, p, dest = case
    o = order(lines, dest=dest)
    v = view(locs, stock)
    d = source(o, v, p)
    total = sum(q for _, _, q in lines)
    covers = any(c.covers_order for c in d.candidates)
    if require_no_single_cover and covers:
        return
    units, cost = oracle(lines, locs, stock, p, dest)
    assert d.plan.units == units
    assert d.plan.cost == pytest.approx(cost, abs=1e-5)
    assert len(d.plan.shipments) <= p.constraints.max_shipments
    # Never over-draw a position, even with several lines of one SKU.
    drawn: dict[tuple[str, str], int] = {}
    for s in d.plan.shipments:
        for a in s.allocations:
            drawn[(s.location_id, a.sku)] = drawn.get((s.location_id, a.sku), 0) + a.quantity
    for key, q in drawn.items():
        assert q <= stock.get(key, 0)
    # Every unit is either placed or back-ordered (default fallback: partial).
    assert d.plan.units + sum(d.backordered.values()) == total


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_split_plan_is_the_cheapest_when_no_single_location_covers(
    case: Case,
) -> None:
    check_against_oracle(case, require_no_single_cover=True)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a known failure: skip the slow shrinking
    suppress_health_check=[HealthCheck.too_slow],
)
@given(instances())
@example(
    (  # a far location covers the order; two near ones split it for less
        [("1", "A", 1), ("2", "B", 1)],
        [location("L0", 58.0, 2.0), location("L1", 48.05, 2.0), location("L2", 47.95, 2.0)],
        {("L0", "A"): 1, ("L0", "B"): 1, ("L1", "A"): 1, ("L2", "B"): 1},
        replace(DEFAULT_POLICY, costs=Costs(per_shipment=0.0, per_unit=0.0, per_unit_km=0.01)),
        (48.0, 2.0),
    )
)
def test_chosen_plan_is_the_cheapest_of_all_plans(case: Case) -> None:
    check_against_oracle(case, require_no_single_cover=False)


# --- exclusions ---------------------------------------------------------------------------


HOLDER = ("X", "A")


@pytest.mark.parametrize(
    ("reason", "loc", "req_order", "pol", "on_hand", "reserved"),
    [
        (
            "location_paused",
            location("X", 48.0, 2.0, status="paused"),
            None,
            None,
            5,
            0,
        ),
        (
            "location_closed",
            location("X", 48.0, 2.0, status="closed"),
            None,
            None,
            5,
            0,
        ),
        ("excluded_for_order", location("X", 48.0, 2.0), "excluded", None, 5, 0),
        (
            "location_type_not_allowed",
            location("X", 48.0, 2.0, type="store"),
            None,
            policy(location_types=frozenset({"dc"})),
            5,
            0,
        ),
        (
            "capability_missing",
            location("X", 48.0, 2.0, caps=("pickup",)),
            None,
            None,
            5,
            0,
        ),
        (
            "not_pickup_location",
            location("X", 48.0, 2.0, type="store", caps=("pickup",)),
            "pickup",
            None,
            5,
            0,
        ),
        (
            "location_tag_excluded",
            location("X", 48.0, 2.0, tags=("no-ecom", "big")),
            None,
            policy(exclude_location_tags=frozenset({"no-ecom"})),
            5,
            0,
        ),
        (
            "location_tag_required",
            location("X", 48.0, 2.0, tags=("big",)),
            None,
            policy(include_location_tags=frozenset({"ecom"})),
            5,
            0,
        ),
        (
            "max_distance_exceeded",
            location("X", 40.0, 2.0),
            None,
            policy(max_distance_km=100.0),
            5,
            0,
        ),
        ("no_available_stock", location("X", 48.0, 2.0), None, None, 5, 5),
    ],
)
def test_each_exclusion_is_reported_with_its_code(
    reason: str,
    loc: Location,
    req_order: str | None,
    pol: Policy | None,
    on_hand: int,
    reserved: int,
) -> None:
    if req_order == "pickup":
        o = order([("1", "A", 1)], method="pickup", pickup="STORE")
    else:
        o = order([("1", "A", 1)], dest=PARIS)
    if req_order == "excluded":
        o.excluded_locations.add("X")
    v = view([loc], {HOLDER: on_hand}, reserved={HOLDER: reserved})
    d = source(o, v, pol or DEFAULT_POLICY)
    [c] = d.candidates
    assert (c.location_id, c.status, c.reason) == ("X", "excluded", reason)
    assert c.detail
    assert d.plan.units == 0
    assert d.outcome == "backordered"


def test_allowed_tags_types_and_distance_do_not_exclude() -> None:
    loc = location("X", 48.5, 2.35, type="store", tags=("ecom",))
    p = policy(
        location_types=frozenset({"store"}),
        max_distance_km=100.0,
        exclude_location_tags=frozenset({"no-ecom"}),
        include_location_tags=frozenset({"ecom", "other"}),
    )
    d = source(order([("1", "A", 1)], dest=PARIS), view([loc], {HOLDER: 1}), p)
    assert chosen(d) == ["X"]


def test_safety_stock_counts_as_unavailable() -> None:
    loc = location("X", 48.0, 2.0)
    v = SourcingView({"X": loc}, {HOLDER: position("X", "A", 3, reserved=1, safety_stock=2)})
    d = source(order([("1", "A", 1)]), v)
    assert candidate(d, "X") == ("excluded", "no_available_stock")


def test_every_stock_holding_location_appears_in_candidates() -> None:
    locs = [
        location("CHEAP", 48.8, 2.3),
        location("BEATEN", 45.0, 2.3),
        location("PAUSED", 48.8, 2.3, status="paused"),
        location("RESERVED", 48.8, 2.3),
        location("OTHERSKU", 48.8, 2.3),
        location("NOSTOCK", 48.8, 2.3),
    ]
    stock = {
        ("CHEAP", "A"): 2,
        ("BEATEN", "A"): 2,
        ("PAUSED", "A"): 2,
        ("RESERVED", "A"): 1,
        ("OTHERSKU", "Z"): 4,
        ("NOSTOCK", "A"): 0,
    }
    d = source(
        order([("1", "A", 2)], dest=PARIS),
        view(locs, stock, reserved={("RESERVED", "A"): 1}),
    )
    seen = {c.location_id: (c.status, c.reason) for c in d.candidates}
    assert seen == {
        "CHEAP": ("chosen", None),
        "BEATEN": ("scored", "beaten"),
        "PAUSED": ("excluded", "location_paused"),
        "RESERVED": ("excluded", "no_available_stock"),
    }
    by_id = {c.location_id: c for c in d.candidates}
    assert by_id["CHEAP"].covers_order
    assert by_id["BEATEN"].covers_order
    cheap, beaten = (
        by_id["CHEAP"].single_location_cost,
        by_id["BEATEN"].single_location_cost,
    )
    assert cheap is not None
    assert beaten is not None
    assert cheap < beaten


# --- fallbacks ----------------------------------------------------------------------------


def short_network() -> SourcingView:
    """Line 1 (A x 3) has 1 unit available; line 2 (B x 1) is fully available."""
    return view([location("DC1", 48.0, 2.0)], {("DC1", "A"): 1, ("DC1", "B"): 1})


SHORT_ORDER = [("1", "A", 3), ("2", "B", 1)]


def test_partial_allocates_what_it_can_and_backorders_the_rest() -> None:
    d = source(order(SHORT_ORDER), short_network(), policy(Fallback.PARTIAL))
    assert d.outcome == "partially_allocated"
    assert allocated(d) == {("DC1", "1"): 1, ("DC1", "2"): 1}
    assert d.backordered == {"1": 2}
    assert d.cancelled == {}


def test_backorder_ships_complete_and_allocates_nothing() -> None:
    d = source(order(SHORT_ORDER), short_network(), policy(Fallback.BACKORDER))
    assert d.outcome == "backordered"
    assert d.plan.shipments == ()
    assert d.backordered == {"1": 3, "2": 1}
    assert d.cancelled == {}
    assert all(c.status != "chosen" for c in d.candidates)


def test_backorder_fallback_allocates_when_everything_is_covered() -> None:
    v = view([location("DC1", 48.0, 2.0)], {("DC1", "A"): 3, ("DC1", "B"): 1})
    d = source(order(SHORT_ORDER), v, policy(Fallback.BACKORDER))
    assert d.outcome == "allocated"
    assert d.backordered == {}


def test_cancel_fallback_cancels_what_cannot_be_allocated() -> None:
    d = source(order(SHORT_ORDER), short_network(), policy(Fallback.CANCEL))
    assert d.outcome == "partially_allocated"
    assert allocated(d) == {("DC1", "1"): 1, ("DC1", "2"): 1}
    assert d.cancelled == {"1": 2}
    assert d.backordered == {}


def test_cancel_fallback_with_nothing_available_cancels_everything() -> None:
    d = source(order(SHORT_ORDER), view([], {}), policy(Fallback.CANCEL))
    assert d.outcome == "cancelled"
    assert d.cancelled == {"1": 3, "2": 1}
    assert d.plan.units == 0


def test_partial_fallback_with_nothing_available_backorders_everything() -> None:
    d = source(order(SHORT_ORDER), view([], {}), policy(Fallback.PARTIAL))
    assert d.outcome == "backordered"
    assert d.backordered == {"1": 3, "2": 1}
    assert d.candidates == ()


def test_nothing_to_source_when_every_unit_is_placed() -> None:
    o = order([("1", "A", 1)])
    o.lines[0].cancelled = 1
    d = source(o, short_network())
    assert d.outcome == "nothing_to_source"
    assert d.plan.shipments == ()


# --- determinism, runner-ups --------------------------------------------------------------


def busy_network() -> tuple[list[Location], dict[tuple[str, str], int]]:
    locs = [
        location(
            f"L{i}",
            44.0 + i * 0.7,
            1.0 + (i % 3),
            handling=(i % 4) * 0.5,
            type="store" if i % 2 else "dc",
        )
        for i in range(7)
    ]
    stock = {(f"L{i}", sku): (i + j) % 3 for i in range(7) for j, sku in enumerate("ABC")}
    return locs, stock


BUSY_ORDER = [("1", "A", 2), ("2", "B", 2), ("3", "C", 1), ("4", "A", 1)]


def test_same_inputs_give_equal_decisions() -> None:
    locs, stock = busy_network()
    first = source(order(BUSY_ORDER), view(locs, stock))
    second = source(order(BUSY_ORDER), view(locs, stock))
    assert first == second
    assert first.as_dict() == second.as_dict()


@pytest.mark.parametrize("seed", range(5))
def test_insertion_order_of_the_view_does_not_change_the_decision(seed: int) -> None:
    locs, stock = busy_network()
    reference = source(order(BUSY_ORDER), view(locs, stock))
    rng = random.Random(seed)
    shuffled_locs = rng.sample(locs, len(locs))
    shuffled_stock = dict(rng.sample(list(stock.items()), len(stock)))
    again = source(order(BUSY_ORDER), view(shuffled_locs, shuffled_stock))
    assert again == reference
    assert again.as_dict() == reference.as_dict()


def test_runner_ups_are_sorted_and_exclude_the_chosen_plan() -> None:
    locs, stock = busy_network()
    d = source(order(BUSY_ORDER), view(locs, stock))
    assert d.runner_ups
    assert len(d.runner_ups) <= 3
    assert d.plan not in d.runner_ups
    keys = [(-p.units, p.cost, len(p.shipments)) for p in (d.plan, *d.runner_ups)]
    assert keys == sorted(keys)


def test_runner_ups_of_a_single_location_choice_are_the_other_singles() -> None:
    locs = [
        location("N", 48.8, 2.3),
        location("M", 47.0, 2.3),
        location("F", 44.0, 2.3),
    ]
    d = source(
        order([("1", "A", 1)], dest=PARIS),
        view(locs, {("N", "A"): 1, ("M", "A"): 1, ("F", "A"): 1}),
    )
    assert chosen(d) == ["N"]
    assert [[s.location_id for s in p.shipments] for p in d.runner_ups] == [
        ["M"],
        ["F"],
    ]


# --- pick-up, same SKU ------------------------------------------------------------------------


def test_pickup_order_is_sourced_only_from_its_pickup_store() -> None:
    s1 = location("S1", 48.0, 2.0, type="store", caps=("pickup", "ship"))
    s2 = location("S2", 48.0, 2.0, type="store", caps=("pickup", "ship"))
    dc = location("DC", 48.0, 2.0)
    o = order([("1", "A", 2)], method="pickup", pickup="S1")
    d = source(o, view([s1, s2, dc], {("S1", "A"): 2, ("S2", "A"): 9, ("DC", "A"): 9}))
    assert chosen(d) == ["S1"]
    assert d.plan.shipments[0].distance_km is None
    assert candidate(d, "S2") == ("excluded", "not_pickup_location")
    assert candidate(d, "DC") == ("excluded", "capability_missing")


def test_pickup_store_without_stock_backorders_instead_of_using_another_store() -> None:
    s1 = location("S1", 48.0, 2.0, type="store", caps=("pickup",))
    s2 = location("S2", 48.0, 2.0, type="store", caps=("pickup",))
    o = order([("1", "A", 2)], method="pickup", pickup="S1")
    d = source(o, view([s1, s2], {("S1", "A"): 1, ("S2", "A"): 9}))
    assert allocated(d) == {("S1", "1"): 1}
    assert d.backordered == {"1": 1}
    empty = source(o, view([s1, s2], {("S2", "A"): 9}))
    assert empty.plan.units == 0
    assert candidate(empty, "S1") == ("excluded", "no_available_stock")


def test_two_lines_of_one_sku_never_overdraw_a_location() -> None:
    near = location("NEAR", 48.85, 2.35)
    far = location("FAR", 44.0, 2.35)
    o = order([("1", "A", 2), ("2", "A", 2)], dest=PARIS)
    d = source(o, view([near, far], {("NEAR", "A"): 3, ("FAR", "A"): 1}))
    assert d.outcome == "allocated"
    got = allocated(d)
    assert got[("NEAR", "1")] + got.get(("NEAR", "2"), 0) == 3
    assert sum(q for (loc, _), q in got.items() if loc == "FAR") == 1
    one_location = source(o, view([near], {("NEAR", "A"): 3}))
    assert one_location.plan.units == 3
    assert one_location.backordered == {"2": 1}


def test_resourcing_counts_locations_already_shipping_against_max_shipments() -> None:
    locs = [location(x, 48.0 + n / 10, 2.0) for n, x in enumerate(("L1", "L2", "L3", "L4"))]
    stock = {(x.id, "A"): 1 for x in locs}
    o = order([("1", "A", 4)])
    first, _ = sourced(o, view(locs, stock))
    assert len(first.plan.shipments) == 3
    assert first.backordered == {"1": 1}
    used = {f.location_id for f in o.fulfilments}
    assert used == {"L2", "L3", "L4"}  # the three nearest to Paris
    again = source(o, view(locs, stock))
    # More from a location already shipping is fine; a 4th location is not.
    assert {sh.location_id for sh in again.plan.shipments} <= used
    blocked = [c for c in again.candidates if c.reason == "max_shipments_reached"]
    assert [c.location_id for c in blocked] == ["L1"]


def test_product_rules_keep_items_away_and_say_which_rule() -> None:
    store = location("ST", 48.86, 2.35, type="store")
    dc = location("DC", 45.76, 4.84)
    v = replace(
        view([store, dc], {("ST", "A"): 5, ("DC", "A"): 5}),
        product_tags={"A": frozenset({"hazmat"})},
    )
    hazmat = ProductRule(
        "hazmat-not-from-stores", frozenset({"hazmat"}), exclude_location_types=frozenset({"store"})
    )
    strict = replace(
        DEFAULT_POLICY, constraints=replace(DEFAULT_POLICY.constraints, product_rules=(hazmat,))
    )
    d = source(order([("1", "A", 1)], dest=PARIS), v, strict)
    assert chosen(d) == ["DC"]
    by_id = {c.location_id: c for c in d.candidates}
    assert (by_id["ST"].reason, by_id["ST"].blocked) == (
        "product_rule",
        {"A": "hazmat-not-from-stores"},
    )
    assert chosen(source(order([("1", "A", 1)], dest=PARIS), v)) == ["ST"]  # no rule


def test_builtin_rule_dropship_only_items_come_from_a_dropship_vendor() -> None:
    vendor = location("DS", 40.0, -86.0, type="dropship")
    dc = location("DC", 48.8, 2.3)
    v = replace(
        view([vendor, dc], {("DS", "A"): 5, ("DC", "A"): 5, ("DC", "B"): 5}),
        product_tags={"A": frozenset({"dropship-only"})},
    )
    d = source(order([("1", "A", 1), ("2", "B", 1)], dest=PARIS), v)
    plan = {s.location_id: [a.sku for a in s.allocations] for s in d.plan.shipments}
    assert plan == {"DS": ["A"], "DC": ["B"]}
    assert {c.location_id: c.blocked for c in d.candidates}["DC"] == {"A": "dropship-only"}


def test_a_location_at_its_daily_capacity_gets_no_more_work() -> None:
    near = replace(location("NEAR", 48.86, 2.35), orders_per_day=2)
    far = location("FAR", 43.30, 5.37)
    v = replace(view([near, far], {("NEAR", "A"): 9, ("FAR", "A"): 9}), load={"NEAR": (2, 5)})
    d = source(order([("1", "A", 1)], dest=PARIS), v)
    assert chosen(d) == ["FAR"]
    by_id = {c.location_id: c for c in d.candidates}
    assert (by_id["NEAR"].reason, by_id["NEAR"].detail) == (
        "capacity_reached",
        "2 of 2 orders today",
    )
    ignore = replace(
        DEFAULT_POLICY, constraints=replace(DEFAULT_POLICY.constraints, respect_capacity=False)
    )
    assert chosen(source(order([("1", "A", 1)], dest=PARIS), v, ignore)) == ["NEAR"]


def test_a_location_that_does_not_serve_the_channel_is_excluded() -> None:
    shop_only = replace(location("POS", 48.86, 2.35), channels=frozenset({"pos"}))
    dc = location("DC", 45.76, 4.84)
    v = view([shop_only, dc], {("POS", "A"): 5, ("DC", "A"): 5})
    d = source(order([("1", "A", 1)], dest=PARIS), v)  # a web order
    assert chosen(d) == ["DC"]
    assert {c.location_id: c.reason for c in d.candidates}["POS"] == "channel_not_served"
