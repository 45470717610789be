"""The ship options of a promise: each delivery the policies offer, sourced like an order
with that method and service level would be, and its chosen plan turned into dates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from types import MappingProxyType

from ordergrid.domain.network import Location
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.promise.carrier_calendar import DeliveryArea
from ordergrid.domain.promise.dates import ShipmentDates, service_key, shipment_dates
from ordergrid.domain.promise.incoming import (
    IncomingBySku,
    SupplyUse,
    decide_with_incoming,
    supply_use,
)
from ordergrid.domain.promise.rules import PromiseRules
from ordergrid.domain.promise.shortcuts import Screens, TransferScreens, ship_run_key
from ordergrid.domain.promise.stock import CartStock
from ordergrid.domain.sourcing import (
    OrderFacts,
    Policy,
    SourcingRequest,
    SourcingView,
    select_policy,
    source,
)
from ordergrid.domain.sourcing.decision import Decision
from ordergrid.domain.sourcing.network_index import index_of
from ordergrid.domain.sourcing.policy import Constraints
from ordergrid.domain.sourcing.screening import serves_nowhere
from ordergrid.domain.sourcing.sku_stock import PositionsBySku
from ordergrid.domain.sourcing.view import UnitsToPlace

PROMISE_ORDER_ID = "promise"
#: Delivery methods by name: a quote names one for every option and store it asks the
#: engine about, and looking it up here costs a fraction of calling the enum.
DELIVERY_METHODS = {m.value: m for m in DeliveryMethod}

#: Ship options in the order they are quoted: (method, service level).
SHIP_OPTIONS = (
    ("ship", "standard"),
    ("ship", "express"),
    ("ship", "next_day"),
    ("same_day", "standard"),
)


@dataclass(frozen=True, slots=True)
class Cart:
    """What a promise is asked for: a channel's cart going to a destination."""

    channel: str
    lines: tuple[tuple[str, int], ...]  # sku, quantity
    destination: tuple[float, float]
    country: str | None = None
    postal_code: str | None = None
    #: The customer's zone; dates are given in it when known.
    timezone: tzinfo | None = None
    value: Decimal = Decimal(0)
    #: State or province of the destination (its carrier holidays).
    region: str | None = None
    #: What the methods below answer, worked out once: a quote asks for them for every
    #: option and store.
    _units: tuple[UnitsToPlace, ...] = field(init=False, repr=False, compare=False)
    _facts: dict[tuple[str, str, bool, tuple[float, float] | None], OrderFacts] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _demand: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        units = tuple(UnitsToPlace(str(i), sku, q) for i, (sku, q) in enumerate(self.lines))
        object.__setattr__(self, "_units", units)
        wanted: dict[str, int] = {}
        for sku, q in self.lines:
            wanted[sku] = wanted.get(sku, 0) + q
        object.__setattr__(self, "_demand", MappingProxyType(wanted))

    @property
    def area(self) -> DeliveryArea:
        return DeliveryArea.of(self.country, self.region)

    def units(self) -> tuple[UnitsToPlace, ...]:
        return self._units

    def demand(self) -> Mapping[str, int]:
        """Units of each SKU the cart holds (lines of one SKU summed)."""
        return self._demand

    def facts(
        self,
        method: str,
        level: str,
        destination: bool = True,
        at: tuple[float, float] | None = None,
    ) -> OrderFacts:
        """What selectors see of the cart sent by `method` at `level`: to its
        destination, to the point `at` (a transfer to a pick-up store) or, with
        `destination` false, collected."""
        key = (method, level, destination, at)
        found = self._facts.get(key)
        if found is None:
            found = self._facts[key] = OrderFacts(
                channel=self.channel,
                method=method,
                service_level=level,
                country=(self.country or "").upper() or None if destination else None,
                postal_code=self.postal_code if destination else None,
                value=self.value,
                destination=(self.destination if at is None else at) if destination else None,
                region=self.region if destination else None,
            )
        return found


