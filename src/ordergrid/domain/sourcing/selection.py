"""Which routing policy decides an order: the most specific matching selector, then the
highest priority, then the id (so the choice is deterministic)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ordergrid.domain.geo import great_circle_km
from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing.policy import DEFAULT_POLICY, Policy, Selector


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What selectors look at."""

    channel: str
    method: str
    service_level: str
    country: str | None
    postal_code: str | None
    value: Decimal
    tags: frozenset[str] = frozenset()
    segment: str | None = None
    destination: tuple[float, float] | None = None  # lat, lon; None for store pick-up
    #: State or province of the delivery address (its carrier holidays).
    region: str | None = None

    @classmethod
    def of(cls, order: Order) -> OrderFacts:
        address = order.delivery.address
        value = sum(
            ((line.unit_price or Decimal(0)) * line.quantity for line in order.lines), Decimal(0)
        )
        return cls(
            channel=order.channel,
            method=order.delivery.method.value,
            service_level=order.delivery.service_level.value,
            country=None if address is None or address.country is None else address.country.upper(),
            postal_code=None if address is None else address.postal_code,
            value=value,
            tags=order.tags,
            destination=None
            if address is None or address.lat is None or address.lon is None
            else (address.lat, address.lon),
            segment=None
            if order.customer.get("segment") is None
            else str(order.customer["segment"]),
            region=None if address is None else address.region,
        )


def matches(selector: Selector, facts: OrderFacts) -> bool:
    checks = (
        not selector.channels or facts.channel in selector.channels,
        not selector.delivery_methods or facts.method in selector.delivery_methods,
        not selector.service_levels or facts.service_level in selector.service_levels,
        not selector.countries or facts.country in selector.countries,
        not selector.postal_prefixes
        or any((facts.postal_code or "").startswith(p) for p in selector.postal_prefixes),
        selector.min_order_value is None or facts.value >= selector.min_order_value,
        selector.max_order_value is None or facts.value <= selector.max_order_value,
        not selector.order_tags or bool(selector.order_tags & facts.tags),
        not selector.customer_segments or facts.segment in selector.customer_segments,
        selector.within is None or _inside(selector.within, facts.destination),
    )
    return all(checks)


def _inside(circle: tuple[float, float, float], point: tuple[float, float] | None) -> bool:
    lat, lon, radius_km = circle
    return point is not None and great_circle_km(lat, lon, *point) <= radius_km


def select_policy(active: Sequence[Policy], facts: OrderFacts) -> Policy:
    """The active policy for the order; the built-in default when none matches."""
    candidates = [p for p in active if matches(p.selector, facts)]
    if not candidates:
        return DEFAULT_POLICY
    return min(candidates, key=lambda p: (-p.selector.specificity, -p.priority, p.id))
