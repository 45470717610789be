"""When the store a customer collects from cannot serve the order, the policy chooses:
another store nearby, home delivery, cancelling with notice, or a person. A pick-up is
never moved to another store unless the policy says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ordergrid.domain import lifecycle
from ordergrid.domain.cancellation import cancel
from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.exception_queue import CaseReason
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.geo import great_circle_km
from ordergrid.domain.lifecycle_rules import LifecycleRules, PickupChoice
from ordergrid.domain.network import Address, Capability, Location
from ordergrid.domain.orders import Delivery, DeliveryMethod, Order
from ordergrid.service.commands import SYSTEM
from ordergrid.service.context import Context
from ordergrid.service.escalation import hold_for_person
from ordergrid.service.network import locate
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.sourcing import source_order
from ordergrid.service.stock import apply_movements
from ordergrid.service.trial import covers, trial


def handle(
    uow: UnitOfWork,
    order: Order,
    rules: LifecycleRules,
    reason: str,
    ctx: Context,
    now: datetime,
) -> None:
    choice = rules.pickup_failure
    store = order.delivery.pickup_location_id
    if choice is PickupChoice.HOLD:
        hold_for_person(uow, order, reason, ctx, now, store=store)
    elif choice is PickupChoice.CANCEL:
        _cancel(uow, order, reason, now)
    elif choice is PickupChoice.HOME_DELIVERY:
        _deliver_home(uow, order, reason, ctx, now)
    else:
        _move_to_nearby_store(uow, order, rules, reason, ctx, now)


def _announce(order: Order, choice: PickupChoice, reason: str, **detail: Any) -> None:
    """Webhooks tell the shop, which tells the customer."""
    order.record(
        "order.pickup_failed",
        SYSTEM.name,
        store=order.delivery.pickup_location_id,
        choice=choice.value,
        reason=reason,
        notify_customer=True,
        **detail,
    )


def _cancel(uow: UnitOfWork, order: Order, reason: str, now: datetime) -> None:
    waiting = order.to_source()
    _announce(order, PickupChoice.CANCEL, reason, lines=waiting)
    freed = cancel(order, waiting, "pickup_store_failed", now, SYSTEM.name)
    apply_movements(uow, freed, now, SYSTEM.name)


def _home_address(order: Order, ctx: Context) -> Address | None:
    """The customer's address given with the order (`customer.address`), located."""
    doc = order.customer.get("address")
    if not isinstance(doc, dict):
        return None
    fields = {k: doc.get(k) for k in ("line1", "line2", "city", "region", "postal_code", "country")}
    try:
        lat, lon = doc.get("lat"), doc.get("lon")
        address = Address(
            **{k: None if v is None else str(v) for k, v in fields.items()},
            lat=None if lat is None else float(lat),
            lon=None if lon is None else float(lon),
        )
        return locate(ctx, address, "customer.address")
    except (InvalidInput, TypeError, ValueError):
        return None


def _deliver_home(uow: UnitOfWork, order: Order, reason: str, ctx: Context, now: datetime) -> None:
    address = _home_address(order, ctx)
    if address is None:
        hold_for_person(uow, order, CaseReason.NO_DELIVERY_ADDRESS.value, ctx, now, after=reason)
        return
    _announce(order, PickupChoice.HOME_DELIVERY, reason)
    order.delivery = Delivery(DeliveryMethod.SHIP, order.delivery.service_level, address)
    source_order(uow, order, ctx, now, SYSTEM.name, reason)


def _nearby(uow: UnitOfWork, order: Order, rules: LifecycleRules) -> list[tuple[float, Location]]:
    origin = uow.locations.get(order.delivery.pickup_location_id or "")
    if origin is None:
        return []
    needed = Capability(order.delivery.method.value)
    found = [
        (great_circle_km(origin.lat, origin.lon, loc.lat, loc.lon), loc)
        for loc in uow.locations.all()
        if loc.usable
        and needed in loc.capabilities
        and loc.id != origin.id
        and loc.id not in order.excluded_locations
    ]
    return sorted((km, loc) for km, loc in found if km <= rules.nearby_store_km)


def _gather_at_one_store(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """The customer collects everything at one store: work still open at the failed one
    is withdrawn and moves along."""
    movements = []
    for f in order.fulfilments:
        if f.is_open:
            movements += lifecycle.give_back(
                order, f.id, FulfilmentStatus.CANCELLED, "pickup_moved", now, SYSTEM.name
            )
    apply_movements(uow, movements, now, SYSTEM.name)


def _move_to_nearby_store(
    uow: UnitOfWork,
    order: Order,
    rules: LifecycleRules,
    reason: str,
    ctx: Context,
    now: datetime,
) -> None:
    _gather_at_one_store(uow, order, now)
    original = order.delivery
    for km, store in _nearby(uow, order, rules):
        order.delivery = replace(original, pickup_location_id=store.id)
        if covers(trial(uow, order, now), order):
            order.delivery = original
            _announce(order, PickupChoice.NEARBY_STORE, reason, to=store.id, km=round(km, 1))
            order.delivery = replace(original, pickup_location_id=store.id)
            source_order(uow, order, ctx, now, SYSTEM.name, reason)
            return
    order.delivery = original
    hold_for_person(uow, order, CaseReason.NO_NEARBY_STORE.value, ctx, now, after=reason)
