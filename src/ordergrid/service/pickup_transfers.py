"""Pick-up orders sourced through a transfer: when the pick-up store cannot hand over
every unit and the pick-up policy's `promise.pickup_transfers` allows it (the switch the
promise's `after_transfer` option obeys), the missing units are sourced as a shipment to
the store by the same engine and cost model as that option, reserved at each source by
a transfer document created for the order, and pegged to it. The store's receipt of the
transfer allocates them there (`supply_receipts`), and only then may the order be handed
over. A source that rejects its transfer is excluded and the units are sourced again."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from ordergrid.domain.errors import Conflict, InvalidTransition, NotFound, StockConflict
from ordergrid.domain.events import Event
from ordergrid.domain.network import Location
from ordergrid.domain.orders import DeliveryMethod, Order
from ordergrid.domain.promise.pickup import (
    origins,
    ready_after_arrival,
    transfer_arrivals,
    transfer_request,
)
from ordergrid.domain.sourcing import OrderFacts, Policy, select_policy, source
from ordergrid.domain.sourcing.decision import Allocation, Plan
from ordergrid.domain.sourcing.view import UnitsToPlace
from ordergrid.domain.supply import (
    Peg,
    Supply,
    SupplyKind,
    SupplyLine,
    SupplyStatus,
    Waiting,
    release_all,
)
from ordergrid.service.context import Context
from ordergrid.service.pegging import held_by_line, peg_json, peg_waiting_units
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.sourcing import build_view, policy_for
from ordergrid.service.supply import supply_data
from ordergrid.service.supply_commands import RejectTransfer
from ordergrid.service.tracking import save
from ordergrid.service.transfers import hold_at_origin, release_at_origin

COLLECTED = frozenset({DeliveryMethod.PICKUP, DeliveryMethod.CURBSIDE})


def missing_units(uow: UnitOfWork, order: Order) -> tuple[UnitsToPlace, ...]:
    """Back-ordered units of each line that no supply is bringing yet."""
    held = held_by_line(uow.supply.pegs_of_order(order.id))
    out = []
    for line in order.lines:
        n = line.backordered - held.get(line.line_id, 0)
        if n > 0:
            out.append(UnitsToPlace(line.line_id, line.sku, n))
    return tuple(out)


def _ship_facts(order: Order, store: Location, service: str) -> OrderFacts:
    """What the ship policy sees of a transfer to the store."""
    value = sum(((x.unit_price or Decimal(0)) * x.quantity for x in order.lines), Decimal(0))
    return OrderFacts(
        channel=order.channel,
        method="ship",
        service_level=service,
        country=(store.address.country or "").upper() or None,
        postal_code=store.address.postal_code,
        value=value,
        destination=(store.lat, store.lon),
        region=store.address.region,
    )


def request_pickup_transfers(
    uow: UnitOfWork, order: Order, policy: Policy, ctx: Context, now: datetime, actor: str | None
) -> list[Supply]:
    """Transfer to the pick-up store the units it lacks, when the policy allows and the
    rest of the network can send every one of them; returns the transfers created."""
    store_id = order.delivery.pickup_location_id
    if order.delivery.method not in COLLECTED or store_id is None or order.on_hold:
        return []
    # A store that failed the order is not sent anything for it.
    if not policy.promise.pickup_transfers or store_id in order.excluded_locations:
        return []
    store = uow.locations.get(store_id)
    units = missing_units(uow, order)
    if store is None or not units:
        return []
    plan, ship_policy = _plan(uow, order, store, units, now)
    if plan is None:
        return []
    service = ship_policy.promise.transfer_service
    locations = {loc.id: loc for loc in uow.locations.all()}
    arrivals = transfer_arrivals(origins(plan), locations, store, service, now, ship_policy.promise)
    if arrivals is None:
        return []
    created = [
        _create(uow, order, store, s.location_id, s.allocations, arrivals, ctx, now, actor)
        for s in plan.shipments
    ]
    method = order.delivery.method.value
    ready = ready_after_arrival(store, max(arrivals.values()), method, policy.promise)
    order.pickup_ready_by = (
        ready if order.pickup_ready_by is None else max(ready, order.pickup_ready_by)
    )
    return created


def _plan(
    uow: UnitOfWork, order: Order, store: Location, units: tuple[UnitsToPlace, ...], now: datetime
) -> tuple[Plan | None, Policy]:
    """The engine's plan for the transfer under the ship policy; None unless it places
    every unit (a pick-up is handed over whole, as the promise quotes it)."""
    probe = _ship_facts(order, store, "standard")
    ship_policy = select_policy(uow.policies.active(), probe)
    facts = replace(probe, service_level=ship_policy.promise.transfer_service)
    excluded = frozenset(order.excluded_locations)
    req = transfer_request(order.id, order.channel, store, units, excluded, facts)
    plan = source(req, build_view(uow, req, now, ship_policy), ship_policy, now).plan
    return (plan if plan.units == sum(u.quantity for u in units) else None), ship_policy


def _create(
    uow: UnitOfWork,
    order: Order,
    store: Location,
    origin: str,
    allocations: tuple[Allocation, ...],
    arrivals: dict[str, datetime],
    ctx: Context,
    now: datetime,
    actor: str | None,
) -> Supply:
    """One transfer from `origin` for the order's units there, held at the origin and
    pegged to the order's lines."""
    by_sku: dict[str, int] = defaultdict(int)
    for a in allocations:
        by_sku[a.sku] += a.quantity
    supply = Supply(
        id=f"TR-{ctx.ids.new_id()}",
        kind=SupplyKind.TRANSFER,
        location_id=store.id,
        expected_at=arrivals[origin],
        lines=[SupplyLine(sku, q) for sku, q in sorted(by_sku.items())],
        created_at=now,
        updated_at=now,
        origin=origin,
        reference=order.external_id,
        order_id=order.id,
    )
    try:
        hold_at_origin(uow, supply, now, actor)
    except Conflict as short:
        # The engine saw the units a moment ago: another writer took them; start again.
        raise StockConflict("stock changed while sourcing a transfer") from short
    uow.supply.put(supply)
    uow.outbox.append([Event("supply.created", supply_data(supply), actor=actor)], now)
    for a in allocations:
        waiting = Waiting(order.id, a.line_id, a.sku, a.quantity, order.created_at)
        taken = uow.supply.peg(supply.id, waiting, now)
        assert taken is not None  # the document was created for these units
        data = {**peg_json(taken), "location_id": store.id}
        order.record("order.pegged", actor, **data, expected_at=supply.expected_at.isoformat())
    order.record(
        "order.transfer_requested",
        actor,
        supply_id=supply.id,
        origin=origin,
        location_id=store.id,
        expected_at=supply.expected_at.isoformat(),
    )
    return supply


