"""Request and response bodies of the HTTP contract (pydantic lives here, not in the domain)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ordergrid.domain.stock_counts import SnapshotMode
from ordergrid.entrypoints.api.schemas_calendar import CalendarIn

ID_PATTERN = r"^[A-Za-z0-9._:\-]+$"
#: Free text in query strings: anything but control characters.
QUERY_TEXT = r"^[^\x00-\x1f]*$"
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=ID_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=512)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
Count = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
LocationType = Literal["dc", "store", "dark_store", "3pl", "dropship", "marketplace"]
CapabilityName = Literal["ship", "pickup", "same_day", "curbside", "returns"]
LocationStatus = Literal["active", "paused", "closed"]
AdjustmentReason = Literal["receipt", "adjustment", "write_off", "damaged", "return", "cycle_count"]
RejectReason = Literal["no_stock", "damaged", "capacity", "closed", "other"]
OrderStatusName = Literal[
    "received",
    "on_hold",
    "allocated",
    "partially_allocated",
    "backordered",
    "in_progress",
    "partially_shipped",
    "shipped",
    "ready_for_pickup",
    "completed",
    "cancelled",
]
FulfilmentStatusName = Literal[
    "released",
    "accepted",
    "picked",
    "shipped",
    "ready_for_pickup",
    "collected",
    "rejected",
    "expired",
    "cancelled",
]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


MAX_JSON_DEPTH = 16


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # Databases refuse NUL in text (PostgreSQL); no identifier or name needs it.
        if _has_nul(value):
            raise PydanticCustomError("nul_character", "text may not contain NUL characters")
        if isinstance(value, dict | list) and _depth(value) > MAX_JSON_DEPTH:
            raise PydanticCustomError(
                "too_deep",
                "free-form JSON may nest at most {limit} levels",
                {"limit": MAX_JSON_DEPTH},
            )
        return value


class AddressIn(Body):
    line1: str | None = Field(None, max_length=256)
    line2: str | None = Field(None, max_length=256)
    city: str | None = Field(None, max_length=128)
    region: str | None = Field(None, max_length=128)
    postal_code: str | None = Field(None, max_length=32)
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class CapacityIn(Body):
    orders_per_day: Count | None = None
    units_per_day: Count | None = None


class LocationIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=256)]
    type: LocationType
    address: AddressIn
    capabilities: list[CapabilityName] = Field(default_factory=list, max_length=5)
    capacity: CapacityIn = Field(default_factory=CapacityIn)
    status: LocationStatus = "active"
    handling_cost: float = Field(0.0, ge=0, le=1_000_000)
    tags: list[Tag] = Field(default_factory=list, max_length=64)
    channels: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list,
        max_length=100,
        description="channels this location may serve; empty: every channel",
    )
    cutoff_utc: time | None = Field(
        None, description="orders in before this time of day (UTC) leave the same day"
    )
    calendar: CalendarIn | None = Field(
        None, description="time zone, opening hours, holidays, per-service cut-offs (local)"
    )


class LocationOut(BaseModel):
    id: str
    name: str
    type: str
    address: dict[str, Any]
    capabilities: list[str]
    capacity: dict[str, int | None]
    status: str
    handling_cost: float
    tags: list[str]
    channels: list[str]
    cutoff_utc: str | None = None
    calendar: dict[str, Any] | None = None


class LocationList(BaseModel):
    items: list[LocationOut]


class ProductIn(Body):
    name: Text
    weight_kg: float | None = Field(None, ge=0, le=100_000)
    tags: list[Tag] = Field(default_factory=list, max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict)


class ProductItemIn(ProductIn):
    sku: Id


class ProductBatchIn(Body):
    products: list[ProductItemIn] = Field(min_length=1, max_length=10_000)


class ProductOut(BaseModel):
    sku: str
    name: str
    weight_kg: float | None
    tags: list[str]
    attributes: dict[str, Any]


class ProductList(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None = None


class AdjustmentIn(Body):
    id: Annotated[str, Field(min_length=1, max_length=256)]
    location_id: Id
    sku: Id
    delta: Annotated[int, Field(strict=True, ge=-100_000_000, le=100_000_000)]
    reason: AdjustmentReason = "adjustment"


class AdjustmentsIn(Body):
    adjustments: list[AdjustmentIn] = Field(min_length=1, max_length=10_000)


class SnapshotItemIn(Body):
    sku: Id
    on_hand: Count


class SnapshotIn(Body):
    location_id: Id
    as_of: AwareDatetime
    items: list[SnapshotItemIn] = Field(min_length=1, max_length=100_000)
    mode: SnapshotMode = Field(
        SnapshotMode.PARTIAL,
        description="full: every other position at the location was counted as zero",
    )

    @field_validator("as_of")
    @classmethod
    def _in_range(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise PydanticCustomError("datetime_out_of_range", "as_of is out of range") from exc


class PositionOut(BaseModel):
    location_id: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int


class FeedOut(BaseModel):
    positions: list[PositionOut]
    skipped: list[dict[str, str]] = Field(
        default_factory=list, description="items not applied: already applied or stale"
    )


class InventoryOut(BaseModel):
    sku: str
    positions: list[PositionOut]


class LedgerEntryOut(BaseModel):
    id: int
    location_id: str
    sku: str
    at: datetime
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    on_hand_before: int
    reserved_before: int
    reason: str
    ref: str | None
    actor: str | None
    details: dict[str, Any]


class LedgerOut(BaseModel):
    items: list[LedgerEntryOut]
    next_cursor: str | None


class DeliveryPromiseIn(Body):
    earliest: AwareDatetime | None = None
    latest: AwareDatetime = Field(description="the day delivery was promised by")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.earliest is not None and self.earliest > self.latest:
            raise PydanticCustomError("earliest_after_latest", "earliest is after latest")
        return self


class DeliveryIn(Body):
    method: Literal["ship", "same_day", "pickup", "curbside"]
    service_level: Literal["standard", "express", "next_day"] = "standard"
    address: AddressIn | None = None
    pickup_location_id: Id | None = None
    promise: DeliveryPromiseIn | None = Field(
        None, description="the promise option the shop showed: sourcing tries to keep it"
    )


class LineIn(Body):
    line_id: Annotated[str, Field(min_length=1, max_length=128)]
    sku: Id
    quantity: Quantity
    unit_price: Decimal | None = Field(
        None, ge=0, le=Decimal("1e9"), max_digits=14, decimal_places=4
    )


class OrderIn(Body):
    external_id: Annotated[str, Field(min_length=1, max_length=256)]
    channel: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._\-]+$")]
    customer: dict[str, Any] = Field(
        default_factory=dict, description='free-form; `"segment"` is used by policy selectors'
    )
    delivery: DeliveryIn
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    tags: list[Tag] = Field(
        default_factory=list, max_length=50, description="e.g. gift, vip, fraud_review"
    )
    reservation_id: Id | None = Field(
        None,
        description="the cart reservation this order completes: its held units become the "
        "order's; a lapsed one is noted on the timeline and the order is sourced as usual",
    )


#: Money leaves as a JSON number (the contract), kept exact as a Decimal inside.
MoneyOut = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class LineOut(BaseModel):
    line_id: str
    sku: str
    quantity: int
    unit_price: MoneyOut | None = None
    allocated: int
    backordered: int
    shipped: int
    cancelled: int


class FulfilmentLineOut(BaseModel):
    line_id: str
    sku: str
    quantity: int
    short: int = 0
    cancelled: int = 0


class ParcelOut(BaseModel):
    carrier: str
    tracking_number: str | None


class FulfilmentOut(BaseModel):
    id: str
    order_id: str
    location_id: str
    status: str
    delivery_method: str
    lines: list[FulfilmentLineOut]
    parcels: list[ParcelOut]
    reason: str | None
    created_at: datetime
    updated_at: datetime


class FulfilmentList(BaseModel):
    items: list[FulfilmentOut]
    next_cursor: str | None = None


class PegOut(BaseModel):
    """Back-ordered units of a line promised from supply on its way."""

    supply_id: str
    line_id: str
    sku: str
    quantity: int
    location_id: str | None = Field(None, description="where the supply arrives")
    expected_at: datetime | None = Field(None, description="when the supply is expected")


class OrderOut(BaseModel):
    id: str
    external_id: str
    channel: str
    status: str
    on_hold: bool
    customer: dict[str, Any]
    tags: list[str]
    delivery: dict[str, Any]
    lines: list[LineOut]
    fulfilments: list[FulfilmentOut]
    exception_id: str | None = Field(
        None, description="the open case of the exception queue, if the order waits for a person"
    )
    pegs: list[PegOut] = Field(
        default_factory=list,
        description="back-ordered units waiting for future supply (still counted as "
        "backordered); shown on the single-order representation",
    )
    created_at: datetime
    updated_at: datetime


class OrderList(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = None


class CancelLineIn(Body):
    line_id: Annotated[str, Field(min_length=1, max_length=128)]
    quantity: Quantity


class CancelIn(Body):
    reason: str | None = Field(None, max_length=256)
    lines: list[CancelLineIn] | None = Field(None, min_length=1, max_length=500)


class HoldIn(Body):
    reason: str | None = Field(None, max_length=256)


class EventOut(BaseModel):
    id: str
    type: str
    at: datetime
    actor: str | None
    data: dict[str, Any]


class DecisionOut(BaseModel):
    id: str
    at: datetime
    explanation: dict[str, Any]


class RejectIn(Body):
    reason: RejectReason = "other"


class PickLineIn(Body):
    line_id: Annotated[str, Field(min_length=1, max_length=128)]
    picked: Count


class PickIn(Body):
    lines: list[PickLineIn] = Field(default_factory=list, max_length=500)


class ParcelIn(Body):
    carrier: Annotated[str, Field(min_length=1, max_length=64)]
    tracking_number: str | None = Field(None, max_length=128)


class ShipIn(Body):
    carrier: str | None = Field(None, min_length=1, max_length=64)
    tracking_number: str | None = Field(None, max_length=128)
    parcels: list[ParcelIn] = Field(default_factory=list, max_length=100)


class CancelFulfilmentIn(Body):
    reason: str | None = Field(None, max_length=256)


class TokenIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Literal["admin", "integrator", "associate", "viewer"]
    channels: list[Id] = Field(default_factory=list, max_length=100)
    locations: list[Id] = Field(default_factory=list, max_length=10_000)


class TokenOut(BaseModel):
    id: str
    name: str
    role: str
    channels: list[str]
    locations: list[str]
    created_at: datetime
    token: str | None = Field(None, description="the secret; shown only when created")
