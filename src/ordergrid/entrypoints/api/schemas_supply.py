"""Bodies of supply documents (purchase orders, transfers, ASNs) and their receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from ordergrid.entrypoints.api.schemas import Body, Id, PegOut, Quantity

SupplyKindName = Literal["purchase_order", "transfer", "asn"]
SupplyStatusName = Literal["open", "in_transit", "partially_received", "received", "cancelled"]


class SupplyLineIn(Body):
    sku: Id
    quantity: Quantity = Field(description="units expected")


class SupplyIn(Body):
    kind: SupplyKindName
    location_id: Id = Field(description="the receiving location")
    expected_at: AwareDatetime = Field(description="when the units are expected to arrive")
    origin: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="supplier; for a transfer, required: the location the units leave",
    )
    reference: str | None = Field(
        None, min_length=1, max_length=256, description="the sender's document number"
    )
    lines: list[SupplyLineIn] = Field(min_length=1, max_length=1000)


class ReceiptLineIn(Body):
    sku: Id
    quantity: Quantity = Field(description="units received")


class ReceiptIn(Body):
    id: Id = Field(description="receipt id: a receipt applies once")
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=1000)


class DispatchLineIn(Body):
    sku: Id
    quantity: int = Field(
        strict=True, ge=0, le=1_000_000, description="units that left; 0: none of the line"
    )


class DispatchIn(Body):
    carrier: str | None = Field(None, min_length=1, max_length=128)
    tracking_number: str | None = Field(None, min_length=1, max_length=256)
    lines: list[DispatchLineIn] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="lines that left short (units sent); a line not listed leaves whole, "
        "and without lines the whole transfer leaves",
    )
    reason: str | None = Field(
        None, min_length=1, max_length=512, description="why lines left short"
    )


class SupplyCancelIn(Body):
    reason: str | None = Field(None, min_length=1, max_length=512)


class SupplyLineOut(BaseModel):
    sku: str
    quantity: int
    received: int
    pegged: int = Field(description="units promised to back-orders, still to arrive")
    open: int = Field(description="units still expected")
    held_at_origin: int = Field(0, description="transfer: units reserved at the origin")
    in_transit: int = Field(0, description="transfer: units dispatched, not yet received")


class SupplyPegOut(PegOut):
    order_id: str


class SupplyOut(BaseModel):
    id: str
    kind: SupplyKindName
    location_id: str
    origin: str | None = None
    reference: str | None = None
    expected_at: datetime
    status: SupplyStatusName
    lines: list[SupplyLineOut]
    pegs: list[SupplyPegOut]
    created_at: datetime
    updated_at: datetime
    dispatched_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    order_id: str | None = Field(None, description="the order a transfer was created for")


class SupplyList(BaseModel):
    items: list[SupplyOut]
    next_cursor: str | None = None


class ServedOut(BaseModel):
    order_id: str
    line_id: str
    sku: str
    quantity: int


class ReceiptOut(BaseModel):
    supply: SupplyOut
    replayed: bool = Field(description="the receipt id was already applied: nothing changed")
    served: list[ServedOut] = Field(description="received units allocated to pegged orders")


class ProjectedStepOut(BaseModel):
    at: datetime | None = Field(description="from this time on; null: now (on-hand)")
    available: int


class ProjectionOut(BaseModel):
    location_id: str
    sku: str
    steps: list[ProjectedStepOut]
