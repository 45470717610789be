"""Pick-up and curbside options: stores near the destination that can hand over the whole
cart now (ready after the preparation time, in opening hours), or once a transfer from
elsewhere in the network has arrived.

Both are decided by the sourcing engine: "now" is the cart sourced as a pick-up order at
that store (the same screening an order collected there gets), "after transfer" is the
missing units sourced as a shipment to the store under the ship policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from ordergrid.domain.calendar import ClosedForGood
from ordergrid.domain.network import Capability, Location
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.promise.carrier_calendar import DeliveryArea
from ordergrid.domain.promise.dates import ShipmentDates, calendar_of, shipment_dates
from ordergrid.domain.promise.quote import DELIVERY_METHODS, PROMISE_ORDER_ID, Cart, PromiseView
from ordergrid.domain.promise.rules import PromiseRules
from ordergrid.domain.promise.shortcuts import (
    placed_at_store,
    transfer_cannot_fill,
    transfer_plan,
)
from ordergrid.domain.sourcing import (
    OrderFacts,
    Policy,
    SourcingRequest,
    SourcingView,
    select_policy,
    source,
)
from ordergrid.domain.sourcing.decision import Plan
from ordergrid.domain.sourcing.network_index import (
    FloatArray,
    IntArray,
    NetworkIndex,
    half_chord_within,
    index_of,
    km_of_half_chords,
    where,
)
from ordergrid.domain.sourcing.view import UnitsToPlace

NOW = "now"
AFTER_TRANSFER = "after_transfer"
CAPABILITY = {"pickup": Capability.PICKUP, "curbside": Capability.CURBSIDE}


@dataclass(frozen=True, slots=True)
class PickupOption:
    location_id: str
    name: str
    method: str  # pickup | curbside
    distance_km: float
    available: bool
    policy_id: str
    ready_by: datetime | None = None
    mode: str | None = None  # now | after_transfer
    transfer_from: tuple[str, ...] = ()
    reason: str | None = None
    detail: str | None = None

    def ready_in(self, now: datetime) -> timedelta | None:
        return None if self.ready_by is None else self.ready_by - now


def pickup_facts(cart: Cart, method: str) -> OrderFacts:
    """What selectors see of a collected order: no delivery address."""
    return cart.facts(method, "standard", destination=False)


def _collects(capability: Capability | None, channel: str) -> Callable[[Location], bool]:
    """Usable, serving the channel, and collecting by `capability` (None: by either)."""
    wanted = frozenset(CAPABILITY.values()) if capability is None else {capability}

    def test(loc: Location) -> bool:
        return (
            loc.usable
            and not wanted.isdisjoint(loc.capabilities)
            and (not loc.channels or channel in loc.channels)
        )

    return test


@dataclass(frozen=True, slots=True, eq=False)
class StoresNear:
    """How far the destination is from every location where the cart could be
    collected (either method), as half-chords (`NetworkIndex.half_chords`): measured
    once for pick-up and curbside, and turned into km only for those within a radius."""

    index: NetworkIndex
    channel: str
    rows: IntArray
    half_chords: FloatArray

    def within(self, capability: Capability, radius_km: float) -> list[tuple[float, Location]]:
        """Usable locations with the capability that serve the channel, within the
        radius, nearest first (then by id)."""
        test = _collects(capability, self.channel)
        fits = self.index.mask(("collects", capability, self.channel), test).take(self.rows)
        close = where(fits & (self.half_chords <= half_chord_within(radius_km)))
        km = km_of_half_chords(self.half_chords.take(close))
        locations = self.index.locations
        found = [
            (d, locations[j])
            for j, d in zip(self.rows.take(close).tolist(), km.tolist(), strict=True)
            if d <= radius_km
        ]
        return sorted(found, key=lambda pair: (pair[0], pair[1].id))


def stores_near(locations: Mapping[str, Location], cart: Cart) -> StoresNear:
    """Every location where the cart could be collected, and how far the destination is."""
    index = index_of(locations)
    rows = where(index.mask(("collects", None, cart.channel), _collects(None, cart.channel)))
    return StoresNear(index, cart.channel, rows, index.half_chords(rows, cart.destination))


def ready_now(store: Location, method: str, now: datetime, rules: PromiseRules) -> datetime:
    """When the store has the cart ready: preparation in opening hours, begun now or at
    the next opening when the order missed the store's cut-off for the method."""
    cal = calendar_of(store)
    return cal.work(cal.start_of_work(now, method, None), rules.ready(method))


