"""Domain events: facts recorded in the outbox with the state change that caused them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: dict[str, Any] = field(default_factory=dict)
    order_id: str | None = None
    actor: str | None = None
