"""Request and response bodies of stock rules, channels and channel availability."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ordergrid.entrypoints.api.schemas import Body, Id

LocationTypeName = Literal["dc", "store", "dark_store", "3pl", "dropship", "marketplace"]


class ScopeIn(Body):
    channel: Id | None = None
    location_id: Id | None = None
    location_type: LocationTypeName | None = None
    sku: Id | None = None
    sku_tag: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class StockRuleIn(Body):
    kind: Literal["safety_stock", "channel_fence"]
    scope: ScopeIn = Field(default_factory=ScopeIn)
    quantity: Annotated[int, Field(ge=0, le=1_000_000_000)] | None = None
    share: Annotated[float, Field(gt=0, le=1)] | None = None


class StockRuleOut(BaseModel):
    id: str
    kind: str
    scope: dict[str, str | None]
    quantity: int | None
    share: float | None


class StockRuleList(BaseModel):
    items: list[StockRuleOut]


class ChannelIn(Body):
    availability_thresholds: Annotated[
        list[Annotated[int, Field(ge=0, le=1_000_000_000)]], Field(max_length=32)
    ] = Field(default_factory=list)
    pickup_radius_km: Annotated[float, Field(gt=0, le=1000)] = 50.0


class ChannelOut(BaseModel):
    channel: str
    availability_thresholds: list[int]
    pickup_radius_km: float


class ChannelList(BaseModel):
    items: list[ChannelOut]


class PickupOut(BaseModel):
    location_id: str
    available: int
    distance_km: float | None = None


class AvailabilityItemOut(BaseModel):
    sku: str
    available: int = Field(description="sellable for delivery by this channel, network-wide")
    locations: int = Field(description="locations that may ship it and hold some")
    pickup: list[PickupOut]


class AvailabilityOut(BaseModel):
    channel: str
    items: list[AvailabilityItemOut]