@dataclass(frozen=True, slots=True)
class PromiseView:
    """The network's stock of the cart's SKUs and the active policies."""

    sourcing: SourcingView
    policies: Sequence[Policy]
    #: Answer from the screening columns where they decide what the engine would
    #: (`shortcuts.py`); off, every answer runs the engine (the reference they match).
    shortcuts: bool = True
    #: The stock as the engine's columns, per set of SKUs asked for: a quote sources the
    #: same cart many times (each option, each store), so they are built once.
    _views: dict[frozenset[str], SourcingView] = field(default_factory=dict)
    _stock: list[CartStock] = field(default_factory=list)
    #: Transfers already sourced for this quote (pick-up and curbside at one store ask
    #: for the same one).
    transfers: dict[
        tuple[str, tuple[tuple[str, int], ...]], tuple[datetime, tuple[str, ...]] | None
    ] = field(default_factory=dict)

    #: Ship options' engine runs, by what they depend on (`shortcuts.ship_run_key`).
    ship_runs: dict[tuple[object, ...], Decision] = field(default_factory=dict)
    #: The screens every pick-up store of the quote is read from.
    pickup_screens: Screens = field(default_factory=dict)
    #: The screens every transfer of the quote starts from.
    transfer_screens: TransferScreens = field(default_factory=dict)
    #: Free units on their way per SKU, for policies that let orders wait for supply.
    incoming: IncomingBySku = field(default_factory=dict)
    #: Shipment dates worked out for this quote, with the location and rules they are
    #: for (see `dates`).
    _dates: dict[
        tuple[object, ...], tuple[Location, PromiseRules, DeliveryArea, ShipmentDates | None]
    ] = field(default_factory=dict)

    def rules(self, policy: Policy, service: str | None) -> Policy:
        """`for_quote(policy, service)` (see `quote_rules`)."""
        return quote_rules(policy, service)

    def stock(self) -> CartStock:
        """The stock of every SKU in the view, as columns (built on first use)."""
        if not self._stock:
            index = index_of(self.sourcing.locations)
            positions = self.sourcing.positions
            held = (
                positions.skus()
                if isinstance(positions, PositionsBySku)
                else {s for _, s in positions}
            )
            skus = frozenset(self.sourcing.product_tags) | held
            self._stock.append(CartStock.of(self.sourcing.positions, index, skus))
        return self._stock[0]

    def dates(
        self,
        loc: Location,
        km: float,
        service: str,
        start: datetime,
        rules: PromiseRules,
        destination_tz: tzinfo | None,
        area: DeliveryArea,
    ) -> ShipmentDates | None:
        """`shipment_dates`, once per quote for each location, transit band, start,
        rules and destination zone and area: the distance counts only through its band,
        and transfers to nearby stores often leave from the same location. Locations,
        rules (and their bands) and areas are told apart by identity (they are
        immutable, and hashing them costs more than the lookup); each entry holds them,
        so no other object takes their ids while it lives."""
        band = rules.band(service, km)
        key = (id(loc), id(band), service, start, id(rules), destination_tz, id(area))
        found = self._dates.get(key)
        if found is None:
            dates = shipment_dates(loc, km, service, start, rules, destination_tz, area)
            found = self._dates[key] = (loc, rules, area, dates)
        return found[3]

    def for_skus(self, skus: frozenset[str]) -> SourcingView:
        """The view with its stock columns ready for a request of these SKUs."""
        found = self._views.get(skus)
        if found is None:
            found = self.sourcing.with_columns(self.stock().for_skus(skus))
            self._views[skus] = found
        return found


@dataclass(frozen=True, slots=True)
class PlannedShipment:
    """One shipment of an option's plan, with its dates."""

    dates: ShipmentDates
    units: int
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class ShipOption:
    method: str
    service_level: str
    available: bool
    policy_id: str
    earliest: datetime | None = None
    latest: datetime | None = None
    cost: float | None = None
    reason: str | None = None
    detail: str | None = None
    shipments: tuple[PlannedShipment, ...] = ()


def for_quote(policy: Policy, service: str | None) -> Policy:
    """The policy as a quote applies it: the distance limit tightened to where the
    service goes (None: no service limit), and the exact solver's time for a large cart
    capped by the promise rules (a quote answers while the shopper waits)."""
    rules = policy.promise
    reach_km = None if service is None else rules.reach_km(service)

    def tighten(c: Constraints) -> Constraints:
        limit = c.max_distance_km
        if reach_km is not None:
            limit = reach_km if limit is None else min(limit, reach_km)
        budget = min(c.time_budget_ms, rules.time_budget_ms)
        return replace(c, max_distance_km=limit, time_budget_ms=budget)

    return replace(
        policy,
        constraints=tighten(policy.constraints),
        strategies=tuple(replace(s, constraints=tighten(s.constraints)) for s in policy.strategies),
    )


_QUOTE_RULES_KEPT = 64
_quote_rules: dict[tuple[int, str | None], tuple[Policy, Policy]] = {}


def quote_rules(policy: Policy, service: str | None) -> Policy:
    """`for_quote(policy, service)`, made once per policy and service: policies are
    immutable and a process keeps the active ones while they are unchanged, so quotes
    share the tightened rules (and the engine what it derives from them)."""
    made = _quote_rules.get((id(policy), service))
    if made is not None and made[0] is policy:
        return made[1]
    rules = for_quote(policy, service)
    if len(_quote_rules) >= _QUOTE_RULES_KEPT:
        _quote_rules.clear()
    _quote_rules[(id(policy), service)] = (policy, rules)
    return rules


def shortage(cart: Cart, view: PromiseView) -> dict[str, int]:
    """Units of each SKU the whole network cannot give now (available, all locations)."""
    held = view.stock().network_available()
    return {sku: q - held.get(sku, 0) for sku, q in cart.demand().items() if q > held.get(sku, 0)}


