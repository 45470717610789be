"""Bodies of the exception queue: the cases, and a person's actions on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ordergrid.entrypoints.api.schemas import Body, Id, OrderOut

CaseStatusName = Literal["open", "resolved"]


class ExceptionOut(BaseModel):
    id: str
    order_id: str
    channel: str
    status: CaseStatusName
    reason: str = Field(description="why the engine stopped (attempts_exhausted, …)")
    resolution: str | None = Field(None, description="placed, retried, rerouted, cancelled")
    locations: list[str] = Field(description="locations that failed the order")
    history: list[dict[str, Any]] = Field(description="what happened, oldest first")
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None


class ExceptionList(BaseModel):
    items: list[ExceptionOut]
    next_cursor: str | None = None


class ExceptionActionOut(BaseModel):
    exception: ExceptionOut
    order: OrderOut


class RerouteIn(Body):
    location_id: Id = Field(description="where every waiting unit goes")


class CaseCancelIn(Body):
    reason: str | None = Field(None, max_length=256)
