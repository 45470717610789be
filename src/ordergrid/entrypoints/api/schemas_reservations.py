"""Bodies of cart reservations: stock held during checkout until it expires."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ordergrid.entrypoints.api.schemas import AddressIn, Body, Id, Quantity

ReservationStatusName = Literal["active", "released", "expired", "converted"]


class ReservationLineIn(Body):
    sku: Id
    quantity: Quantity


class ReservationIn(Body):
    channel: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._\-]+$")]
    lines: list[ReservationLineIn] = Field(min_length=1, max_length=500)
    ttl_seconds: int | None = Field(
        None,
        strict=True,
        ge=1,
        description="how long to hold; the server's default when omitted, at most its maximum",
    )
    external_id: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="the shop's cart id: posting it again on the channel returns the same hold",
    )
    destination: AddressIn | None = Field(
        None, description="where the cart would ship: chooses the holding locations"
    )
    pickup_location_id: Id | None = Field(
        None, description="the store the customer collects at: the units are held there"
    )


class ExtendIn(Body):
    ttl_seconds: int | None = Field(
        None, strict=True, ge=1, description="hold this long from now (default TTL when omitted)"
    )


class HoldOut(BaseModel):
    location_id: str
    quantity: int


class ReservationLineOut(BaseModel):
    sku: str
    quantity: int
    held: list[HoldOut]


class ReservationOut(BaseModel):
    id: str
    status: ReservationStatusName
    channel: str
    external_id: str | None = None
    expires_at: datetime
    expires_at_limit: datetime = Field(description="no extension holds past this")
    lines: list[ReservationLineOut]
    destination: dict[str, Any] = Field(default_factory=dict)
    pickup_location_id: str | None = None
    order_id: str | None = Field(None, description="the order that converted it")
    created_at: datetime
    updated_at: datetime


class ReservationList(BaseModel):
    items: list[ReservationOut]
    next_cursor: str | None = None