def unavailable_reason(cart: Cart, view: PromiseView, cannot_serve: str) -> tuple[str, str]:
    """Why an option is unavailable: the network lacks stock, or else no location may
    serve it (`cannot_serve` says why)."""
    missing = shortage(cart, view)
    if missing:
        worst = ", ".join(f"{sku} short by {n}" for sku, n in sorted(missing.items()))
        return "insufficient_stock", f"the network does not hold enough: {worst}"
    return "no_location_can_serve", cannot_serve


def _ship_run(
    req: SourcingRequest, view: PromiseView, policy: Policy, service: str, now: datetime
) -> Decision:
    """The engine's decision for a ship option, shared with an earlier option of the
    quote that it would decide alike."""
    rules = view.rules(policy, service)
    if not view.shortcuts:
        return source(req, view.for_skus(req.skus), rules, now)
    key = ship_run_key(req, policy, policy.promise.reach_km(service))
    found = view.ship_runs.get(key)
    if found is None:
        found = view.ship_runs[key] = source(req, view.for_skus(req.skus), rules, now)
    return found


def ship_option(
    cart: Cart, view: PromiseView, method: str, level: str, now: datetime
) -> ShipOption | None:
    """One delivery option, or None when the policy that would decide it does not offer
    it."""
    facts = cart.facts(method, level)
    policy = select_policy(view.policies, facts)
    service = service_key(method, level)
    rules = policy.promise
    if service not in rules.offer:
        return None
    if serves_nowhere(
        view.rules(policy, service),
        index_of(view.sourcing.locations),
        cart.channel,
        DELIVERY_METHODS[method],
    ):
        # No engine run: every candidate would be screened out (a service no location
        # offers, as same-day often is), and supply on its way would not change that.
        nowhere = f"no location may serve {service} on channel {cart.channel!r} under the policy"
        reason, detail = unavailable_reason(cart, view, nowhere)
        return ShipOption(method, level, False, policy.id, reason=reason, detail=detail)
    req = SourcingRequest(
        order_id=PROMISE_ORDER_ID,
        channel=cart.channel,
        method=DELIVERY_METHODS[method],
        lines=cart.units(),
        destination=cart.destination,
        facts=facts,
    )
    decision = _ship_run(req, view, policy, service, now)
    plan = decision.plan
    waits: dict[str, SupplyUse] = {}
    if plan.units < sum(q for _, q in cart.lines):
        reason, detail = unavailable_reason(cart, view, decision.summary)
        later = _from_incoming(req, view, policy, service, now) if view.incoming else None
        if later is None or reason != "insufficient_stock":
            return ShipOption(method, level, False, policy.id, reason=reason, detail=detail)
        decision, waits = later
        plan = decision.plan
    locations, area = view.sourcing.locations, cart.area
    shipments = []
    for s in plan.shipments:
        km = s.distance_km or 0.0
        use = waits.get(s.location_id)
        start = now if use is None else max(now, use.due)
        loc = locations[s.location_id]
        dates = view.dates(loc, km, service, start, rules, cart.timezone, area)
        if dates is None:  # within reach by construction, so the location never works
            detail = f"{s.location_id} has no working day ahead"
            return ShipOption(
                method, level, False, policy.id, reason="no_delivery_date", detail=detail
            )
        shipments.append(PlannedShipment(dates, s.units, s.distance_km))
    return ShipOption(
        method,
        level,
        True,
        policy.id,
        earliest=max(s.dates.earliest for s in shipments),
        latest=max(s.dates.latest for s in shipments),
        cost=round(plan.cost, 2),
        shipments=tuple(shipments),
        reason="future_supply" if waits else None,
        detail=_waiting_for(waits) if waits else None,
    )


def _from_incoming(
    req: SourcingRequest, view: PromiseView, policy: Policy, service: str, now: datetime
) -> tuple[Decision, dict[str, SupplyUse]] | None:
    """The plan with supply on its way counted, when it places every unit, and what each
    of its shipments waits for."""
    found = decide_with_incoming(
        req, view.sourcing, view.rules(policy, service), view.incoming, now
    )
    if found is None:
        return None
    decision, usable = found
    if decision.plan.units < sum(u.quantity for u in req.lines):
        return None
    waits = {}
    for s in decision.plan.shipments:
        use = supply_use(s, view.sourcing, usable)
        if use is not None:
            waits[s.location_id] = use
    return decision, waits


def _waiting_for(waits: dict[str, SupplyUse]) -> str:
    parts = [
        f"{u.location_id} after {', '.join(u.supply_ids)} (due {u.due.date().isoformat()})"
        for u in sorted(waits.values(), key=lambda u: u.location_id)
    ]
    return "ships from supply on its way: " + "; ".join(parts)


def ship_options(cart: Cart, view: PromiseView, now: datetime) -> list[ShipOption]:
    """Every ship and same-day option the matching policies offer, in a fixed order."""
    out = []
    for method, level in SHIP_OPTIONS:
        option = ship_option(cart, view, method, level, now)
        if option is not None:
            out.append(option)
    return out
