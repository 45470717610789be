"""Pick-up answers read from the screening columns, and transfers searched from one
screen per quote, equal the answers of the engine run for every store and transfer, on
random networks, stock, product tags and policies."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.promise_worlds import NOW, World, worlds

from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.promise.pickup import pickup_facts, pickup_options, transfer_request
from ordergrid.domain.promise.quote import (
    PROMISE_ORDER_ID,
    PromiseView,
    quote_rules,
    ship_options,
)
from ordergrid.domain.promise.shortcuts import (
    Screens,
    TransferScreens,
    placed_at_store,
    transfer_cannot_fill,
    transfer_plan,
)
from ordergrid.domain.sourcing import Policy, SourcingRequest, source
from ordergrid.domain.sourcing.network_index import index_of
from ordergrid.domain.sourcing.policy import Constraints
from ordergrid.domain.sourcing.screening import serves_nowhere
from ordergrid.domain.sourcing.view import UnitsToPlace


@settings(max_examples=300, deadline=None)
@given(world=worlds(promise_rules=True))
def test_pickup_answers_from_the_columns_equal_the_engines(
    world: World,
) -> None:
    cart, view, chosen = world
    fast = pickup_options(cart, PromiseView(view, chosen, shortcuts=True), NOW)
    engine = pickup_options(cart, PromiseView(view, chosen, shortcuts=False), NOW)
    assert fast == engine


@settings(max_examples=300, deadline=None)
@given(world=worlds(), method=st.sampled_from(["pickup", "curbside"]))
def test_units_placed_at_a_store_are_those_the_engine_places(world: World, method: str) -> None:
    cart, view, chosen = world
    policy = chosen[-1]
    screens: Screens = {}  # shared by the stores, as in a quote
    for store in sorted(view.locations):
        req = SourcingRequest(
            PROMISE_ORDER_ID,
            cart.channel,
            DeliveryMethod(method),
            cart.units(),
            None,
            pickup_location_id=store,
            facts=pickup_facts(cart, method),
        )
        found = placed_at_store(req, view, policy, cart.demand(), screens)
        if found is None:
            continue  # left to the engine
        engine: dict[str, int] = {}
        for shipment in source(req, view, policy, NOW).plan.shipments:
            for a in shipment.allocations:
                engine[a.sku] = engine.get(a.sku, 0) + a.quantity
        assert found == engine


@settings(max_examples=300, deadline=None)
@given(
    world=worlds(promise_rules=True),
    excluded=st.booleans(),
    limit_km=st.sampled_from([None, 12.0, 25.0]),
)
def test_a_transfer_to_each_store_is_the_plan_the_engine_chooses(
    world: World, excluded: bool, limit_km: float | None
) -> None:
    cart, view, chosen = world
    # As a quote applies it (the distance limit tightened to where the service goes),
    # and with a tighter limit still: some stores then have no origin near enough.
    policy = quote_rules(chosen[-1], "standard")
    if limit_km is not None:
        policy = within(policy, limit_km)
    units = tuple(UnitsToPlace(sku, sku, n) for sku, n in sorted(cart.demand().items()))
    facts = cart.facts("ship", "standard")
    screens: TransferScreens = {}  # shared by the stores, as in a quote
    for store in sorted(view.locations):
        failed = frozenset(sorted(view.locations)[:1]) if excluded else frozenset()
        req = transfer_request(
            PROMISE_ORDER_ID, cart.channel, view.locations[store], units, failed, facts
        )
        found = transfer_plan(req, view, policy, NOW, screens)
        if found is None:
            continue  # left to the engine
        plan = source(req, view, policy, NOW).plan
        complete = plan.units == sum(u.quantity for u in units)
        shipments = tuple((s.location_id, s.distance_km) for s in plan.shipments)
        assert found.shipments == (shipments if complete else None)


def within(policy: Policy, km: float) -> Policy:
    """The policy with every set of constraints limited to `km`."""

    def limit(c: Constraints) -> Constraints:
        return replace(c, max_distance_km=km)

    strategies = tuple(replace(s, constraints=limit(s.constraints)) for s in policy.strategies)
    return replace(policy, constraints=limit(policy.constraints), strategies=strategies)


@settings(max_examples=300, deadline=None)
@given(world=worlds(promise_rules=True))
def test_ship_options_sharing_engine_runs_equal_the_engines(
    world: World,
) -> None:
    cart, view, chosen = world
    fast = ship_options(cart, PromiseView(view, chosen, shortcuts=True), NOW)
    engine = ship_options(cart, PromiseView(view, chosen, shortcuts=False), NOW)
    assert fast == engine


@settings(max_examples=300, deadline=None)
@given(world=worlds(promise_rules=True), method=st.sampled_from(["ship", "same_day"]))
def test_a_method_no_location_may_serve_is_one_the_engine_places_nothing_by(
    world: World, method: str
) -> None:
    cart, view, chosen = world
    for policy in chosen:
        rules = quote_rules(policy, None)
        how = DeliveryMethod(method)
        if not serves_nowhere(rules, index_of(view.locations), cart.channel, how):
            continue
        req = SourcingRequest(
            PROMISE_ORDER_ID,
            cart.channel,
            how,
            cart.units(),
            cart.destination,
            facts=cart.facts(method, "standard"),
        )
        assert source(req, view, rules, NOW).plan.units == 0


def test_a_transfer_needs_the_units_outside_the_store() -> None:
    network = {"A": 5, "B": 2}
    assert transfer_cannot_fill({"B": 1}, network, {"B": 2})
    assert not transfer_cannot_fill({"B": 1}, network, {"B": 1})
    assert transfer_cannot_fill({"C": 1}, network, {})
