"""Pick-up answers read from the screening columns equal the answers of the engine run
for every store and transfer, on random networks, stock, product tags and policies."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Address, Capability, Location, LocationStatus, LocationType
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.promise.pickup import pickup_facts, pickup_options
from ordergrid.domain.promise.quote import PROMISE_ORDER_ID, Cart, PromiseView, ship_options
from ordergrid.domain.promise.shortcuts import Screens, placed_at_store, transfer_cannot_fill
from ordergrid.domain.sourcing import Policy, SourcingRequest, SourcingView, source
from ordergrid.domain.sourcing.policy import (
    Constraints,
    Costs,
    Fallback,
    RateCard,
    Selector,
    Strategy,
)

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
DESTINATION = (40.75, -73.99)
SKUS = ("A", "B", "C", "D")
TAGS = ("not-from-store", "dropship-only", "plain")
CAPABILITIES = (Capability.SHIP, Capability.SAME_DAY, Capability.PICKUP, Capability.CURBSIDE)


@st.composite
def locations(draw: st.DrawFn, n: int) -> Location:
    kind = draw(st.sampled_from([LocationType.STORE, LocationType.DC, LocationType.DROPSHIP]))
    caps = draw(st.sets(st.sampled_from(list(CAPABILITIES))))
    return Location(
        id=f"L{n}",
        name=f"L{n}",
        type=kind,
        address=Address(
            lat=DESTINATION[0] + draw(st.floats(-0.3, 0.3)),
            lon=DESTINATION[1] + draw(st.floats(-0.3, 0.3)),
        ),
        capabilities=frozenset(
            caps | ({Capability.PICKUP} if kind is LocationType.STORE else set())
        ),
        status=draw(st.sampled_from([LocationStatus.ACTIVE] * 4 + [LocationStatus.PAUSED])),
        orders_per_day=draw(st.sampled_from([None, None, 1])),
        tags=frozenset(draw(st.sets(st.sampled_from(["fragile", "east"]), max_size=1))),
        channels=draw(st.sampled_from([frozenset(), frozenset(), frozenset({"app"})])),
    )


CARD = RateCard(
    zone_max_km=(20.0, 60.0),
    weight_max_kg=(5.0,),
    rates={
        "standard": ((4.0,), (6.0,)),
        "express": ((9.0,), (5.0,)),
        "next_day": ((3.0,), (14.0,)),
    },
)
COSTS = [
    Costs(),
    Costs(rate_card=CARD),
    Costs(promise_risk_penalty=50.0, service_days={"next_day": 0, "express": 2, "standard": 5}),
    Costs(per_unit_km=0.5),
]


def strategies() -> st.SearchStrategy[Strategy]:
    return st.builds(
        Strategy,
        name=st.sampled_from(["s1", "s2", "s3"]),
        when=st.sampled_from(
            [
                Selector(),
                Selector(delivery_methods=frozenset({"pickup"})),
                Selector(delivery_methods=frozenset({"curbside"})),
                Selector(service_levels=frozenset({"express"})),
                Selector(service_levels=frozenset({"next_day", "standard"})),
            ]
        ),
        constraints=st.sampled_from(
            [
                Constraints(),
                Constraints(location_types=frozenset({"store"})),
                Constraints(exclude_location_tags=frozenset({"fragile"})),
                Constraints(max_shipments=1),
            ]
        ),
        costs=st.sampled_from(COSTS),
    )


def policies() -> st.SearchStrategy[list[Policy]]:
    one = st.builds(
        Policy,
        id=st.sampled_from(["p1", "p2"]),
        version=st.just(1),
        name=st.just("random"),
        selector=st.sampled_from(
            [Selector(), Selector(service_levels=frozenset({"express", "next_day"}))]
        ),
        constraints=st.builds(Constraints, respect_capacity=st.booleans()),
        costs=st.sampled_from(COSTS),
        fallback=st.sampled_from(list(Fallback)),
        strategies=st.lists(strategies(), max_size=3).map(tuple),
    )
    return st.lists(one, min_size=1, max_size=2, unique_by=lambda p: p.id)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Cart, SourcingView, list[Policy]]:
    locs = {loc.id: loc for loc in (draw(locations(n)) for n in range(draw(st.integers(2, 7))))}
    # Dense stock, so that stores often hold a whole cart and the shortcut is taken.
    stock = {
        (loc, sku): draw(st.tuples(st.integers(0, 6), st.integers(0, 2), st.integers(0, 1)))
        for loc in sorted(locs)
        for sku in SKUS
    }
    positions = {k: Position(k[0], k[1], *v) for k, v in stock.items()}
    tags = {sku: frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=1))) for sku in SKUS}
    load = dict.fromkeys(draw(st.sets(st.sampled_from(sorted(locs)))), (1, 1))
    lines = draw(
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=3)
    )
    cart = Cart("web", tuple(lines), DESTINATION, "US", "10001", value=Decimal(10))
    return cart, SourcingView(locs, positions, tags, load), draw(policies())


@settings(max_examples=300, deadline=None)
@given(world=worlds())
def test_pickup_answers_from_the_columns_equal_the_engines(
    world: tuple[Cart, SourcingView, list[Policy]],
) -> None:
    cart, view, chosen = world
    fast = pickup_options(cart, PromiseView(view, chosen, shortcuts=True), NOW)
    engine = pickup_options(cart, PromiseView(view, chosen, shortcuts=False), NOW)
    assert fast == engine


@settings(max_examples=300, deadline=None)
@given(world=worlds(), method=st.sampled_from(["pickup", "curbside"]))
def test_units_placed_at_a_store_are_those_the_engine_places(
    world: tuple[Cart, SourcingView, list[Policy]], method: str
) -> None:
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
@given(world=worlds())
def test_ship_options_sharing_engine_runs_equal_the_engines(
    world: tuple[Cart, SourcingView, list[Policy]],
) -> None:
    cart, view, chosen = world
    fast = ship_options(cart, PromiseView(view, chosen, shortcuts=True), NOW)
    engine = ship_options(cart, PromiseView(view, chosen, shortcuts=False), NOW)
    assert fast == engine


def test_a_transfer_needs_the_units_outside_the_store() -> None:
    network = {"A": 5, "B": 2}
    assert transfer_cannot_fill({"B": 1}, network, {"B": 2})
    assert not transfer_cannot_fill({"B": 1}, network, {"B": 1})
    assert transfer_cannot_fill({"C": 1}, network, {})