def awaiting_transfer(uow: UnitOfWork, order: Order) -> list[str]:
    """Transfers created for the order that its store has not received yet."""
    ids = {p.supply_id for p in uow.supply.pegs_of_order(order.id)}
    found = [uow.supply.get(i) for i in sorted(ids)]
    return [s.id for s in found if s is not None and s.order_id == order.id and s.incoming]


def reject_transfer(cmd: RejectTransfer, ctx: Context) -> Supply:
    """The origin will not send a transfer it has not dispatched: its units are released
    there, and an order the transfer was for excludes that origin and has its units
    sourced again (another transfer, or back-ordered). 409 once dispatched."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        supply = uow.supply.get(cmd.supply_id, lock=True)
        if supply is None:
            raise NotFound("supply", cmd.supply_id)
        if not supply.is_transfer or supply.status is not SupplyStatus.OPEN:
            raise InvalidTransition("supply", supply.status.value, "rejected")
        release_at_origin(uow, supply, now, cmd.actor.name)
        supply.move_to(SupplyStatus.CANCELLED, now)
        released = release_all(supply)
        uow.supply.put(supply)
        data = {**supply_data(supply), "reason": cmd.reason, "rejected_by": supply.origin}
        uow.outbox.append([Event("supply.rejected", data, actor=cmd.actor.name)], now)
        order = None if supply.order_id is None else uow.orders.get(supply.order_id)
        if order is not None:
            _resource(uow, order, supply, released, ctx, now, cmd.actor.name)
        uow.commit()
    return supply


def _resource(
    uow: UnitOfWork,
    order: Order,
    supply: Supply,
    released: list[Peg],
    ctx: Context,
    now: datetime,
    actor: str,
) -> None:
    assert supply.origin is not None
    order.excluded_locations.add(supply.origin)
    # The promised time is the new transfer's; a later date replaces the earlier one.
    order.pickup_ready_by = None
    resource_pickup(uow, order, released, "transfer_rejected", ctx, now, actor)


def resource_pickup(
    uow: UnitOfWork,
    order: Order,
    released: list[Peg],
    reason: str,
    ctx: Context,
    now: datetime,
    actor: str,
) -> None:
    """Pegs of a pick-up order on a transfer that will not bring them were released:
    record why (`order.unpegged`), then send the units it still misses by another
    transfer, or peg them to other supply where the policy allows."""
    for p in released:
        order.record("order.unpegged", actor, reason=reason, **peg_json(p))
    policy = policy_for(uow, order)
    if not request_pickup_transfers(uow, order, policy, ctx, now, actor):
        peg_waiting_units(uow, order, policy, now, actor)
    save(uow, order, ctx, now)
