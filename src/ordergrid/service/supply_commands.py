"""Commands on future supply, already parsed at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ordergrid.service.commands import SYSTEM, Actor


@dataclass(frozen=True, slots=True)
class PutSupply:
    """Create a supply document, or replace it while nothing of it has arrived."""

    supply_id: str
    kind: str
    location_id: str
    expected_at: datetime
    lines: tuple[tuple[str, int], ...]  # (sku, quantity expected)
    origin: str | None = None
    reference: str | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class ReceiveSupply:
    """Units of a document arrived; `receipt_id` makes the receipt apply once."""

    supply_id: str
    receipt_id: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity received)
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class CancelSupply:
    """What is still expected will not come; its pegs are released."""

    supply_id: str
    reason: str | None = None
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class DispatchSupply:
    """A transfer left its origin; `lines` (sku, units sent) names lines that left
    short, None sends everything."""

    supply_id: str
    carrier: str | None = None
    tracking_number: str | None = None
    lines: tuple[tuple[str, int], ...] | None = None
    reason: str | None = None  # why lines left short, as the origin says it
    actor: Actor = SYSTEM


@dataclass(frozen=True, slots=True)
class RejectTransfer:
    """The origin will not send a transfer it has not dispatched."""

    supply_id: str
    reason: str | None = None
    actor: Actor = SYSTEM
