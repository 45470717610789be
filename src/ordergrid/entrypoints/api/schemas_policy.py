"""The routing policy document of the API contract, validated field by field."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from ordergrid.entrypoints.api.schemas import Body, LocationType, Tag
from ordergrid.entrypoints.api.schemas_lifecycle import LifecycleDoc
from ordergrid.entrypoints.api.schemas_promise import PromiseRulesDoc

Money = Annotated[Decimal, Field(ge=0, le=Decimal("1e9"), max_digits=14, decimal_places=4)]
Rate = Annotated[float, Field(ge=0, le=1_000_000)]
Name = Annotated[str, Field(min_length=1, max_length=128)]


class CircleDoc(Body):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0, le=20_000)


class SelectorDoc(Body):
    channels: list[Name] = Field(default_factory=list, max_length=100)
    delivery_methods: list[Literal["ship", "same_day", "pickup", "curbside"]] = Field(
        default_factory=list, max_length=4
    )
    service_levels: list[Literal["standard", "express", "next_day"]] = Field(
        default_factory=list, max_length=3
    )
    countries: list[Annotated[str, Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, max_length=300, description="ISO 3166-1 alpha-2"
    )
    postal_prefixes: list[Annotated[str, Field(min_length=1, max_length=16)]] = Field(
        default_factory=list, max_length=10_000
    )
    min_order_value: Money | None = None
    max_order_value: Money | None = None
    order_tags: list[Tag] = Field(
        default_factory=list, max_length=50, description="orders carrying any of these tags"
    )
    customer_segments: list[Name] = Field(default_factory=list, max_length=50)
    within: CircleDoc | None = Field(None, description="destination within this circle")

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        low, high = self.min_order_value, self.max_order_value
        if low is not None and high is not None and low > high:
            raise PydanticCustomError("invalid_range", "min_order_value is above max_order_value")
        return self


class ProductRuleDoc(Body):
    """Keeps products with any of `product_tags` away from the locations it names."""

    name: Name
    product_tags: list[Tag] = Field(min_length=1, max_length=50)
    exclude_location_types: list[LocationType] = Field(default_factory=list)
    only_location_types: list[LocationType] | None = None
    exclude_location_tags: list[Tag] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _blocks_something(self) -> Self:
        if not (
            self.exclude_location_types
            or self.only_location_types is not None
            or self.exclude_location_tags
        ):
            raise PydanticCustomError(
                "empty_rule",
                "name exclude_location_types, only_location_types or exclude_location_tags",
            )
        return self


class ConstraintsDoc(Body):
    location_types: list[LocationType] | None = Field(
        None, description="allowed types; absent: every type"
    )
    max_shipments: int = Field(3, ge=1, le=10)
    max_distance_km: float | None = Field(None, gt=0, le=40_000)
    exclude_location_tags: list[Tag] = Field(default_factory=list, max_length=100)
    include_location_tags: list[Tag] = Field(default_factory=list, max_length=100)
    respect_capacity: bool = Field(
        True, description="locations at their orders/units per day get no more work today"
    )
    time_budget_ms: int = Field(
        200, ge=1, le=60_000, description="time the exact solver may take on a large order"
    )
    product_rules: list[ProductRuleDoc] = Field(
        default_factory=list,
        max_length=50,
        description="besides the built-in dropship-only and not-from-store rules",
    )


ServiceLevel = Literal["standard", "express", "next_day"]
Price = Annotated[float, Field(ge=0, le=1_000_000)]


class RateCardDoc(Body):
    """Carrier prices: `rates[service_level][zone][weight band]`. Zone i covers distances
    up to `zone_max_km[i]`, band b weights up to `weight_max_kg[b]`; beyond the last, the
    last one applies."""

    zone_max_km: list[Annotated[float, Field(gt=0, le=40_000)]] = Field(min_length=1, max_length=20)
    weight_max_kg: list[Annotated[float, Field(gt=0, le=100_000)]] = Field(
        min_length=1, max_length=50
    )
    rates: dict[ServiceLevel, list[list[Price]]] = Field(
        description="must include standard, used for a level without a table"
    )
    default_weight_kg: float = Field(1.0, gt=0, le=100_000)

    @model_validator(mode="after")
    def _shape(self) -> Self:
        for name, bounds in (
            ("zone_max_km", self.zone_max_km),
            ("weight_max_kg", self.weight_max_kg),
        ):
            if any(b <= a for a, b in itertools.pairwise(bounds)):
                raise PydanticCustomError("not_ascending", f"{name} must be ascending")
        if any(
            any(b < a for a, b in itertools.pairwise(row))
            for table in self.rates.values()
            for row in table
        ):
            raise PydanticCustomError(
                "rates_not_ascending", "a heavier parcel cannot cost less than a lighter one"
            )
        if "standard" not in self.rates:
            raise PydanticCustomError("missing_standard", "rates must include standard")
        zones, bands = len(self.zone_max_km), len(self.weight_max_kg)
        for level, table in self.rates.items():
            if len(table) != zones or any(len(row) != bands for row in table):
                raise PydanticCustomError(
                    "rate_table_shape",
                    "rates.{level} must have {zones} rows of {bands} prices",
                    {"level": level, "zones": zones, "bands": bands},
                )
        return self


class TransitBandDoc(Body):
    max_km: float = Field(gt=0, le=40_000)
    days: int = Field(ge=0, le=60)


class CostsDoc(Body):
    """The objective. Beyond the API cost formula every term is optional (0 = off)."""

    per_shipment: Rate = 8.759
    per_unit: Rate = 0.423
    per_unit_km: Rate = 0.000336
    handling_per_shipment: dict[LocationType, Rate] = Field(default_factory=dict)
    rate_card: RateCardDoc | None = Field(
        None, description="replaces per_shipment and per_unit_km with carrier prices per parcel"
    )
    split_penalty: Rate = Field(0.0, description="per shipment after the first")
    promise_risk_penalty: Rate = Field(
        0.0, description="per shipment from a location that cannot meet the service level"
    )
    transit_days: list[TransitBandDoc] | None = Field(
        None, max_length=20, description="days in transit by distance, ascending"
    )
    service_days: dict[ServiceLevel, Annotated[int, Field(ge=0, le=60)]] = Field(
        default_factory=dict, description="days each service level promises"
    )
    capacity_load: Rate = Field(
        0.0, description="per shipment, times the share of today's capacity already used"
    )
    last_units_penalty: Rate = Field(
        0.0, description="per unit taken from a location's last protect_last_units units"
    )
    protect_last_units: int = Field(0, ge=0, le=1_000_000)
    protect_location_types: list[LocationType] | None = Field(
        None, description="where last units are protected; absent: stores"
    )
    scarcity_weight: Rate = Field(1.0, description="weight of the future value of a unit")

    @model_validator(mode="after")
    def _ascending_transit(self) -> Self:
        bands = self.transit_days or []
        if any(b.max_km <= a.max_km for a, b in itertools.pairwise(bands)):
            raise PydanticCustomError("not_ascending", "transit_days must be ascending by max_km")
        return self


class StrategyDoc(Body):
    """Tried in order: used when `when` fits the order and its plan covers every unit.
    Its `constraints` and `costs` keys replace the policy's; others are inherited."""

    name: Name
    when: SelectorDoc = Field(default_factory=SelectorDoc, description="conditions")
    constraints: ConstraintsDoc = Field(default_factory=ConstraintsDoc)
    costs: CostsDoc = Field(default_factory=CostsDoc)

    def stored(self) -> dict[str, Any]:
        """Only the keys given: the rest comes from the policy."""
        return {
            "name": self.name,
            "when": self.when.model_dump(mode="json", exclude_unset=True),
            "constraints": self.constraints.model_dump(mode="json", exclude_unset=True),
            "costs": self.costs.model_dump(mode="json", exclude_unset=True),
        }


