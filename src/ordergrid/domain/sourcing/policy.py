"""Routing policy: which locations may serve an order and what a plan costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ordergrid.domain.network import Location


class Fallback(StrEnum):
    """What happens to units no plan can cover."""

    PARTIAL = "partial"  # allocate what can be allocated now, back-order the rest
    BACKORDER = "backorder"  # ship complete: allocate nothing until all can be allocated
    CANCEL = "cancel"  # cancel the units that cannot be allocated


@dataclass(frozen=True, slots=True)
class Costs:
    per_shipment: float = 8.759
    per_unit: float = 0.423
    per_unit_km: float = 0.000336
    handling_per_shipment: dict[str, float] = field(default_factory=dict, hash=False)

    def fixed(self, location: Location) -> float:
        """Cost of using a location at all: one shipment plus its handling."""
        return self.per_shipment + self.handling(location)

    def handling(self, location: Location) -> float:
        return location.handling_cost + self.handling_per_shipment.get(location.type.value, 0.0)

    def per_unit_at(self, distance_km: float) -> float:
        return self.per_unit + self.per_unit_km * distance_km


@dataclass(frozen=True, slots=True)
class Constraints:
    location_types: frozenset[str] | None = None  # None: every type
    max_shipments: int = 3
    max_distance_km: float | None = None
    exclude_location_tags: frozenset[str] = frozenset()
    include_location_tags: frozenset[str] = frozenset()  # empty: no requirement


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    version: int
    name: str
    priority: int = 0
    constraints: Constraints = field(default_factory=Constraints)
    costs: Costs = field(default_factory=Costs)
    fallback: Fallback = Fallback.PARTIAL


#: Matches every order, allows every location type whose capabilities fit the delivery
#: method, no distance limit, at most 3 shipments, nearer wins among equals, and partial
#: allocation with back-order of the rest.
DEFAULT_POLICY = Policy(id="default", version=1, name="Default policy")
