"""Sourcing decisions taken on trial (nothing reserved until one is placed): for moving a
pick-up to another store and for a person's re-route to a chosen location."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ordergrid.domain.allocation import apply_decision
from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing import Decision, Fallback, SourcingRequest, source
from ordergrid.service.context import Context
from ordergrid.service.ports import StoredDecision, UnitOfWork
from ordergrid.service.sourcing import build_view, policy_for
from ordergrid.service.stock import apply_movements


def trial(uow: UnitOfWork, order: Order, now: datetime, only: str | None = None) -> Decision:
    """What the engine decides now for every waiting unit, all or nothing (the policy's
    `backorder` fallback); with `only`, no location but that one is considered."""
    req = SourcingRequest.for_order(order)
    view = build_view(uow, req, now)
    if only is not None:
        view = replace(view, locations={k: v for k, v in view.locations.items() if k == only})
    policy = replace(policy_for(uow, order), fallback=Fallback.BACKORDER)
    return source(req, view, policy, now)


def covers(decision: Decision, order: Order) -> bool:
    waiting = sum(order.to_source().values())
    return waiting > 0 and decision.plan.units == waiting


def place(
    uow: UnitOfWork,
    order: Order,
    decision: Decision,
    ctx: Context,
    now: datetime,
    actor: str | None,
    trigger: str,
) -> None:
    """Release the decision's fulfilments, reserve their units and record the decision."""
    reservations = apply_decision(order, decision, ctx.id_stream(), now, actor)
    apply_movements(uow, reservations, now, actor)
    for shipment in decision.plan.shipments:
        uow.load.add(shipment.location_id, now.date(), 1, shipment.units)
    explanation = {
        **decision.as_dict(),
        "trigger": trigger,
        "decided_by": actor,
        "decided_at": now.isoformat(),
    }
    uow.decisions.add(StoredDecision(ctx.ids.new_id(), order.id, now, explanation))
