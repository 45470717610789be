"""Products and the attributes sourcing cares about."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    weight_kg: float | None = None
    tags: frozenset[str] = field(default_factory=frozenset)
    attributes: dict[str, Any] = field(default_factory=dict, hash=False)