class FutureSupplyDoc(Body):
    """Whether back-ordered units may be promised from purchase orders, transfers and
    ASNs on their way to a location the policy may use."""

    allow: bool = Field(False, description="peg back-orders and pre-orders to future supply")
    max_days: int = Field(
        21, ge=0, le=366, description="only supply expected within this many days"
    )


class PolicyDocument(Body):
    """A routing policy: which orders it is for, where they may come from, what plans cost,
    and what happens to units no plan can cover."""

    name: Name
    priority: int = Field(0, ge=-1_000_000, le=1_000_000)
    selector: SelectorDoc = Field(default_factory=SelectorDoc)
    constraints: ConstraintsDoc = Field(default_factory=ConstraintsDoc)
    costs: CostsDoc = Field(default_factory=CostsDoc)
    fallback: Literal["partial", "backorder", "cancel"] = "partial"
    strategies: list[StrategyDoc] = Field(default_factory=list, max_length=20)
    batch_window_seconds: int = Field(
        0,
        ge=0,
        le=3600,
        description="orders wait up to this long and are sourced together; 0: at once",
    )
    lifecycle: LifecycleDoc = Field(
        default_factory=LifecycleDoc,
        description="deadlines, failure actions, attempt limit, click & collect, holds",
    )
    promise: PromiseRulesDoc | None = Field(
        None, description="transit tables, processing times and pick-up rules of promises"
    )
    future_supply: FutureSupplyDoc | None = Field(
        None, description="promise back-orders from supply on its way (absent: never)"
    )

    @model_validator(mode="after")
    def _unique_strategy_names(self) -> Self:
        names = [st.name for st in self.strategies]
        if len(names) != len(set(names)):
            raise PydanticCustomError("duplicate_strategy", "strategy names must be unique")
        return self

    def stored(self) -> dict[str, Any]:
        """The normalised document as it is stored and shown (JSON types only)."""
        doc = self.model_dump(mode="json", exclude={"strategies", "lifecycle", "promise"})
        if self.future_supply is None:
            del doc["future_supply"]
        doc["strategies"] = [st.stored() for st in self.strategies]
        doc["lifecycle"] = self.lifecycle.stored()
        if self.promise is not None:
            doc["promise"] = self.promise.model_dump(mode="json", exclude_none=True)
        return doc


class ActivateIn(Body):
    version: int | None = Field(None, ge=1, description="a version to roll back to; absent: latest")


class PolicyVersionOut(BaseModel):
    version: int
    document: dict[str, Any]
    created_at: datetime | None
    created_by: str | None


class PolicyOut(BaseModel):
    id: str
    name: str
    builtin: bool = False
    latest_version: int
    active_version: int | None
    document: dict[str, Any] = Field(description="the active version, else the latest")


class PolicyList(BaseModel):
    items: list[PolicyOut]


class PolicyDetail(PolicyOut):
    versions: list[PolicyVersionOut]
