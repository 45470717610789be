"""The `lifecycle` section of a routing policy: deadlines, failure actions, attempt limit,
click & collect choice and rule-based holds, validated field by field."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from ordergrid.domain.lifecycle_rules import REASON_CODES, FailureAction, PickupChoice
from ordergrid.entrypoints.api.schemas import Body, Tag

#: Up to 90 days; null switches the deadline off.
Minutes = Annotated[float, Field(gt=0, le=129_600)]
ReasonCode = Literal[
    "no_stock",
    "damaged",
    "capacity",
    "closed",
    "other",
    "short_pick",
    "acceptance_expired",
    "pick_expired",
    "location_paused",
    "location_closed",
    "stock_discrepancy",
    "cancelled_by_location",
]
DeadlineScope = Literal["default", "dc", "store", "dark_store", "3pl", "dropship", "marketplace"]
ActionName = Literal["resource", "resource_zero_stock", "hold"]
PickupChoiceName = Literal["nearby_store", "home_delivery", "cancel", "hold"]

# The document names exactly what the domain knows.
assert set(get_args(ReasonCode)) == set(REASON_CODES)
assert set(get_args(ActionName)) == {a.value for a in FailureAction}
assert set(get_args(PickupChoiceName)) == {c.value for c in PickupChoice}


class DeadlinesDoc(Body):
    """Minutes a location has for each step; an absent key inherits (from `default`, then
    from the built-in 240 / 1440 / 4320), null means no deadline."""

    accept_minutes: Minutes | None = Field(None, description="from release to acceptance")
    pick_minutes: Minutes | None = Field(None, description="from acceptance to pick")
    pickup_window_minutes: Minutes | None = Field(
        None, description="from ready-for-pickup to collection; then the units are cancelled"
    )


class HoldRulesDoc(Body):
    max_order_value: Decimal | None = Field(
        None, ge=0, le=Decimal("1e9"), max_digits=14, decimal_places=4
    )
    order_tags: list[Tag] = Field(default_factory=list, max_length=50)


class LifecycleDoc(Body):
    """What happens after release: deadlines per location type, what each failure leads
    to, how often an order is re-sourced before a person looks at it, what a failed click
    & collect becomes, and which orders wait on hold."""

    deadlines: dict[DeadlineScope, DeadlinesDoc] = Field(default_factory=dict)
    actions: dict[ReasonCode, ActionName] = Field(
        default_factory=dict,
        description="reason code -> action; absent codes: no_stock and short_pick "
        "resource_zero_stock, every other resource",
    )
    max_attempts: int = Field(3, ge=0, le=100, description="automatic re-sourcings per order")
    pickup_failure: PickupChoiceName = Field(
        "cancel", description="a click & collect store cannot serve the order"
    )
    nearby_store_km: float = Field(25.0, gt=0, le=1000)
    holds: HoldRulesDoc = Field(
        default_factory=lambda: HoldRulesDoc(order_tags=["fraud_review"]),
        description="orders above the value, or carrying any tag, wait on hold",
    )

    def stored(self) -> dict[str, Any]:
        """Only the keys given: an absent deadline inherits, a null one is switched off."""
        return self.model_dump(mode="json", exclude_unset=True)
