"""Every objective term of a policy's `costs`, and the engine's exactness with all of them
on at once, against a brute-force oracle that prices every possible assignment from the
documented formula (sharing no code with the engine)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, time
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.factories import NOW, location, order, view

from ordergrid.domain.geo import great_circle_km
from ordergrid.domain.network import Location
from ordergrid.domain.sourcing import DEFAULT_POLICY, Policy, SourcingRequest, mip, search, source
from ordergrid.domain.sourcing.engine import Attempt, evaluate
from ordergrid.domain.sourcing.policy import Costs, RateCard, policy_from_document
from ordergrid.domain.sourcing.selection import OrderFacts
from ordergrid.domain.sourcing.view import SourcingView

DEST = (48.85, 2.35)
CARD = RateCard(
    zone_max_km=(150.0, 400.0, 1000.0),
    weight_max_kg=(1.0, 5.0, 20.0),
    rates={
        "standard": ((4.0, 6.0, 9.0), (5.0, 7.5, 11.0), (6.5, 9.0, 14.0)),
        "express": ((9.0, 12.0, 18.0), (11.0, 14.0, 21.0), (14.0, 18.0, 26.0)),
    },
)


def _policy(**costs: object) -> Policy:
    return replace(DEFAULT_POLICY, costs=Costs(**costs))  # type: ignore[arg-type]


def _chosen(d: object) -> list[str]:
    return [s.location_id for s in d.plan.shipments]  # type: ignore[attr-defined]


# --- each term on its own -------------------------------------------------------------


def test_split_penalty_makes_one_further_location_beat_two_near_ones() -> None:
    near_a, near_b = location("NA", 48.9, 2.4), location("NB", 48.8, 2.3)
    far = location("FAR", 45.0, 5.0)
    stock = {("NA", "A"): 1, ("NB", "B"): 1, ("FAR", "A"): 1, ("FAR", "B"): 1}
    o = order([("1", "A", 1), ("2", "B", 1)], dest=DEST)
    cheap_ship = {"per_shipment": 1.0, "per_unit_km": 0.01}
    without = source(
        SourcingRequest.for_order(o), view([near_a, near_b, far], stock), _policy(**cheap_ship), NOW
    )
    assert _chosen(without) == ["NA", "NB"]
    with_penalty = source(
        SourcingRequest.for_order(o),
        view([near_a, near_b, far], stock),
        _policy(**cheap_ship, split_penalty=20.0),
        NOW,
    )
    assert _chosen(with_penalty) == ["FAR"]
    assert "split" not in with_penalty.plan.shipments[0].cost_parts
    assert "split" not in without.plan.shipments[1].cost_parts


def test_split_penalty_is_charged_to_every_shipment_after_the_first() -> None:
    a, b = location("A1", 48.9, 2.4), location("B1", 48.8, 2.3)
    stock = {("A1", "A"): 1, ("B1", "B"): 1}
    o = order([("1", "A", 1), ("2", "B", 1)], dest=DEST)
    d = source(SourcingRequest.for_order(o), view([a, b], stock), _policy(split_penalty=5.0), NOW)
    parts = [s.cost_parts.get("split", 0.0) for s in d.plan.shipments]
    assert parts == [0.0, 5.0]
    assert d.plan.cost == pytest.approx(sum(s.cost for s in d.plan.shipments))


def test_promise_risk_prefers_the_location_that_makes_the_cutoff() -> None:
    late = replace(location("LATE", 48.86, 2.36), cutoff_utc=time(10, 0))
    on_time = replace(location("ONTIME", 48.0, 2.0), cutoff_utc=time(16, 0))
    stock = {("LATE", "A"): 5, ("ONTIME", "A"): 5}
    o = order([("1", "A", 1)], dest=DEST)
    req = replace(
        SourcingRequest.for_order(o), facts=replace(OrderFacts.of(o), service_level="next_day")
    )
    costs = {"promise_risk_penalty": 25.0, "transit_days": ((300.0, 1), (1000.0, 2))}
    noon = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    d = source(req, view([late, on_time], stock), _policy(**costs), noon)
    assert _chosen(d) == ["ONTIME"]
    late_row = next(c for c in d.candidates if c.location_id == "LATE")
    assert late_row.single_location_cost is not None
    assert late_row.single_location_cost > 25
    morning = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert _chosen(source(req, view([late, on_time], stock), _policy(**costs), morning)) == ["LATE"]


def test_capacity_load_prefers_the_site_with_headroom() -> None:
    busy = replace(location("BUSY", 48.86, 2.36), orders_per_day=100)
    idle = replace(location("IDLE", 48.7, 2.2), orders_per_day=100)
    stock = {("BUSY", "A"): 5, ("IDLE", "A"): 5}
    o = order([("1", "A", 1)], dest=DEST)
    base = SourcingView(
        {loc.id: loc for loc in (busy, idle)},
        view([busy, idle], stock).positions,
        load={"BUSY": (90, 90), "IDLE": (10, 10)},
    )
    req = SourcingRequest.for_order(o)
    assert _chosen(source(req, base, DEFAULT_POLICY, NOW)) == ["BUSY"]
    d = source(req, base, _policy(capacity_load=10.0), NOW)
    assert _chosen(d) == ["IDLE"]
    assert d.plan.shipments[0].cost_parts["capacity_load"] == pytest.approx(1.0)


def test_last_units_of_a_store_are_kept_when_a_dc_can_serve() -> None:
    store = location("S1", 48.86, 2.36, type="store")
    dc = location("DC", 48.0, 2.0)
    stock = {("S1", "A"): 2, ("DC", "A"): 50}
    o = order([("1", "A", 1)], dest=DEST)
    req = SourcingRequest.for_order(o)
    assert _chosen(source(req, view([store, dc], stock), DEFAULT_POLICY, NOW)) == ["S1"]
    d = source(
        req,
        view([store, dc], stock),
        _policy(protect_last_units=2, last_units_penalty=3.0),
        NOW,
    )
    assert _chosen(d) == ["DC"]


def test_overstocked_store_wins_over_one_at_its_last_units() -> None:
    thin = location("THIN", 48.86, 2.36, type="store")
    deep = location("DEEP", 48.7, 2.2, type="store")
    stock = {("THIN", "A"): 1, ("DEEP", "A"): 30}
    req = SourcingRequest.for_order(order([("1", "A", 1)], dest=DEST))
    d = source(
        req, view([thin, deep], stock), _policy(protect_last_units=3, last_units_penalty=2.0), NOW
    )
    assert _chosen(d) == ["DEEP"]


def test_shadow_prices_keep_scarce_units_for_later() -> None:
    near, far = location("NEAR", 48.86, 2.36), location("FAR", 47.0, 3.0)
    stock = {("NEAR", "A"): 3, ("FAR", "A"): 30}
    req = SourcingRequest.for_order(order([("1", "A", 1)], dest=DEST))
    plain = view([near, far], stock)
    assert _chosen(source(req, plain, DEFAULT_POLICY, NOW)) == ["NEAR"]
    priced = replace(plain, shadow_prices={("NEAR", "A"): 5.0})
    d = source(req, priced, DEFAULT_POLICY, NOW)
    assert _chosen(d) == ["FAR"]
    off = source(req, priced, _policy(scarcity_weight=0.0), NOW)
    assert _chosen(off) == ["NEAR"]


def test_ship_alone_units_each_pay_a_parcel() -> None:
    dc = location("DC", 48.0, 2.0)
    stock = {("DC", "BIG"): 5, ("DC", "A"): 5}
    o = order([("1", "BIG", 2), ("2", "A", 1)], dest=DEST)
    v = replace(
        view([dc], stock), product_tags={"BIG": frozenset({"ship-alone"}), "A": frozenset()}
    )
    d = source(SourcingRequest.for_order(o), v, DEFAULT_POLICY, NOW)
    parts = d.plan.shipments[0].cost_parts
    assert parts["ship_alone_parcels"] == pytest.approx(2 * DEFAULT_POLICY.costs.per_shipment)
    assert parts["per_shipment"] == pytest.approx(DEFAULT_POLICY.costs.per_shipment)


def test_rate_card_prices_the_parcel_by_zone_and_weight() -> None:
    near = location("NEAR", 48.86, 2.36)  # zone 1
    stock = {("NEAR", "A"): 10}
    req = SourcingRequest.for_order(order([("1", "A", 3)], dest=DEST))
    v = replace(view([near], stock), weights={"A": 1.5})  # 4.5 kg: second band
    d = source(req, v, _policy(rate_card=CARD), NOW)
    parts = d.plan.shipments[0].cost_parts
    assert parts["parcel"] == 6.0
    assert parts["distance"] == 0.0
    assert "per_shipment" not in parts
    assert d.plan.cost == pytest.approx(6.0 + 3 * 0.423)


def test_rate_card_can_make_two_light_parcels_beat_one_heavy() -> None:
    a, b = location("A1", 48.86, 2.36), location("B1", 48.84, 2.34)
    stock = {("A1", "A"): 4, ("B1", "A"): 4}
    card = replace(
        CARD,
        rates={"standard": ((4.0, 6.0, 40.0), (5.0, 7.5, 41.0), (6.5, 9.0, 42.0))},
    )
    req = SourcingRequest.for_order(order([("1", "A", 6)], dest=DEST))
    v = replace(view([a, b], stock), weights={"A": 1.0})  # 6 kg → 40; 2 x 3 kg → 12
    d = source(req, v, _policy(rate_card=card), NOW)
    assert sorted(_chosen(d)) == ["A1", "B1"]
    assert d.solver == "highs-mip"
    assert d.plan.cost == pytest.approx(12.0 + 6 * 0.423)


def test_policy_document_reads_every_term() -> None:
    p = policy_from_document(
        "p",
        1,
        {
            "name": "p",
            "costs": {
                "split_penalty": 2,
                "promise_risk_penalty": 3,
                "transit_days": [{"max_km": 100, "days": 1}],
                "service_days": {"express": 3},
                "capacity_load": 4,
                "last_units_penalty": 5,
                "protect_last_units": 2,
                "protect_location_types": ["store", "dark_store"],
                "scarcity_weight": 0.5,
                "rate_card": {
                    "zone_max_km": [100],
                    "weight_max_kg": [1, 2],
                    "rates": {"standard": [[1, 2]]},
                },
            },
        },
    )
    c = p.costs
    assert (c.split_penalty, c.promise_risk_penalty, c.capacity_load) == (2, 3, 4)
    assert (c.last_units_penalty, c.protect_last_units, c.scarcity_weight) == (5, 2, 0.5)
    assert c.transit_days == ((100.0, 1),)
    assert c.service_days["express"] == 3
    assert c.protect_location_types == frozenset({"store", "dark_store"})
    assert c.rate_card is not None
    assert c.rate_card.price("express", 50, 1.5) == 2.0


# --- exactness with every term on, against brute force ---------------------------------


def _oracle(
    locs: list[Location],
    stock: dict[tuple[str, str], int],
    demand: dict[str, int],
    costs: Costs,
    max_shipments: int,
    tags: dict[str, frozenset[str]],
    weights: dict[str, float],
    shadow: dict[tuple[str, str], float],
) -> tuple[int, float]:
    """(most units, least cost) over every assignment of units to locations."""
    skus = sorted(demand)
    per_sku = []
    for sku in skus:
        ranges = [range(min(stock.get((loc.id, sku), 0), demand[sku]) + 1) for loc in locs]
        per_sku.append([x for x in itertools.product(*ranges) if sum(x) <= demand[sku]])
    best = (-1, 0.0)
    for combo in itertools.product(*per_sku):
        used = [i for i in range(len(locs)) if any(c[i] for c in combo)]
        if len(used) > max_shipments:
            continue
        units = sum(sum(c) for c in combo)
        cost = costs.split_penalty * max(len(used) - 1, 0)
        for i in used:
            loc = locs[i]
            km = great_circle_km(loc.lat, loc.lon, *DEST)
            taken = {sku: combo[k][i] for k, sku in enumerate(skus)}
            cost += loc.handling_cost + costs.handling_per_shipment.get(loc.type.value, 0.0)
            regular_kg = sum(
                weights[s] * n for s, n in taken.items() if "ship-alone" not in tags[s]
            )
            card = costs.rate_card
            if card is None:
                cost += costs.per_shipment
            elif regular_kg > 0:
                cost += card.price("standard", km, regular_kg)
            for sku, n in taken.items():
                if not n:
                    continue
                cost += (
                    n * costs.per_unit + costs.scarcity_weight * shadow.get((loc.id, sku), 0.0) * n
                )
                if card is None:
                    cost += n * costs.per_unit_km * km
                if "ship-alone" in tags[sku]:
                    cost += n * (
                        costs.per_shipment
                        if card is None
                        else card.price("standard", km, weights[sku])
                    )
                if loc.type.value in costs.protect_location_types:
                    spare = max(stock[(loc.id, sku)] - costs.protect_last_units, 0)
                    cost += max(n - spare, 0) * costs.last_units_penalty
        if (units, -cost) > (best[0], -best[1]):
            best = (units, cost)
    return best


@st.composite
def instances(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    n = draw(st.integers(2, 4))
    locs = [
        location(
            f"L{i}",
            draw(st.floats(46.0, 51.0)),
            draw(st.floats(0.0, 5.0)),
            type=draw(st.sampled_from(["dc", "store"])),
            handling=draw(st.sampled_from([0.0, 1.0, 2.5])),
        )
        for i in range(n)
    ]
    skus = ["A", "B", "C"][: draw(st.integers(1, 3))]
    demand = {s: draw(st.integers(1, 3)) for s in skus}
    stock = {(loc.id, s): draw(st.integers(0, 3)) for loc in locs for s in skus}
    tags = {
        s: frozenset({"ship-alone"}) if draw(st.booleans()) and s == "C" else frozenset()
        for s in skus
    }
    weights = {s: draw(st.sampled_from([0.5, 1.0, 3.0])) for s in skus}
    prices = st.sampled_from([0.0, 0.0, 0.7, 2.0])
    shadow = {(loc.id, s): draw(prices) for loc in locs for s in skus}
    costs = Costs(
        per_shipment=draw(st.sampled_from([1.0, 8.759])),
        per_unit_km=draw(st.sampled_from([0.000336, 0.01])),
        handling_per_shipment={"store": draw(st.sampled_from([0.0, 2.0]))},
        rate_card=draw(st.sampled_from([None, None, CARD])),
        split_penalty=draw(st.sampled_from([0.0, 3.0])),
        last_units_penalty=draw(st.sampled_from([0.0, 1.5])),
        protect_last_units=draw(st.integers(0, 2)),
    )
    max_shipments = draw(st.integers(1, 3))
    return locs, stock, demand, costs, max_shipments, tags, weights, shadow


@settings(max_examples=150, deadline=None)
@given(instances())
def test_plan_is_optimal_with_every_term_against_brute_force(case: tuple) -> None:  # type: ignore[type-arg]
    locs, stock, demand, costs, max_shipments, tags, weights, shadow = case
    policy = replace(
        DEFAULT_POLICY,
        costs=costs,
        constraints=replace(DEFAULT_POLICY.constraints, max_shipments=max_shipments),
    )
    o = order([(str(i), s, q) for i, (s, q) in enumerate(sorted(demand.items()))], dest=DEST)
    v = replace(view(locs, stock), product_tags=tags, weights=weights, shadow_prices=shadow)
    d = source(SourcingRequest.for_order(o), v, policy, NOW)
    units, cost = _oracle(locs, stock, demand, costs, max_shipments, tags, weights, shadow)
    assert d.plan.units == units
    if units:
        assert d.plan.cost == pytest.approx(cost, abs=1e-5)
        assert d.plan.cost == pytest.approx(sum(s.cost for s in d.plan.shipments), abs=1e-5)


# --- bounds and the MIP agree on networks too large for brute force ---------------------


@st.composite
def larger_instances(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    n = draw(st.integers(8, 30))
    locs = [
        location(
            f"L{i:02d}",
            draw(st.floats(44.0, 52.0)),
            draw(st.floats(-2.0, 7.0)),
            type=draw(st.sampled_from(["dc", "store", "store"])),
            handling=draw(st.sampled_from([0.0, 1.0])),
        )
        for i in range(n)
    ]
    skus = ["A", "B", "C", "D", "E"][: draw(st.integers(2, 5))]
    demand = {s: draw(st.integers(1, 4)) for s in skus}
    stock = {(loc.id, s): draw(st.sampled_from([0, 0, 0, 1, 2, 5])) for loc in locs for s in skus}
    costs = Costs(
        per_shipment=draw(st.sampled_from([0.5, 2.0, 8.759])),
        per_unit_km=draw(st.sampled_from([0.000336, 0.01, 0.05])),
        split_penalty=draw(st.sampled_from([0.0, 1.0])),
        last_units_penalty=draw(st.sampled_from([0.0, 0.8])),
        protect_last_units=1,
    )
    return locs, stock, demand, costs, draw(st.integers(2, 4))


@settings(max_examples=60, deadline=None)
@given(case=larger_instances(), force_mip=st.booleans())
def test_bounded_enumeration_and_the_mip_find_the_same_optimum(
    case: tuple,  # type: ignore[type-arg]
    force_mip: bool,
) -> None:
    limits = (0, 0) if force_mip else (search.MAX_FILLS, search.MAX_SETS)
    with patch.object(search, "MAX_FILLS", limits[0]), patch.object(search, "MAX_SETS", limits[1]):
        attempt = _attempt(*case)
    _assert_same_as_the_mip(attempt)


def _attempt(
    locs: list[Location],
    stock: dict[tuple[str, str], int],
    demand: dict[str, int],
    costs: Costs,
    max_shipments: int,
) -> Attempt:
    # A budget no instance here reaches: the tests are about exactness, not time.
    policy = replace(
        DEFAULT_POLICY,
        costs=costs,
        constraints=replace(
            DEFAULT_POLICY.constraints, max_shipments=max_shipments, time_budget_ms=60_000
        ),
    )
    o = order([(str(i), s, q) for i, (s, q) in enumerate(sorted(demand.items()))], dest=DEST)
    return evaluate(SourcingRequest.for_order(o), view(locs, stock), policy, NOW)


def _assert_same_as_the_mip(attempt: Attempt) -> None:
    """As many units, at the same cost, as the MIP proves optimal for the problem."""
    p = attempt.problem
    reference = mip.solve(p, tuple(range(len(p))), time_limit_s=60.0)
    assert reference.optimal
    expected = reference.plan.units if reference.plan else 0
    assert attempt.units == expected
    if expected:
        assert reference.plan is not None
        assert attempt.cost == pytest.approx(reference.plan.cost, abs=1e-5)


@st.composite
def uncoverable_instances(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    """Several SKUs each held by few locations and a small shipment budget: often no plan
    within the budget places every unit, so the most units must be found first."""
    n = draw(st.integers(6, 24))
    locs = [
        location(
            f"L{i:02d}",
            draw(st.floats(44.0, 52.0)),
            draw(st.floats(-2.0, 7.0)),
            type=draw(st.sampled_from(["dc", "store"])),
        )
        for i in range(n)
    ]
    skus = ["A", "B", "C", "D", "E"][: draw(st.integers(3, 5))]
    demand = {s: draw(st.integers(1, 2)) for s in skus}
    stock = {(loc.id, s): draw(st.sampled_from([0, 0, 0, 0, 1, 3])) for loc in locs for s in skus}
    costs = Costs(
        per_shipment=draw(st.sampled_from([0.5, 8.759])),
        per_unit_km=draw(st.sampled_from([0.000336, 0.05])),
        split_penalty=draw(st.sampled_from([0.0, 1.0])),
        last_units_penalty=draw(st.sampled_from([0.0, 0.8])),
        protect_last_units=1,
    )
    return locs, stock, demand, costs, draw(st.integers(1, 2))


@settings(max_examples=80, deadline=None)
@given(case=uncoverable_instances())
def test_most_units_within_the_budget_found_without_the_mip(case: tuple) -> None:  # type: ignore[type-arg]
    attempt = _attempt(*case)
    assert attempt.solver == "enumeration"
    _assert_same_as_the_mip(attempt)


def test_every_scored_candidate_shows_its_cost_parts() -> None:
    near, far = location("NEAR", 48.86, 2.36, type="store"), location("FAR", 45.0, 5.0)
    down = location("DOWN", 48.8, 2.3, status="paused")
    stock = {("NEAR", "A"): 1, ("FAR", "A"): 5, ("DOWN", "A"): 5}
    req = SourcingRequest.for_order(order([("1", "A", 1)], dest=DEST))
    policy = _policy(protect_last_units=1, last_units_penalty=50.0, split_penalty=2.0)
    d = source(req, view([near, far, down], stock), policy, NOW)
    by_id = {c.location_id: c for c in d.candidates}
    assert by_id["DOWN"].cost_parts is None  # excluded: never priced
    for loc_id in ("NEAR", "FAR"):
        c = by_id[loc_id]
        assert c.cost_parts is not None
        assert "split" not in c.cost_parts
        assert sum(c.cost_parts.values()) == pytest.approx(c.single_location_cost, abs=1e-5)
    assert by_id["NEAR"].cost_parts["last_units"] == 50.0  # type: ignore[index]
    assert (by_id["NEAR"].status, by_id["NEAR"].reason) == ("scored", "beaten")


def test_order_no_three_locations_cover_places_the_most_units_by_enumeration() -> None:
    # Three SKUs each held by one vendor only, two more at a DC: three shipments can
    # place four of the five units (the DC and two vendors), never all five.
    locs = [location("DC", 48.0, 2.0), *(location(f"V{i}", 47.0 + i, 3.0) for i in range(3))]
    stock = {("DC", "A"): 5, ("DC", "E"): 5, ("V0", "B"): 9, ("V1", "C"): 9, ("V2", "D"): 9}
    o = order([(str(i), s, 1) for i, s in enumerate("ABCDE")], dest=DEST)
    d = source(SourcingRequest.for_order(o), view(locs, stock), DEFAULT_POLICY, NOW)
    assert d.solver == "enumeration"
    assert d.plan.units == 4
    assert "DC" in _chosen(d)
    assert len(_chosen(d)) == 3
