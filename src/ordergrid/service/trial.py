"""Sourcing decisions taken on trial (nothing reserved until one is placed with
`sourcing.record_decision`): for moving a pick-up to another store and for a person's
re-route to a chosen location."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing import Decision, Fallback, SourcingRequest, source
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.sourcing import build_view, policy_for


def trial(uow: UnitOfWork, order: Order, now: datetime, only: str | None = None) -> Decision:
    """What the engine decides now for every waiting unit, all or nothing (the policy's
    `backorder` fallback); with `only`, no location but that one is considered."""
    req = SourcingRequest.for_order(order)
    policy = replace(policy_for(uow, order), fallback=Fallback.BACKORDER)
    view = build_view(uow, req, now, policy)
    if only is not None:
        view = replace(view, locations={k: v for k, v in view.locations.items() if k == only})
    return source(req, view, policy, now)


def covers(decision: Decision, order: Order) -> bool:
    waiting = sum(order.to_source().values())
    return waiting > 0 and decision.plan.units == waiting
