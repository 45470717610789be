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
from ordergrid.domain.promise.shortcuts import placed_at_store, transfer_cannot_fill
from ordergrid.domain.sourcing import Policy, SourcingRequest, SourcingView, source
from ordergrid.domain.sourcing.policy import Constraints, Fallback, Selector, Strategy

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
DESTINATION = (40.75, -73.99)
SKUS = ("A", "B", "C", "D")
TAGS = ("not-from-store", "dropship-only", "plain")


@st.composite
def locations(draw: st.DrawFn, n: int) -> Location:
    kind = draw(st.sampled_from([LocationType.STORE, LocationType.DC, LocationType.DROPSHIP]))
    caps = draw(st.sets(st.sampled_from([Capability.SHIP, Capability.PICKUP, Capability.CURBSIDE])))
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


def policies() -> st.SearchStrategy[list[Policy]]:
    stores_first = Strategy(
        "stores-first", constraints=Constraints(location_types=frozenset({"store"}))
    )
    anywhere = Strategy("anywhere")
    no_fragile = Strategy(
        "no-fragile-for-pickup",
        when=Selector(delivery_methods=frozenset({"pickup"})),
        constraints=Constraints(exclude_location_tags=frozenset({"fragile"})),
    )
    only_curbside = Strategy(
        "curbside-only", when=Selector(delivery_methods=frozenset({"curbside"}))
    )
    strategies = st.lists(
        st.sampled_from([stores_first, anywhere, no_fragile, only_curbside]),
        max_size=3,
        unique=True,
    )
    return st.builds(
        lambda chosen, capacity, fallback: [
            Policy(
                "p",
                1,
                "random",
                strategies=tuple(chosen),
                constraints=Constraints(respect_capacity=capacity),
                fallback=fallback,
            )
        ],
        strategies,
        st.booleans(),
        st.sampled_from(list(Fallback)),
    )


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
    policy = chosen[0]
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
        found = placed_at_store(req, view, policy, cart.demand())
        if found is None:
            continue  # left to the engine
        engine: dict[str, int] = {}
        for shipment in source(req, view, policy, NOW).plan.shipments:
            for a in shipment.allocations:
                engine[a.sku] = engine.get(a.sku, 0) + a.quantity
        assert found == engine


@settings(max_examples=50, deadline=None)
@given(world=worlds())
def test_ship_options_do_not_depend_on_the_shortcuts(
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
