"""Per-channel settings: when a change of sellable stock is worth telling the channel."""

from __future__ import annotations

from dataclasses import dataclass

from ordergrid.domain.errors import InvalidInput

#: How far from the customer a pick-up store is offered when the request does not say.
DEFAULT_PICKUP_RADIUS_KM = 50.0


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    channel: str
    #: Sellable quantities (ascending) whose crossing, by any SKU's network availability
    #: for this channel, emits `availability.changed`; empty: the channel is not watched.
    availability_thresholds: tuple[int, ...] = ()
    pickup_radius_km: float = DEFAULT_PICKUP_RADIUS_KM

    def __post_init__(self) -> None:
        t = self.availability_thresholds
        if any(q < 0 for q in t) or list(t) != sorted(set(t)):
            raise InvalidInput(
                "thresholds are distinct quantities of 0 or more, ascending",
                code="invalid_thresholds",
                field="availability_thresholds",
            )
        if not 0 < self.pickup_radius_km <= 1000:
            raise InvalidInput(
                "pick-up radius must be in (0, 1000] km",
                code="invalid_radius",
                field="pickup_radius_km",
            )