def ready_after_arrival(
    store: Location, arrival: datetime, method: str, rules: PromiseRules
) -> datetime:
    """When the store has the cart ready after a transfer arriving on `arrival`'s day:
    received at the day's opening, then prepared in opening hours."""
    cal = calendar_of(store)
    day_start = datetime.combine(cal.local(arrival).date(), time(0), cal.tz)
    return cal.work(day_start, rules.ready(method))


@dataclass(frozen=True, slots=True)
class Collection:
    """A cart collected by one method: what selectors see of it and the pick-up policy
    they select (the same at every store of a quote)."""

    method: str
    facts: OrderFacts
    policy: Policy

    @classmethod
    def of(cls, cart: Cart, method: str, view: PromiseView) -> Collection:
        facts = pickup_facts(cart, method)
        return cls(method, facts, select_policy(view.policies, facts))


def _at_store(
    cart: Cart, store: Location, how: Collection, view: PromiseView, now: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """What the store cannot hand over now and what it can (SKU → units), under the
    pick-up policy."""
    req = SourcingRequest(
        order_id=PROMISE_ORDER_ID,
        channel=cart.channel,
        method=DELIVERY_METHODS[how.method],
        lines=cart.units(),
        destination=None,
        pickup_location_id=store.id,
        facts=how.facts,
    )
    rules, columns = view.rules(how.policy, None), view.for_skus(req.skus)
    demand = cart.demand()
    found = None
    if view.shortcuts:
        found = placed_at_store(req, columns, rules, demand, view.pickup_screens)
    placed = _placed(req, columns, rules, now) if found is None else found
    missing = {sku: q - placed.get(sku, 0) for sku, q in demand.items()}
    return {sku: n for sku, n in missing.items() if n > 0}, placed


def _placed(
    req: SourcingRequest, view: SourcingView, policy: Policy, now: datetime
) -> dict[str, int]:
    """The units of each SKU the engine places for the request."""
    placed: dict[str, int] = {}
    for s in source(req, view, policy, now).plan.shipments:
        for a in s.allocations:
            placed[a.sku] = placed.get(a.sku, 0) + a.quantity
    return placed


def _refused(cart: Cart, store: Location, placed: dict[str, int], view: PromiseView) -> bool:
    """Whether the engine left stock the store may give unplaced: the store itself is
    excluded for this cart (paused, capacity, product rules), so no transfer helps."""
    holds = view.stock().at(store.id)
    return any(placed.get(sku, 0) < min(q, holds.get(sku, 0)) for sku, q in cart.demand().items())


Transfer = tuple[datetime, tuple[str, ...]] | None


def _transfer(
    cart: Cart, store: Location, missing: dict[str, int], view: PromiseView, now: datetime
) -> Transfer:
    """When the missing units can be at the store (latest arrival of the plan that ships
    them there) and from where; None when the network cannot send them all."""
    if not view.shortcuts:
        return _sourced_transfer(cart, store, missing, view, now)
    stock = view.stock()
    if transfer_cannot_fill(missing, stock.network_available(), stock.at(store.id)):
        return None
    key = (store.id, tuple(sorted(missing.items())))
    if key not in view.transfers:
        view.transfers[key] = _sourced_transfer(cart, store, missing, view, now)
    return view.transfers[key]


def transfer_request(
    order_id: str,
    channel: str,
    store: Location,
    units: tuple[UnitsToPlace, ...],
    excluded: frozenset[str],
    facts: OrderFacts,
) -> SourcingRequest:
    """The units a pick-up store lacks, sourced as a shipment to the store from anywhere
    else the ship policy allows (the promise's `after_transfer` and a pick-up order's
    transfer are the same request)."""
    return SourcingRequest(
        order_id=order_id,
        channel=channel,
        method=DeliveryMethod.SHIP,
        lines=units,
        destination=(store.lat, store.lon),
        excluded_locations=excluded | {store.id},
        facts=facts,
    )


#: How a shipment's dates are found: `shipment_dates`, or a quote's memo of it.
DatesOf = Callable[
    [Location, float, str, datetime, PromiseRules, tzinfo | None, DeliveryArea],
    ShipmentDates | None,
]


def origins(plan: Plan) -> tuple[tuple[str, float | None], ...]:
    """A transfer plan's shipments as (origin, km), what their arrivals depend on."""
    return tuple((s.location_id, s.distance_km) for s in plan.shipments)


def transfer_arrivals(
    shipments: Iterable[tuple[str, float | None]],
    locations: Mapping[str, Location],
    store: Location,
    service: str,
    now: datetime,
    rules: PromiseRules,
    dates_of: DatesOf = shipment_dates,
) -> dict[str, datetime] | None:
    """When each shipment of a transfer (origin, km) arrives at the store at the latest
    (by origin); None when an origin has no working day ahead."""
    area = DeliveryArea.of(store.address.country, store.address.region)
    tz = calendar_of(store).tz
    arrivals = {}
    for origin, km in shipments:
        dates = dates_of(locations[origin], km or 0.0, service, now, rules, tz, area)
        if dates is None:
            return None
        arrivals[origin] = dates.latest
    return arrivals


def _sourced_transfer(
    cart: Cart, store: Location, missing: dict[str, int], view: PromiseView, now: datetime
) -> Transfer:
    at = (store.lat, store.lon)
    policy = select_policy(view.policies, cart.facts("ship", "standard", at=at))
    rules = policy.promise
    service = rules.transfer_service
    units = tuple(UnitsToPlace(sku, sku, n) for sku, n in sorted(missing.items()))
    facts = cart.facts("ship", service, at=at)
    req = transfer_request(PROMISE_ORDER_ID, cart.channel, store, units, frozenset(), facts)
    columns, quoted = view.for_skus(req.skus), view.rules(policy, service)
    found = None
    if view.shortcuts:
        found = transfer_plan(req, columns, quoted, now, view.transfer_screens)
    if found is None:
        plan = source(req, columns, quoted, now).plan
        if plan.units < sum(missing.values()):
            return None
        shipments = origins(plan)
    elif found.shipments is None:
        return None
    else:
        shipments = found.shipments
    locations = view.sourcing.locations
    arrivals = transfer_arrivals(shipments, locations, store, service, now, rules, view.dates)
    if arrivals is None:
        return None
    return max(arrivals.values()), tuple(origin for origin, _ in shipments)


def pickup_option(
    cart: Cart, store: Location, km: float, how: Collection, view: PromiseView, now: datetime
) -> PickupOption:
    """The store's answer for the cart: ready now, after a transfer, or not at all."""
    try:
        return _answer(cart, store, km, how, view, now)
    except ClosedForGood:
        return PickupOption(
            store.id,
            store.name,
            how.method,
            round(km, 1),
            False,
            how.policy.id,
            reason="no_opening_hours",
            detail="the store has no working day ahead",
        )


def _answer(
    cart: Cart, store: Location, km: float, how: Collection, view: PromiseView, now: datetime
) -> PickupOption:
    method, rules = how.method, how.policy.promise

    def option(available: bool, **answer: Any) -> PickupOption:
        return PickupOption(
            store.id, store.name, method, round(km, 1), available, how.policy.id, **answer
        )

    missing, placed = _at_store(cart, store, how, view, now)
    if not missing:
        return option(True, ready_by=ready_now(store, method, now, rules), mode=NOW)
    if _refused(cart, store, placed, view):
        return option(
            False,
            reason="location_cannot_serve",
            detail="the routing policy does not let this store hand over the cart",
        )
    if not rules.pickup_transfers:
        short = ", ".join(f"{sku} short by {n}" for sku, n in sorted(missing.items()))
        return option(
            False,
            reason="insufficient_stock",
            detail=f"the store lacks {short} and the policy sends no transfers for pick-up",
        )
    moved = _transfer(cart, store, missing, view, now)
    if moved is None:
        short = ", ".join(f"{sku} short by {n}" for sku, n in sorted(missing.items()))
        return option(
            False,
            reason="insufficient_stock",
            detail=f"neither the store nor a transfer can supply: {short}",
        )
    arrival, sources = moved
    return option(
        True,
        ready_by=ready_after_arrival(store, arrival, method, rules),
        mode=AFTER_TRANSFER,
        transfer_from=sources,
    )


def pickup_options(cart: Cart, view: PromiseView, now: datetime) -> list[PickupOption]:
    """Pick-up then curbside answers of the nearest stores the pick-up policy allows."""
    reach: StoresNear | None = None
    out: list[PickupOption] = []
    for method in ("pickup", "curbside"):
        how = Collection.of(cart, method, view)
        rules = how.policy.promise
        if method not in rules.offer:
            continue
        reach = reach or stores_near(view.sourcing.locations, cart)
        near = reach.within(CAPABILITY[method], rules.pickup_radius_km)
        for km, store in near[: rules.pickup_locations]:
            out.append(pickup_option(cart, store, km, how, view, now))
    return out
