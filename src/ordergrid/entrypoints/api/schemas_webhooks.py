"""Bodies of webhook subscriptions and their deliveries (the secret is never returned)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ordergrid.entrypoints.api.schemas import Body

EventFilter = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.*]+$")]
DeliveryStatusName = Literal["pending", "delivered", "failed", "dead"]


class WebhookIn(Body):
    url: str = Field(min_length=1, max_length=2048, description="http(s) URL of the receiver")
    events: list[EventFilter] = Field(
        min_length=1,
        max_length=64,
        description="event types, or prefix wildcards such as `order.*`, or `*`",
    )
    secret: str = Field(
        min_length=8, max_length=256, description="key of the HMAC-SHA256 signature"
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: DeliveryStatusName
    attempts: int
    last_error: str | None = None
    next_attempt_at: datetime | None = Field(None, description="when it is tried next")
    created_at: datetime
    delivered_at: datetime | None = None


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None
