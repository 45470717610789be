"""Shadow prices of stock: the transportation LP over expected demand (Acimovic & Graves)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from tests.unit.factories import NOW, location, position

from ordergrid.domain.geo import great_circle_km
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.sourcing import DEFAULT_POLICY, source
from ordergrid.domain.sourcing.policy import Costs
from ordergrid.domain.sourcing.shadow import (
    DemandObservation,
    ExpectedOrder,
    RegionDemand,
    expected_demand,
    expected_orders,
    observations_of,
    order_shadow_prices,
    shadow_prices,
)
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView, UnitsToPlace

# Two locations on the equator, ten degrees apart (~1,112 km), each with a region on it.
NEAR = location("NEAR", 0.0, 0.0)
FAR = location("FAR", 0.0, 10.0)
GAP_KM = great_circle_km(0.0, 0.0, 0.0, 10.0)
COSTS = Costs(per_shipment=0.0, per_unit=1.0, per_unit_km=0.001)
UNFILLED = 50.0


def prices(supply: dict[tuple[str, str], int], demand: list[RegionDemand]) -> dict:
    return shadow_prices([NEAR, FAR], supply, demand, COSTS, UNFILLED, units_per_shipment=None)


def both_regions(sku: str = "S", west: float = 5.0, east: float = 5.0) -> list[RegionDemand]:
    return [RegionDemand(0.0, 0.0, sku, west), RegionDemand(0.0, 10.0, sku, east)]


def test_scarce_close_location_is_worth_the_detour_and_abundant_one_nothing() -> None:
    # NEAR holds exactly what its region expects; FAR has plenty. A unit taken from NEAR
    # now is later shipped from FAR instead: it costs the extra distance, 0.001 x km.
    result = prices({("NEAR", "S"): 5, ("FAR", "S"): 100}, both_regions())
    assert result == {("NEAR", "S"): pytest.approx(0.001 * GAP_KM, abs=1e-4)}


def test_price_is_the_value_of_the_last_unit_even_when_the_lp_is_degenerate() -> None:
    # Supply exactly equal to demand: a vertex dual may say 0 for NEAR (one more unit
    # would not help); the price is what one unit less costs, as when NEAR is short.
    supply = {("NEAR", "S"): 5, ("FAR", "S"): 100}
    exact = prices(supply, both_regions(west=5.0))
    short = prices(supply, both_regions(west=5.5))
    assert exact == short == {("NEAR", "S"): pytest.approx(0.001 * GAP_KM, abs=1e-4)}


def test_when_every_unit_is_needed_the_price_is_the_unfilled_cost_saved() -> None:
    result = prices({("NEAR", "S"): 3, ("FAR", "S"): 3}, both_regions())
    # One unit less anywhere leaves a unit unfilled (50) instead of shipping it nearby (1).
    assert result == {
        ("NEAR", "S"): pytest.approx(UNFILLED - 1.0),
        ("FAR", "S"): pytest.approx(UNFILLED - 1.0),
    }


def test_a_unit_shipped_far_is_worth_less_than_one_kept_for_its_own_region() -> None:
    # NEAR's sixth unit goes east (1 + 0.001 x km); losing it leaves that east unit unfilled.
    result = prices({("NEAR", "S"): 6, ("FAR", "S"): 3}, both_regions())
    assert result[("NEAR", "S")] == pytest.approx(UNFILLED - 1.0 - 0.001 * GAP_KM, abs=1e-4)
    assert result[("FAR", "S")] == pytest.approx(UNFILLED - 1.0)


def test_region_unfilled_cost_overrides_the_default() -> None:
    demand = [RegionDemand(0.0, 0.0, "S", 5.0, unfilled_unit_cost=4.0)]
    result = prices({("NEAR", "S"): 2}, demand)
    assert result == {("NEAR", "S"): pytest.approx(3.0)}


def test_skus_are_priced_independently() -> None:
    supply = {("NEAR", "A"): 5, ("FAR", "A"): 100, ("NEAR", "B"): 100, ("FAR", "B"): 5}
    together = prices(supply, both_regions("A") + both_regions("B"))
    alone_a = prices({k: v for k, v in supply.items() if k[1] == "A"}, both_regions("A"))
    alone_b = prices({k: v for k, v in supply.items() if k[1] == "B"}, both_regions("B"))
    assert together == {**alone_a, **alone_b}
    assert set(together) == {("NEAR", "A"), ("FAR", "B")}


def test_same_inputs_same_prices() -> None:
    supply = {("NEAR", "S"): 4, ("FAR", "S"): 7, ("NEAR", "T"): 2, ("FAR", "T"): 9}
    demand = both_regions("S", 4.3, 6.1) + both_regions("T", 3.2, 2.9)
    first = prices(supply, demand)
    assert all(prices(dict(reversed(supply.items())), demand) == first for _ in range(5))


def test_no_demand_no_prices() -> None:
    assert prices({("NEAR", "S"): 5, ("FAR", "S"): 5}, []) == {}
    assert prices({("NEAR", "S"): 5}, [RegionDemand(0.0, 0.0, "S", 0.0)]) == {}


def test_no_supply_no_prices() -> None:
    assert prices({}, both_regions()) == {}


def test_paused_locations_and_those_that_cannot_ship_take_no_part() -> None:
    paused = location("NEAR", 0.0, 0.0, status="paused")
    pickup_only = location("FAR", 0.0, 10.0, caps=("pickup",))
    supply = {("NEAR", "S"): 5, ("FAR", "S"): 5}
    assert shadow_prices([paused, pickup_only], supply, both_regions(), COSTS, UNFILLED) == {}


def test_shipment_share_lowers_the_value_of_a_saved_sale() -> None:
    costs = Costs(per_shipment=8.0, per_unit=1.0, per_unit_km=0.0)
    supply = {("NEAR", "S"): 3, ("FAR", "S"): 3}
    shared = shadow_prices(
        [NEAR, FAR], supply, both_regions(), costs, UNFILLED, units_per_shipment=4
    )
    assert shared[("NEAR", "S")] == pytest.approx(UNFILLED - 1.0 - 8.0 / 4)


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        prices({("NEAR", "S"): 1}, [RegionDemand(0.0, 0.0, "S", -1.0)])
    with pytest.raises(ValueError, match="unfilled"):
        shadow_prices([NEAR], {}, [], COSTS, -1.0)


# ----------------------------------------------------------------- expected demand


def test_expected_demand_scales_the_observed_rate_to_the_horizon() -> None:
    seen = [
        DemandObservation(48.85, 2.35, "S", 2),
        DemandObservation(48.86, 2.34, "S", 1),
        DemandObservation(45.76, 4.84, "S", 4),
        DemandObservation(45.76, 4.84, "T", 1),
    ]
    paris, lyon = (48.8566, 2.3522), (45.7640, 4.8357)
    demand = expected_demand(seen, timedelta(days=2), timedelta(days=10), regions=[paris, lyon])
    assert demand == [
        RegionDemand(*lyon, "S", 20.0),
        RegionDemand(*paris, "S", 15.0),
        RegionDemand(*lyon, "T", 5.0),
    ]


def test_expected_demand_on_a_grid_uses_cell_centres() -> None:
    seen = [DemandObservation(48.85, 2.35, "S", 3), DemandObservation(48.2, 2.9, "S", 1)]
    demand = expected_demand(seen, timedelta(hours=1), timedelta(hours=1), grid_degrees=1.0)
    assert demand == [RegionDemand(48.5, 2.5, "S", 4.0)]


def test_expected_demand_refuses_an_empty_span() -> None:
    with pytest.raises(ValueError, match="observed_span"):
        expected_demand([], timedelta(0), timedelta(days=1))


# -------------------------------------------------- expected orders, whole plans


def order_prices(
    supply: dict[tuple[str, str], int],
    orders: list[ExpectedOrder],
    costs: Costs = COSTS,
    **options: int,
) -> dict:
    return order_shadow_prices([NEAR, FAR], supply, orders, costs, UNFILLED, **options)


def west(lines: tuple[tuple[str, int], ...], count: float) -> ExpectedOrder:
    return ExpectedOrder(0.0, 0.0, lines, count)


def test_order_model_prices_a_single_item_like_the_transportation_lp() -> None:
    # 5.5 orders expected, 5 units near: the marginal half order comes from FAR.
    supply = {("NEAR", "S"): 5, ("FAR", "S"): 100}
    result = order_prices(supply, [west((("S", 1),), 5.5)])
    assert result == {("NEAR", "S"): pytest.approx(0.001 * GAP_KM, abs=1e-4)}
    assert prices(supply, [RegionDemand(0.0, 0.0, "S", 5.5)]) == result


def test_order_model_sees_what_the_rest_of_the_order_pays() -> None:
    # Orders of A and B near NEAR, which is short of A only. Without that unit of A an
    # order either splits (a parcel of 0.5 plus A's detour) or comes whole from FAR
    # (both units' detour): the unit model sees only A's own detour.
    costs = Costs(per_shipment=0.5, per_unit=1.0, per_unit_km=0.001)
    detour = 0.001 * GAP_KM
    supply = {("NEAR", "A"): 5, ("NEAR", "B"): 100, ("FAR", "A"): 100, ("FAR", "B"): 100}
    result = order_prices(supply, [west((("A", 1), ("B", 1)), 6.0)], costs)
    assert result == {("NEAR", "A"): pytest.approx(min(0.5 + detour, 2 * detour), abs=1e-4)}
    by_unit = shadow_prices(
        [NEAR, FAR],
        supply,
        [RegionDemand(0.0, 0.0, "A", 6.0), RegionDemand(0.0, 0.0, "B", 6.0)],
        costs,
        UNFILLED,
    )
    assert by_unit == {("NEAR", "A"): pytest.approx(detour, abs=1e-4)}


def test_order_model_caps_the_price_at_the_unfilled_cost_saved() -> None:
    result = order_prices({("NEAR", "S"): 2}, [west((("S", 1),), 3.0)])
    assert result == {("NEAR", "S"): pytest.approx(UNFILLED - 1.0)}


def test_order_model_respects_max_shipments() -> None:
    # NEAR has A, FAR has B: with one shipment per order, an order can only take one.
    supply = {("NEAR", "A"): 1, ("FAR", "B"): 1}
    one = order_prices(supply, [west((("A", 1), ("B", 1)), 1.0)], max_shipments=1)
    two = order_prices(supply, [west((("A", 1), ("B", 1)), 1.0)])
    assert len(one) == 1
    assert set(two) == {("NEAR", "A"), ("FAR", "B")}


def test_order_model_is_deterministic_and_empty_without_demand() -> None:
    supply = {("NEAR", "A"): 3, ("FAR", "A"): 4, ("NEAR", "B"): 2, ("FAR", "B"): 9}
    orders = [
        west((("A", 2), ("B", 1)), 2.5),
        ExpectedOrder(0.0, 10.0, (("A", 1),), 3.2),
        ExpectedOrder(0.0, 9.0, (("B", 3),), 1.7),
    ]
    first = order_prices(supply, orders)
    assert first
    assert all(order_prices(supply, orders) == first for _ in range(5))
    assert order_prices(supply, []) == {}
    assert order_prices({}, orders) == {}


def test_expected_orders_merge_equal_orders_and_scale_to_the_horizon() -> None:
    def req(order_id: str, dest: tuple[float, float] | None, *lines: tuple[str, int]):
        return SourcingRequest(
            order_id,
            "web",
            DeliveryMethod.SHIP,
            tuple(UnitsToPlace(str(i), sku, q) for i, (sku, q) in enumerate(lines)),
            dest,
        )

    recent = [
        req("1", (1.0, 2.0), ("A", 1), ("B", 2)),
        req("2", (1.0, 2.0), ("B", 2), ("A", 1)),
        req("3", (3.0, 4.0), ("A", 1), ("A", 1)),
        req("4", None, ("A", 5)),  # a pick-up draws on its store, not on shipping stock
    ]
    got = expected_orders(recent, timedelta(hours=2), timedelta(hours=5))
    assert got == [
        ExpectedOrder(1.0, 2.0, (("A", 1), ("B", 2)), 5.0),
        ExpectedOrder(3.0, 4.0, (("A", 2),), 2.5),
    ]


def test_order_model_uses_only_the_cheapest_candidates() -> None:
    # With one candidate per order, FAR cannot stand in for NEAR: a unit short there is
    # a unit unfilled.
    supply = {("NEAR", "S"): 5, ("FAR", "S"): 100}
    result = order_prices(supply, [west((("S", 1),), 5.5)], max_locations=1)
    assert result == {("NEAR", "S"): pytest.approx(UNFILLED - 1.0)}


def test_observations_leave_pickups_out() -> None:
    shipped = SourcingRequest(
        "1", "web", DeliveryMethod.SHIP, (UnitsToPlace("1", "A", 2),), (1.0, 2.0)
    )
    pickup = SourcingRequest(
        "2", "web", DeliveryMethod.PICKUP, (UnitsToPlace("1", "A", 1),), None, "STORE"
    )
    assert observations_of([shipped, pickup]) == [DemandObservation(1.0, 2.0, "A", 2)]


def test_engine_keeps_a_scarce_unit_for_the_customers_it_serves_best() -> None:
    # NEAR's last units are expected by its own customers; an order from between the two
    # sites, a little nearer to NEAR, is sent to FAR once the prices say so.
    costs = Costs(per_shipment=5.0, per_unit=1.0, per_unit_km=0.001)
    supply = {("NEAR", "S"): 3, ("FAR", "S"): 100}
    priced = order_shadow_prices([NEAR, FAR], supply, [west((("S", 1),), 3.5)], costs, UNFILLED)
    policy = replace(DEFAULT_POLICY, costs=costs)
    order = SourcingRequest(
        "O", "web", DeliveryMethod.SHIP, (UnitsToPlace("1", "S", 1),), (0.0, 4.5)
    )
    stock = {key: position(key[0], key[1], units) for key, units in supply.items()}
    locations = {"NEAR": NEAR, "FAR": FAR}
    myopic = source(order, SourcingView(locations, stock), policy, NOW)
    aware = source(order, SourcingView(locations, stock, shadow_prices=priced), policy, NOW)
    assert [s.location_id for s in myopic.plan.shipments] == ["NEAR"]
    assert [s.location_id for s in aware.plan.shipments] == ["FAR"]
