"""Routing policy: which locations may serve an order and what a plan costs."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ordergrid.domain.lifecycle_rules import (
    DEFAULT_LIFECYCLE,
    LifecycleRules,
    lifecycle_from_document,
)
from ordergrid.domain.network import Location
from ordergrid.domain.promise.rules import (
    DEFAULT_PROMISE_RULES,
    PromiseRules,
    promise_rules_from_document,
)
from ordergrid.domain.sourcing.product_rules import ProductRule


class Fallback(StrEnum):
    """What happens to units no plan can cover."""

    PARTIAL = "partial"  # allocate what can be allocated now, back-order the rest
    BACKORDER = "backorder"  # ship complete: allocate nothing until all can be allocated
    CANCEL = "cancel"  # cancel the units that cannot be allocated


#: Days a parcel travels by distance, (up to km, days); beyond the last band: its days + 1.
DEFAULT_TRANSIT_DAYS: tuple[tuple[float, int], ...] = ((300.0, 1), (1000.0, 2), (2000.0, 3))
#: Days from order to delivery each service level promises.
DEFAULT_SERVICE_DAYS: Mapping[str, int] = {"next_day": 1, "express": 2, "standard": 5}


@dataclass(frozen=True, slots=True)
class RateCard:
    """Carrier prices by zone (distance band) x parcel weight band x service level.

    A distance beyond the last zone is priced as the last zone, a parcel heavier than
    the last band as the last band (its rate is the carrier's "and above" price)."""

    zone_max_km: tuple[float, ...]
    weight_max_kg: tuple[float, ...]
    rates: Mapping[str, tuple[tuple[float, ...], ...]] = field(hash=False)  # [zone][band]
    default_weight_kg: float = 1.0  # for products without a weight

    def zone(self, km: float) -> int:
        return min(bisect_left(self.zone_max_km, km), len(self.zone_max_km) - 1)

    def band(self, kg: float) -> int:
        return min(bisect_left(self.weight_max_kg, kg), len(self.weight_max_kg) - 1)

    def table(self, service_level: str) -> tuple[tuple[float, ...], ...]:
        return self.rates.get(service_level) or self.rates["standard"]

    def price(self, service_level: str, km: float, kg: float) -> float:
        return self.table(service_level)[self.zone(km)][self.band(kg)]


@dataclass(frozen=True, slots=True)
class Costs:
    """The objective: what a plan costs. Every term beyond the API formula is optional
    (0 by default), so with defaults the chosen plan minimises exactly that formula."""

    per_shipment: float = 8.759
    per_unit: float = 0.423
    per_unit_km: float = 0.000336
    handling_per_shipment: dict[str, float] = field(default_factory=dict, hash=False)
    #: Replaces `per_shipment` and `per_unit_km` with carrier prices per parcel.
    rate_card: RateCard | None = None
    #: Added for each shipment after the first: a customer prefers one box.
    split_penalty: float = 0.0
    #: Added for a shipment from a location that cannot meet the service level by its
    #: cut-off and transit time.
    promise_risk_penalty: float = 0.0
    transit_days: tuple[tuple[float, int], ...] = DEFAULT_TRANSIT_DAYS
    service_days: Mapping[str, int] = field(
        default_factory=lambda: DEFAULT_SERVICE_DAYS, hash=False
    )
    #: Per shipment, times the share of the location's daily capacity already used.
    capacity_load: float = 0.0
    #: Per unit taken from the last `protect_last_units` available units of a location of
    #: `protect_location_types`: keeps a store's last units on its shelf and, between two
    #: otherwise equal sites, prefers the one with more stock.
    last_units_penalty: float = 0.0
    protect_last_units: int = 0
    protect_location_types: frozenset[str] = frozenset({"store"})
    #: Weight of the future value of a unit (shadow price) added to its cost.
    scarcity_weight: float = 1.0

    def fixed(self, location: Location) -> float:
        """Cost of using a location at all: one shipment plus its handling."""
        return self.per_shipment + self.handling(location)

    def handling(self, location: Location) -> float:
        return location.handling_cost + self.handling_per_shipment.get(location.type.value, 0.0)

    def per_unit_at(self, distance_km: float) -> float:
        return self.per_unit + self.per_unit_km * distance_km

    def transit(self, km: float) -> int:
        for limit, days in self.transit_days:
            if km <= limit:
                return days
        return (self.transit_days[-1][1] + 1) if self.transit_days else 1


@dataclass(frozen=True, slots=True)
class Constraints:
    location_types: frozenset[str] | None = None  # None: every type
    max_shipments: int = 3
    max_distance_km: float | None = None
    exclude_location_tags: frozenset[str] = frozenset()
    include_location_tags: frozenset[str] = frozenset()  # empty: no requirement
    product_rules: tuple[ProductRule, ...] = ()  # besides the built-in ones
    respect_capacity: bool = True  # locations at their orders/units per day get no more
    #: How long the exact solver may search a large order before it takes the best plan
    #: found (whose proven gap the decision shows).
    time_budget_ms: int = 200


@dataclass(frozen=True, slots=True)
class FutureSupply:
    """Whether back-ordered units may be promised from supply on its way, and how far
    ahead (days after the decision) that supply may be expected."""

    allow: bool = False
    max_days: int = 21


@dataclass(frozen=True, slots=True)
class Selector:
    """Which orders a policy is for; an empty dimension matches everything."""

    channels: frozenset[str] = frozenset()
    delivery_methods: frozenset[str] = frozenset()
    service_levels: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    postal_prefixes: frozenset[str] = frozenset()
    min_order_value: Decimal | None = None
    max_order_value: Decimal | None = None
    order_tags: frozenset[str] = frozenset()  # any of them
    customer_segments: frozenset[str] = frozenset()
    within: tuple[float, float, float] | None = None  # lat, lon, radius in km

    @property
    def specificity(self) -> int:
        """How many dimensions the selector restricts: more specific policies win."""
        sets = (
            self.channels,
            self.delivery_methods,
            self.service_levels,
            self.countries,
            self.postal_prefixes,
            self.order_tags,
            self.customer_segments,
        )
        bounds = (self.min_order_value, self.max_order_value, self.within)
        return sum(bool(x) for x in sets) + sum(x is not None for x in bounds)


@dataclass(frozen=True, slots=True)
class Strategy:
    """One way to source an order: tried in order, used when its conditions (`when`)
    fit the order and it covers every unit; its constraints and costs replace the
    policy's."""

    name: str
    when: Selector = field(default_factory=Selector)
    constraints: Constraints = field(default_factory=Constraints)
    costs: Costs = field(default_factory=Costs)


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    version: int
    name: str
    priority: int = 0
    selector: Selector = field(default_factory=Selector)
    constraints: Constraints = field(default_factory=Constraints)
    costs: Costs = field(default_factory=Costs)
    fallback: Fallback = Fallback.PARTIAL
    strategies: tuple[Strategy, ...] = ()  # none: one strategy of the policy's own rules
    #: Deadlines, failure actions, attempt limit, click & collect choice, hold rules.
    lifecycle: LifecycleRules = DEFAULT_LIFECYCLE
    #: Orders this policy decides wait up to this long after placement and are sourced
    #: together with the others waiting (0: each order is sourced as it arrives).
    batch_window_seconds: int = 0
    #: Transit tables, processing times and pick-up rules that turn plans into dates.
    promise: PromiseRules = DEFAULT_PROMISE_RULES
    future_supply: FutureSupply = field(default_factory=FutureSupply)
    #: What `strategies_to_try` answers, made once: every decision asks for it.
    _to_try: tuple[Strategy, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        own = (Strategy(self.name, constraints=self.constraints, costs=self.costs),)
        object.__setattr__(self, "_to_try", self.strategies or own)

    def strategies_to_try(self) -> tuple[Strategy, ...]:
        """The strategies to try, in order: the policy's, else one of its own rules."""
        return self._to_try


#: Matches every order, allows every location type whose capabilities fit the delivery
#: method, no distance limit, at most 3 shipments, nearer wins among equals, and partial
#: allocation with back-order of the rest.
DEFAULT_POLICY = Policy(id="default", version=1, name="Default policy")


def policy_from_document(policy_id: str, version: int, doc: Mapping[str, Any]) -> Policy:
    """The policy a validated document describes (validation happens at the edge).

    Absent sections take the defaults of the built-in policy; a strategy's constraints
    and costs are the policy's with the strategy's keys replacing them.
    """
    base_con = doc.get("constraints") or {}
    base_cost = doc.get("costs") or {}
    return Policy(
        id=policy_id,
        version=version,
        name=str(doc.get("name") or policy_id),
        priority=int(doc.get("priority", 0)),
        selector=_selector(doc.get("selector") or {}),
        constraints=_constraints(base_con),
        costs=_costs(base_cost),
        fallback=Fallback(doc.get("fallback", Fallback.PARTIAL.value)),
        strategies=tuple(
            Strategy(
                name=str(st["name"]),
                when=_selector(st.get("when") or {}),
                constraints=_constraints({**base_con, **(st.get("constraints") or {})}),
                costs=_costs({**base_cost, **(st.get("costs") or {})}),
            )
            for st in doc.get("strategies") or ()
        ),
        lifecycle=lifecycle_from_document(doc.get("lifecycle")),
        batch_window_seconds=int(doc.get("batch_window_seconds", 0)),
        promise=promise_rules_from_document(doc.get("promise")),
        future_supply=_future_supply(doc.get("future_supply") or {}),
    )


def _future_supply(doc: Mapping[str, Any]) -> FutureSupply:
    base = FutureSupply()
    return FutureSupply(
        allow=bool(doc.get("allow", base.allow)),
        max_days=int(doc.get("max_days", base.max_days)),
    )


def _selector(sel: Mapping[str, Any]) -> Selector:
    def bound(key: str) -> Decimal | None:
        value = sel.get(key)
        return None if value is None else Decimal(str(value))

    return Selector(
        channels=frozenset(sel.get("channels") or ()),
        delivery_methods=frozenset(sel.get("delivery_methods") or ()),
        service_levels=frozenset(sel.get("service_levels") or ()),
        countries=frozenset(c.upper() for c in sel.get("countries") or ()),
        postal_prefixes=frozenset(sel.get("postal_prefixes") or ()),
        min_order_value=bound("min_order_value"),
        max_order_value=bound("max_order_value"),
        order_tags=frozenset(sel.get("order_tags") or ()),
        customer_segments=frozenset(sel.get("customer_segments") or ()),
        within=_within(sel.get("within")),
    )


def _within(doc: Mapping[str, Any] | None) -> tuple[float, float, float] | None:
    if doc is None:
        return None
    return (float(doc["lat"]), float(doc["lon"]), float(doc["radius_km"]))


def _constraints(con: Mapping[str, Any]) -> Constraints:
    types = con.get("location_types")
    return Constraints(
        location_types=None if types is None else frozenset(types),
        max_shipments=int(con.get("max_shipments", Constraints().max_shipments)),
        max_distance_km=con.get("max_distance_km"),
        exclude_location_tags=frozenset(con.get("exclude_location_tags") or ()),
        include_location_tags=frozenset(con.get("include_location_tags") or ()),
        product_rules=tuple(_rule(r) for r in con.get("product_rules") or ()),
        respect_capacity=bool(con.get("respect_capacity", True)),
        time_budget_ms=int(con.get("time_budget_ms", Constraints().time_budget_ms)),
    )


def _costs(cost: Mapping[str, Any]) -> Costs:
    base = Costs()
    transit = cost.get("transit_days")
    protect = cost.get("protect_location_types")
    return Costs(
        per_shipment=float(cost.get("per_shipment", base.per_shipment)),
        per_unit=float(cost.get("per_unit", base.per_unit)),
        per_unit_km=float(cost.get("per_unit_km", base.per_unit_km)),
        handling_per_shipment=dict(cost.get("handling_per_shipment") or {}),
        rate_card=_rate_card(cost.get("rate_card")),
        split_penalty=float(cost.get("split_penalty", 0.0)),
        promise_risk_penalty=float(cost.get("promise_risk_penalty", 0.0)),
        transit_days=base.transit_days
        if transit is None
        else tuple((float(b["max_km"]), int(b["days"])) for b in transit),
        service_days={**DEFAULT_SERVICE_DAYS, **(cost.get("service_days") or {})},
        capacity_load=float(cost.get("capacity_load", 0.0)),
        last_units_penalty=float(cost.get("last_units_penalty", 0.0)),
        protect_last_units=int(cost.get("protect_last_units", 0)),
        protect_location_types=base.protect_location_types
        if protect is None
        else frozenset(protect),
        scarcity_weight=float(cost.get("scarcity_weight", base.scarcity_weight)),
    )


def _rate_card(doc: Mapping[str, Any] | None) -> RateCard | None:
    if doc is None:
        return None
    return RateCard(
        zone_max_km=tuple(float(x) for x in doc["zone_max_km"]),
        weight_max_kg=tuple(float(x) for x in doc["weight_max_kg"]),
        rates={
            level: tuple(tuple(float(p) for p in zone) for zone in table)
            for level, table in doc["rates"].items()
        },
        default_weight_kg=float(doc.get("default_weight_kg", 1.0)),
    )


def _rule(doc: Mapping[str, Any]) -> ProductRule:
    only = doc.get("only_location_types")
    return ProductRule(
        name=str(doc["name"]),
        product_tags=frozenset(doc["product_tags"]),
        exclude_location_types=frozenset(doc.get("exclude_location_types") or ()),
        only_location_types=None if only is None else frozenset(only),
        exclude_location_tags=frozenset(doc.get("exclude_location_tags") or ()),
    )
