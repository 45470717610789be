"""Random worlds for promise tests: a few locations near the destination with stock of a
few SKUs, product tags, today's load, a cart and the active policies (strategies, costs,
fallbacks and promise rules drawn at random)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from hypothesis import strategies as st

from ordergrid.domain.calendar import LocationCalendar, weekly_hours, zone
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Address, Capability, Location, LocationStatus, LocationType
from ordergrid.domain.promise.quote import Cart
from ordergrid.domain.promise.rules import DEFAULT_PROMISE_RULES, promise_rules_from_document
from ordergrid.domain.sourcing import Policy, SourcingView
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
CALENDARS = (
    None,
    LocationCalendar(
        "America/New_York",
        weekly_hours({d: [(9 * 60, 18 * 60)] for d in ("mon", "tue", "wed", "thu", "fri")}),
        cutoffs={"express": time(12, 0), "default": time(16, 0)},
    ),
    LocationCalendar("America/Chicago", holidays=frozenset({NOW.date()})),
)

World = tuple[Cart, SourcingView, list[Policy]]


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
            country="US",
        ),
        capabilities=frozenset(
            caps | ({Capability.PICKUP} if kind is LocationType.STORE else set())
        ),
        status=draw(st.sampled_from([LocationStatus.ACTIVE] * 4 + [LocationStatus.PAUSED])),
        orders_per_day=draw(st.sampled_from([None, None, 1])),
        tags=frozenset(draw(st.sets(st.sampled_from(["fragile", "east"]), max_size=1))),
        channels=draw(st.sampled_from([frozenset(), frozenset(), frozenset({"app"})])),
        calendar=draw(st.sampled_from(CALENDARS)),
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
#: Promise rules: the defaults, short reaches with a holiday on the day after `NOW` and
#: long processing, and a policy that offers neither express nor curbside.
PROMISE_RULES = [
    DEFAULT_PROMISE_RULES,
    promise_rules_from_document(
        {
            "transit": {
                "standard": [{"max_km": 30, "min_days": 1, "max_days": 2}],
                "express": [{"max_km": 15, "min_days": 1, "max_days": 1}],
                "same_day": [{"max_km": 25, "min_days": 0, "max_days": 0}],
            },
            "processing_hours": {"store": 30, "dc": 2},
            "carrier_holidays": {"US": ["2026-03-05"]},
            "pickup_radius_km": 20,
            "pickup_locations": 2,
        }
    ),
    promise_rules_from_document(
        {"offer": ["standard", "next_day", "same_day", "pickup"], "pickup_transfers": False}
    ),
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


def policies(promise_rules: bool = False) -> st.SearchStrategy[list[Policy]]:
    """One or two policies; with `promise_rules`, their promise rules vary too."""
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
        promise=st.sampled_from(PROMISE_RULES if promise_rules else [DEFAULT_PROMISE_RULES]),
    )
    return st.lists(one, min_size=1, max_size=2, unique_by=lambda p: p.id)


@st.composite
def worlds(draw: st.DrawFn, promise_rules: bool = False) -> World:
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
    timezone = draw(st.sampled_from([None, zone("America/New_York"), zone("America/Denver")]))
    region = draw(st.sampled_from([None, "NY", "US-CA"]))
    cart = Cart(
        "web",
        tuple(lines),
        DESTINATION,
        "US",
        "10001",
        timezone=timezone,
        value=Decimal(10),
        region=region,
    )
    return cart, SourcingView(locs, positions, tags, load), draw(policies(promise_rules))
