"""Hard constraints: which locations may serve a request, and why the others may not."""

from __future__ import annotations

from dataclasses import dataclass, field

from ordergrid.domain.geo import great_circle_km
from ordergrid.domain.network import Capability, Location, LocationStatus
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.sourcing.policy import Policy
from ordergrid.domain.sourcing.product_rules import BUILT_IN_RULES, ProductRule, blocking_rule
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

CAPABILITY_FOR = {
    DeliveryMethod.SHIP: Capability.SHIP,
    DeliveryMethod.SAME_DAY: Capability.SAME_DAY,
    DeliveryMethod.PICKUP: Capability.PICKUP,
    DeliveryMethod.CURBSIDE: Capability.CURBSIDE,
}


@dataclass(frozen=True, slots=True)
class Exclusion:
    reason: str  # stable code of the constraint
    detail: str


@dataclass(frozen=True, slots=True)
class Screened:
    location: Location
    distance_km: float | None
    available: dict[str, int]  # what the location may give: 0 where a product rule blocks
    exclusion: Exclusion | None
    blocked: dict[str, str] = field(default_factory=dict)  # SKU -> product rule


def distance_to(location: Location, request: SourcingRequest) -> float | None:
    if request.destination is None:
        return None
    return great_circle_km(location.lat, location.lon, *request.destination)


def _status(loc: Location) -> Exclusion | None:
    if loc.status is LocationStatus.ACTIVE:
        return None
    return Exclusion(f"location_{loc.status.value}", f"location is {loc.status.value}")


def _fit(loc: Location, req: SourcingRequest, policy: Policy) -> Exclusion | None:  # noqa: PLR0911
    c = policy.constraints
    if loc.id in req.excluded_locations:
        return Exclusion("excluded_for_order", "location already failed this order")
    if c.location_types is not None and loc.type.value not in c.location_types:
        return Exclusion("location_type_not_allowed", f"policy does not use {loc.type.value}")
    if loc.channels and req.channel not in loc.channels:
        return Exclusion("channel_not_served", f"location does not serve {req.channel!r}")
    needed = CAPABILITY_FOR[req.method]
    if needed not in loc.capabilities:
        return Exclusion("capability_missing", f"location cannot do {needed.value}")
    if req.method.collects_at_store and loc.id != req.pickup_location_id:
        return Exclusion("not_pickup_location", "customer collects at another store")
    blocked = sorted(loc.tags & c.exclude_location_tags)
    if blocked:
        return Exclusion("location_tag_excluded", f"tag {blocked[0]!r} is excluded")
    if c.include_location_tags and not (loc.tags & c.include_location_tags):
        return Exclusion("location_tag_required", "location lacks every required tag")
    return None


def _capacity(loc: Location, view: SourcingView, policy: Policy) -> Exclusion | None:
    """A location that has taken its daily orders or units gets no more work today.

    The count is the one read when deciding: decisions running at the same moment can
    take a location a few orders past its limit (a soft cap, not a reservation)."""
    if not policy.constraints.respect_capacity:
        return None
    orders, units = view.load.get(loc.id, (0, 0))
    if loc.orders_per_day is not None and orders >= loc.orders_per_day:
        return Exclusion("capacity_reached", f"{orders} of {loc.orders_per_day} orders today")
    if loc.units_per_day is not None and units >= loc.units_per_day:
        return Exclusion("capacity_reached", f"{units} of {loc.units_per_day} units today")
    return None


def screen(req: SourcingRequest, view: SourcingView, policy: Policy) -> list[Screened]:
    """Every location holding the request's SKUs (and the pick-up store), screened."""
    ids = set(view.holders(req.skus))
    if req.pickup_location_id is not None and req.pickup_location_id in view.locations:
        ids.add(req.pickup_location_id)
    out: list[Screened] = []
    skus = sorted(req.skus)
    rules = _rules_by_sku(req, view, policy)
    for loc_id in sorted(ids):
        loc = view.locations.get(loc_id)
        if loc is None:
            continue
        dist = distance_to(loc, req)
        available, blocked = _allowed_stock(loc, skus, view, rules)
        exclusion = _status(loc) or _fit(loc, req, policy) or _capacity(loc, view, policy)
        limit = policy.constraints.max_distance_km
        if exclusion is None and limit is not None and dist is not None and dist > limit:
            exclusion = Exclusion("max_distance_exceeded", f"{dist:.0f} km > {limit:.0f} km")
        if exclusion is None and blocked and not any(available.values()):
            names = ", ".join(sorted(set(blocked.values())))
            exclusion = Exclusion("product_rule", f"product rules keep the items away: {names}")
        if exclusion is None and not any(available.values()):
            exclusion = Exclusion("no_available_stock", "on-hand is reserved or safety stock")
        out.append(Screened(loc, dist, available, exclusion, blocked))
    return out


def _allowed_stock(
    loc: Location, skus: list[str], view: SourcingView, rules: dict[str, tuple[ProductRule, ...]]
) -> tuple[dict[str, int], dict[str, str]]:
    """Available units per SKU, with the SKUs a product rule keeps away from `loc`."""
    available: dict[str, int] = {}
    blocked: dict[str, str] = {}
    for sku in skus:
        rule = blocking_rule(view.product_tags[sku], loc, rules[sku]) if sku in rules else None
        if rule is not None:
            blocked[sku] = rule
        available[sku] = 0 if rule is not None else view.available(loc.id, sku)
    return available, blocked


def _rules_by_sku(
    req: SourcingRequest, view: SourcingView, policy: Policy
) -> dict[str, tuple[ProductRule, ...]]:
    """The product rules that may apply to each tagged SKU (most SKUs carry no tag)."""
    rules = (*BUILT_IN_RULES, *policy.constraints.product_rules)
    out: dict[str, tuple[ProductRule, ...]] = {}
    for sku in req.skus:
        tags = view.product_tags.get(sku, frozenset())
        relevant = tuple(r for r in rules if r.product_tags & tags)
        if relevant:
            out[sku] = relevant
    return out
