"""The sourcing benchmark's generators and MIP oracle (benchmarks/networks.py, oracle.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from benchmarks.networks import (
    DROPSHIP_ONLY,
    NOT_FROM_STORE,
    Network,
    Order,
    Spec,
    build_network,
    generate_orders,
)
from benchmarks.oracle import Instance, plan_cost, solve, violations
from benchmarks.sourcing_input import request_for, view_builders, view_of_positions

from ordergrid.domain.network import Address, Capability, Location, LocationStatus, LocationType
from ordergrid.domain.sourcing import DEFAULT_POLICY, Decision, source
from ordergrid.domain.sourcing.policy import Costs

TINY = Spec("T", dcs=3, stores=12, vendors=2, skus=60, dropship_share=0.2, not_from_store_share=0.1)
COSTS = Costs()
DESTINATION = (40.0, -75.0)
NOW = datetime(2025, 3, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
def tiny() -> Network:
    return build_network(TINY, seed=3)


def _loc(
    loc_id: str,
    kind: LocationType,
    lat: float,
    handling: float = 1.0,
    status: LocationStatus = LocationStatus.ACTIVE,
) -> Location:
    return Location(
        loc_id,
        loc_id,
        kind,
        Address(lat=lat, lon=DESTINATION[1]),
        frozenset({Capability.SHIP}),
        status,
        handling_cost=handling,
    )


def _instance(
    locations: list[Location], available: list[list[int]], demand: list[int], tags: list[str]
) -> Instance:
    return Instance(
        tuple(locations),
        tuple(f"S{i}" for i in range(len(demand))),
        tuple(frozenset({t}) if t else frozenset() for t in tags),
        tuple(demand),
        np.array(available, dtype=np.int64),
        DESTINATION,
    )


def _cost(loc: Location, units: int) -> float:
    km = abs(loc.lat - DESTINATION[0]) * 6371.0088 * np.pi / 180  # same meridian
    return (
        COSTS.per_shipment + loc.handling_cost + units * (COSTS.per_unit + COSTS.per_unit_km * km)
    )


def test_tiny_network_is_consistent(tiny: Network) -> None:
    types = [loc.type for loc in tiny.locations]
    assert types.count(LocationType.DC) == 3
    assert types.count(LocationType.STORE) == 12
    assert types.count(LocationType.DROPSHIP) == 2
    assert np.all(np.diff(tiny.start) >= 0)
    assert tiny.start[-1] == len(tiny.holder) == len(tiny.on_hand)
    for s in range(TINY.skus):
        holder, on_hand = tiny.stock(s)
        assert np.all(np.diff(holder) > 0)  # one position per location, ascending
        assert np.all(on_hand >= 0)
        kinds = {tiny.locations[j].type for j in holder.tolist()}
        if DROPSHIP_ONLY in tiny.tags[s]:
            assert kinds == {LocationType.DROPSHIP}
        else:
            assert LocationType.DROPSHIP not in kinds
    again = build_network(TINY, seed=3)
    assert np.array_equal(again.holder, tiny.holder)
    assert np.array_equal(again.on_hand, tiny.on_hand)


def test_orders_have_distinct_skus_and_sensible_sizes(tiny: Network) -> None:
    orders = generate_orders(tiny, 300, seed=5)
    assert all(1 <= o.lines <= 10 and len(set(o.skus)) == o.lines for o in orders)
    assert all(q in (1, 2, 3) for o in orders for q in o.quantities)
    assert 1.8 < np.mean([o.lines for o in orders]) < 2.7
    assert orders == generate_orders(tiny, 300, seed=5)


def test_oracle_finds_the_hand_made_optimum() -> None:
    near = _loc("ST-NEAR", LocationType.STORE, 40.01, handling=3.0)
    closed = _loc("ST-PAUSED", LocationType.STORE, 40.0, status=LocationStatus.PAUSED)
    dc = _loc("DC-FAR", LocationType.DC, 45.0)
    vendor = _loc("DS-MID", LocationType.DROPSHIP, 42.0, handling=5.0)
    # S0 x2 (any), S1 x1 (not from a store), S2 x1 (dropship only). The paused store has
    # everything and the DC stocks S2 against its rule, so every full plan uses the
    # vendor for S2; S1 from the DC or the vendor, S0 from the DC or the near store.
    inst = _instance(
        [near, closed, dc, vendor],
        [[2, 1, 0], [2, 1, 1], [5, 5, 5], [0, 1, 1]],
        [2, 1, 1],
        ["", NOT_FROM_STORE, DROPSHIP_ONLY],
    )
    full_plans = {
        "DC S0 S1, vendor S2": _cost(dc, 3) + _cost(vendor, 1),
        "DC S0, vendor S1 S2": _cost(dc, 2) + _cost(vendor, 2),
        "store S0, DC S1, vendor S2": _cost(near, 2) + _cost(dc, 1) + _cost(vendor, 1),
        "store S0, vendor S1 S2": _cost(near, 2) + _cost(vendor, 2),
    }
    assert min(full_plans, key=full_plans.__getitem__) == "DC S0, vendor S1 S2"
    solution = solve(inst, COSTS, max_shipments=3)
    assert solution.units == 4
    assert solution.shipments == {"DC-FAR": {"S0": 2}, "DS-MID": {"S1": 1, "S2": 1}}
    assert solution.cost == pytest.approx(full_plans["DC S0, vendor S1 S2"], rel=1e-9)
    assert solution.cost == pytest.approx(plan_cost(inst, solution.shipments, COSTS), rel=1e-12)
    assert violations(inst, solution.shipments, 3) == []
    assert violations(inst, {"ST-PAUSED": {"S0": 2}, "DC-FAR": {"S2": 1}}, 3) == [
        "2 x S0 from ST-PAUSED: only 0 allowed",
        "1 x S2 from DC-FAR: only 0 allowed",
    ]


def test_oracle_places_most_units_before_cost() -> None:
    near = _loc("ST-NEAR", LocationType.STORE, 40.0)
    far = _loc("DC-FAR", LocationType.DC, 47.0)
    inst = _instance([near, far], [[1, 0], [2, 0]], [2, 1], ["", ""])
    one = solve(inst, COSTS, max_shipments=1)
    assert (one.units, one.shipments) == (2, {"DC-FAR": {"S0": 2}})
    assert one.cost == pytest.approx(_cost(far, 2))
    two = solve(inst, COSTS, max_shipments=2)
    assert two.units == 2
    assert two.cost == pytest.approx(min(_cost(far, 2), _cost(near, 1) + _cost(far, 1)))


def _oracle_instance(net: Network, order: Order) -> Instance:
    return Instance.of_stock(
        net.locations,
        [net.stock(s) for s in order.skus],
        [net.skus[s] for s in order.skus],
        [net.tags[s] for s in order.skus],
        order.quantities,
        (order.lat, order.lon),
    )


def _plan(decision: Decision) -> dict[str, dict[str, int]]:
    plan: dict[str, dict[str, int]] = {}
    for shipment in decision.plan.shipments:
        for a in shipment.allocations:
            units = plan.setdefault(shipment.location_id, {})
            units[a.sku] = units.get(a.sku, 0) + a.quantity
    return plan


def test_engine_plans_match_the_oracle_on_generated_orders(tiny: Network) -> None:
    limit = DEFAULT_POLICY.constraints.max_shipments
    for order in generate_orders(tiny, 25, seed=11):
        decision = source(
            request_for(tiny, order), view_of_positions(tiny, order), DEFAULT_POLICY, NOW
        )
        inst = _oracle_instance(tiny, order)
        best = solve(inst, DEFAULT_POLICY.costs, limit)
        plan = _plan(decision)
        assert violations(inst, plan, limit) == [], order
        assert decision.plan.units == best.units, order
        assert plan_cost(inst, plan, DEFAULT_POLICY.costs) == pytest.approx(best.cost, rel=1e-6)


def test_every_way_to_build_the_view_gives_the_same_plan(tiny: Network) -> None:
    for order in generate_orders(tiny, 25, seed=12):
        req = request_for(tiny, order)
        plans = {
            name: _plan(source(req, build(tiny, order), DEFAULT_POLICY, NOW))
            for name, build in view_builders().items()
        }
        assert len({repr(sorted(p.items())) for p in plans.values()}) == 1, (order, plans)
