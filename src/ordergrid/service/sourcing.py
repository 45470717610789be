"""The sourcing step shared by every use case that places units."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from time import perf_counter

from ordergrid.domain.allocation import apply_decision, park
from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing import (
    Decision,
    OrderFacts,
    Policy,
    SourcingRequest,
    SourcingView,
    select_policy,
    source,
)
from ordergrid.service.context import Context
from ordergrid.service.ports import StoredDecision, UnitOfWork
from ordergrid.service.stock import apply_movements


def policy_for(uow: UnitOfWork, order: Order) -> Policy:
    """The active policy whose selector fits the order best (or the built-in default)."""
    return select_policy(uow.policies.active(), OrderFacts.of(order))


def build_view(uow: UnitOfWork, req: SourcingRequest, now: datetime) -> SourcingView:
    locations = {loc.id: loc for loc in uow.locations.all()}
    positions = {(p.location_id, p.sku): p for p in uow.inventory.positions(req.skus)}
    # Capacity days are UTC days; only locations that could serve the order matter.
    candidates = {loc for loc, _ in positions}
    if req.pickup_location_id is not None:
        candidates.add(req.pickup_location_id)
    load = uow.load.today(now.date(), candidates)
    return SourcingView(locations, positions, uow.products.tags(req.skus), load)


def _unchanged(order: Order, decision: Decision) -> bool:
    """A re-try for back-orders that places nothing new is not worth recording."""
    return not decision.plan.shipments and decision.backordered == {
        line.line_id: line.backordered for line in order.lines if line.backordered
    }


def source_order(
    uow: UnitOfWork,
    order: Order,
    ctx: Context,
    now: datetime,
    actor: str | None,
    trigger: str,
    quiet_if_unchanged: bool = False,
) -> Decision | None:
    """Source the order's undecided and back-ordered units, reserve them, record why.

    Raises `StockConflict` when a reservation lost a race; the bus retries the whole
    command with fresh numbers.
    """
    if order.on_hold:
        park(order)
        return None
    req = SourcingRequest.for_order(order)
    if not req.lines:
        return None
    view = build_view(uow, req, now)
    started = perf_counter()
    decision = source(req, view, policy_for(uow, order), now)
    decision = replace(decision, elapsed_ms=(perf_counter() - started) * 1000)
    if quiet_if_unchanged and _unchanged(order, decision):
        return None
    if order.excluded_locations and decision.plan.shipments:
        # Something failed before (the order has excluded locations): this is a re-route.
        # Recorded before the new fulfilments, so re-sourcing ends with
        # `fulfilment.released`.
        order.record(
            "order.rerouted",
            actor,
            trigger=trigger,
            locations=[s.location_id for s in decision.plan.shipments],
        )
    reservations = apply_decision(order, decision, ctx.id_stream(), now, actor)
    apply_movements(uow, reservations, now, actor)
    for shipment in decision.plan.shipments:
        uow.load.add(shipment.location_id, now.date(), 1, shipment.units)
    explanation = {**decision.as_dict(), "trigger": trigger, "decided_at": now.isoformat()}
    uow.decisions.add(StoredDecision(ctx.ids.new_id(), order.id, now, explanation))
    ctx.pending.decision_made(decision.outcome, decision.elapsed_ms)
    return decision
