"""Request and response bodies of `POST /v1/promise`, and the `promise` section of
policy documents and the `calendar` of locations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ordergrid.entrypoints.api.schemas import Body, Id, Quantity
from ordergrid.entrypoints.api.schemas_calendar import (
    ClockTime,
    ServiceName,
    Weekday,
    check_timezone,
)

LocationTypeName = Literal["dc", "store", "dark_store", "3pl", "dropship", "marketplace"]
Hours = Annotated[float, Field(ge=0, le=24 * 30)]


class PromiseLineIn(Body):
    sku: Id
    quantity: Quantity
    unit_price: Decimal | None = Field(
        None,
        ge=0,
        le=Decimal("1e9"),
        max_digits=14,
        decimal_places=4,
        description="optional: lets policies select by order value",
    )


class DestinationIn(Body):
    postal_code: str | None = Field(None, min_length=1, max_length=32)
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    timezone: str | None = Field(
        None, max_length=64, description="IANA zone of the customer: delivery dates are in it"
    )
    region: str | None = Field(
        None,
        pattern=r"^([A-Za-z]{2}-)?[A-Za-z0-9]{1,3}$",
        description="state or province (ISO 3166-2, `CA` or `US-CA`): its carrier holidays",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_timezone(value)


class PromiseIn(Body):
    channel: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._\-]+$")]
    lines: list[PromiseLineIn] = Field(min_length=1, max_length=100)
    destination: DestinationIn


class PromiseShipmentOut(BaseModel):
    location_id: str
    units: int
    distance_km: float | None
    ships_on: date
    earliest: datetime
    latest: datetime


class PromiseOptionOut(BaseModel):
    method: str
    service_level: str
    available: bool
    earliest: datetime | None = None
    latest: datetime | None = None
    cost: float | None = None
    reason: str | None = Field(None, description="why not available (stable code)")
    detail: str | None = None
    policy_id: str
    shipments: list[PromiseShipmentOut] = Field(default_factory=list)


class PickupOut(BaseModel):
    location_id: str
    name: str
    method: str = Field(description="pickup | curbside")
    available: bool
    ready_by: datetime | None = None
    ready_in_minutes: int | None = None
    mode: str | None = Field(None, description="now | after_transfer")
    transfer_from: list[str] = Field(default_factory=list)
    distance_km: float
    reason: str | None = None
    detail: str | None = None
    policy_id: str


class PromiseOut(BaseModel):
    options: list[PromiseOptionOut]
    pickup: list[PickupOut]
    quoted_at: datetime
    destination: dict[str, float]


class TransitBandIn(Body):
    max_km: float | None = Field(None, gt=0, description="none: any distance (last band)")
    min_days: Annotated[int, Field(ge=0, le=60)]
    max_days: Annotated[int, Field(ge=0, le=60)]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max_days < self.min_days:
            raise PydanticCustomError("max_below_min", "max_days must be at least min_days")
        return self


class PromiseRulesDoc(Body):
    """The `promise` section of a routing policy (every key optional)."""

    transit: dict[Literal["standard", "express", "next_day", "same_day"], list[TransitBandIn]] = (
        Field(default_factory=dict, description="carrier transit days by distance band")
    )
    processing_hours: dict[LocationTypeName, Hours] = Field(default_factory=dict)
    carrier_days: list[Weekday] | None = Field(None, min_length=1, max_length=7)
    delivery_by: ClockTime | None = None
    pickup_radius_km: float | None = Field(None, gt=0, le=1000)
    pickup_locations: int | None = Field(None, ge=1, le=50)
    ready_hours: dict[Literal["pickup", "curbside"], Hours] = Field(default_factory=dict)
    transfer_service: Literal["standard", "express", "next_day"] | None = None
    pickup_transfers: bool | None = Field(
        None,
        description="send a pick-up store the units it lacks by transfer (quotes and orders)",
    )
    delivery_days: dict[
        Literal["standard", "express", "next_day", "same_day"],
        Annotated[list[Weekday], Field(min_length=1, max_length=7)],
    ] = Field(
        default_factory=dict,
        description="weekdays the carrier delivers per service (others: carrier_days)",
    )
    carrier_holidays: dict[
        Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")],
        Literal["us_federal"] | Annotated[list[date], Field(max_length=1000)],
    ] = Field(
        default_factory=dict,
        max_length=300,
        description="non-delivery dates per destination country (`US`) or region "
        "(`US-CA`), or a built-in rule set (`us_federal`); replaces that key's default",
    )
    offer: list[ServiceName] | None = Field(None, max_length=6)
    broken_promise_penalty: float | None = Field(None, ge=0, le=1_000_000)
    time_budget_ms: int | None = Field(
        None, ge=1, le=10_000, description="exact solver time a quote allows a large cart"
    )

    @field_validator("transit")
    @classmethod
    def _ascending(cls, value: dict[str, list[TransitBandIn]]) -> dict[str, list[TransitBandIn]]:
        for bands in value.values():
            if not bands:
                raise PydanticCustomError("empty_table", "a transit table needs a band")
            limits = [b.max_km for b in bands]
            if any(x is None for x in limits[:-1]):
                raise PydanticCustomError("unbounded_band", "only the last band may omit max_km")
            bounded = [x for x in limits if x is not None]
            if bounded != sorted(bounded) or len(set(bounded)) != len(bounded):
                raise PydanticCustomError("not_ascending", "bands must be ascending by max_km")
        return value
