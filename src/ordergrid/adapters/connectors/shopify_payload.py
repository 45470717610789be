"""The part of Shopify's order webhook bodies that ordergrid reads, validated.

Shopify sends the REST Admin API's Order resource; only the fields below are read and every
other one is ignored, so new fields in later API versions change nothing. Bad input is
refused naming the field as a path in Shopify's own document (`line_items[2].quantity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ordergrid.domain.errors import InvalidInput

#: Shopify's ids are 64-bit integers.
ShopifyId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ShopifyAddress(_Read):
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country_code: str | None = Field(None, min_length=2, max_length=2)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class ShopifyLineItem(_Read):
    id: ShopifyId
    sku: str | None = Field(None, max_length=255)
    quantity: int = Field(ge=1, le=1_000_000)
    #: Units still to fulfil: less than `quantity` when some were handed over at the till.
    fulfillable_quantity: int | None = Field(None, ge=0, le=1_000_000)
    price: Decimal = Field(ge=0, le=Decimal("1e9"), max_digits=14, decimal_places=4)
    requires_shipping: bool = True
    gift_card: bool = False
    fulfillment_service: str | None = None

    @property
    def units(self) -> int:
        """What is left to fulfil (Shopify omits it only for trimmed payloads)."""
        return self.quantity if self.fulfillable_quantity is None else self.fulfillable_quantity


class ShopifyShippingLine(_Read):
    code: str | None = None
    title: str | None = None
    source: str | None = None


class ShopifyCustomer(_Read):
    id: ShopifyId | None = None
    email: str | None = None


class ShopifyOrder(_Read):
    id: ShopifyId
    name: str | None = None
    email: str | None = None
    currency: str | None = None
    test: bool = False
    cancelled_at: datetime | None = None
    #: customer, fraud, inventory, declined, staff or other (`orders/cancelled`).
    cancel_reason: str | None = Field(None, max_length=64)
    source_name: str | None = None
    #: The Shopify location (a POS till) where the order was placed, if any.
    location_id: ShopifyId | None = None
    #: Comma-separated, as Shopify stores them.
    tags: str | None = None
    customer: ShopifyCustomer | None = None
    shipping_address: ShopifyAddress | None = None
    shipping_lines: list[ShopifyShippingLine] = Field(default_factory=list)
    line_items: list[ShopifyLineItem]


def field_path(loc: Sequence[int | str]) -> str:
    """("line_items", 2, "quantity") -> "line_items[2].quantity"; the document itself: "body"."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path or "body"


def parse_order(body: bytes) -> ShopifyOrder:
    """The order in a webhook body; `InvalidInput` (`validation_error`) names each bad field."""
    try:
        return ShopifyOrder.model_validate_json(body)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [
            {
                "field": "body" if e["type"] == "json_invalid" else field_path(e["loc"]),
                "code": e["type"],
                "message": e["msg"],
            }
            for e in exc.errors(include_url=False)
        ]
        first = errors[0]
        raise InvalidInput(
            f"{first['field']}: {first['message']}",
            code="validation_error",
            field=first["field"],
            errors=errors,
        ) from None
