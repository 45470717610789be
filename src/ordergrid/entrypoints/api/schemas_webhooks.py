"""Bodies of webhook subscriptions and their deliveries (the secret is never returned)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from ordergrid.entrypoints.api.schemas import ID_PATTERN, Body
from ordergrid.service.webhook_replay import DEFAULT_REPLAY, MAX_REPLAY

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
    replay_id: str | None = Field(None, description="the replay that queued it; none if live")


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None


class ReplayIn(Body):
    """Where the replay starts: `from_event_id` or `since`, exactly one."""

    from_event_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=ID_PATTERN,
        description="replay from this event (included) on, in outbox order",
    )
    since: AwareDatetime | None = Field(
        None, description="replay the events written at or after this time"
    )
    until: AwareDatetime | None = Field(
        None,
        description="only events written before this time; default: up to the deliveries "
        "the worker has queued (later events arrive anyway)",
    )
    limit: int = Field(
        DEFAULT_REPLAY, ge=1, le=MAX_REPLAY, description="most events this call queues"
    )

    @field_validator("since", "until")
    @classmethod
    def _in_range(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        try:
            return None if value is None else value.astimezone(UTC)
        except OverflowError as exc:
            raise PydanticCustomError(
                "datetime_out_of_range", "{field} is out of range", {"field": info.field_name}
            ) from exc


class ReplayOut(BaseModel):
    replay_id: str = Field(description="names the replayed deliveries (the Idempotency-Key)")
    webhook_id: str
    queued: int = Field(description="events of the range queued for delivery")
    first_event_id: str | None = None
    last_event_id: str | None = Field(
        None, description="the last event queued: the range is covered up to it"
    )
    last_event_at: datetime | None = None
    next_event_id: str | None = Field(
        None, description="when `limit` stopped the replay: continue with this from_event_id"
    )
    complete: bool = Field(description="every event of the range is queued")
