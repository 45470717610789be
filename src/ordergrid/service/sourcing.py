"""The sourcing step shared by every use case that places units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from time import perf_counter

from ordergrid.domain.allocation import apply_decision, park
from ordergrid.domain.inventory import Movement
from ordergrid.domain.network import Location
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
from ordergrid.domain.sourcing.network_index import index_of
from ordergrid.service.availability import as_seen_by, held_positions, rules_for
from ordergrid.service.context import Context
from ordergrid.service.pegging import peg_waiting_units
from ordergrid.service.ports import StoredDecision, UnitOfWork
from ordergrid.service.stock import apply_movements


def policy_for(uow: UnitOfWork, order: Order) -> Policy:
    """The active policy whose selector fits the order best (or the built-in default)."""
    return select_policy(uow.policies.active(), OrderFacts.of(order))


def build_view(
    uow: UnitOfWork, req: SourcingRequest, now: datetime, policy: Policy | None = None
) -> SourcingView:
    """What the engine needs to decide the request, read in this transaction."""
    return build_batch_view(uow, [req], now, [] if policy is None else [policy])


def build_batch_view(
    uow: UnitOfWork,
    reqs: Sequence[SourcingRequest],
    now: datetime,
    policies: Sequence[Policy],
) -> SourcingView:
    """One view for several requests: the stock of all their SKUs."""
    skus = frozenset().union(*(r.skus for r in reqs))
    locations = uow.locations.by_id()
    positions = held_positions(uow, skus)
    # Capacity days are UTC days. Only locations that could serve the orders matter, and
    # of those only the ones with a daily limit: screening and pricing read no other's.
    limited = index_of(locations).ids_where("daily_limit", _limited)
    load = {}
    if limited:
        candidates = {loc for loc, _ in positions}
        candidates |= {r.pickup_location_id for r in reqs if r.pickup_location_id is not None}
        load = uow.load.today(now.date(), candidates & limited)
    weigh = any(_prices_by_weight(p) for p in policies)
    tags = uow.products.tags(skus)
    rules = rules_for(uow, skus)
    if rules:  # else every position is as the channels see it
        positions = as_seen_by(positions, rules, locations, tags, {r.channel for r in reqs})
    return SourcingView(
        locations, positions, tags, load, weights=_weights(uow, skus) if weigh else {}
    )


def _limited(location: Location) -> bool:
    """Whether the location takes a limited number of orders or units a day."""
    return location.orders_per_day is not None or location.units_per_day is not None


def _prices_by_weight(policy: Policy) -> bool:
    return policy.costs.rate_card is not None or any(
        s.costs.rate_card is not None for s in policy.strategies
    )


def _weights(uow: UnitOfWork, skus: frozenset[str]) -> dict[str, float]:
    """Product weights (kg) where known; a rate card prices the rest by its default."""
    weights = {}
    for sku in sorted(skus):
        product = uow.products.get(sku)
        if product is not None and product.weight_kg is not None:
            weights[sku] = product.weight_kg
    return weights


def _unchanged(order: Order, decision: Decision) -> bool:
    """A re-try for back-orders that places nothing new is not worth recording."""
    return not decision.plan.shipments and decision.backordered == {
        line.line_id: line.backordered for line in order.lines if line.backordered
    }


def _keeping(m: Movement, view: SourcingView) -> Movement:
    p = view.positions.get((m.location_id, m.sku))
    return m if p is None or not p.safety_stock else replace(m, keep=p.safety_stock)


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
    policy = policy_for(uow, order)
    view = replace(build_view(uow, req, now, policy), shadow_prices=ctx.scarcity.current())
    started = perf_counter()
    decision = source(req, view, policy, now)
    decision = replace(decision, elapsed_ms=(perf_counter() - started) * 1000)
    if quiet_if_unchanged and _unchanged(order, decision):
        # Nothing new for the order itself; its pick-up store may still be sent by
        # transfer what stock elsewhere now covers. Returned (not recorded) when it was.
        return decision if transfer_missing(uow, order, policy, ctx, now, actor) else None
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
    record_decision(uow, order, decision, ctx, now, actor, trigger, view)
    # What is still missing may wait for supply on its way (pre-orders too).
    transfer_missing(uow, order, policy, ctx, now, actor)
    peg_waiting_units(uow, order, policy, now, actor)
    return decision


def transfer_missing(
    uow: UnitOfWork, order: Order, policy: Policy, ctx: Context, now: datetime, actor: str | None
) -> bool:
    """A pick-up store lacking units is sent them by transfer where the policy allows;
    True when a transfer was made. (Imported when called: transfers source with this
    module's view and policy look-ups.)"""
    from ordergrid.service.pickup_transfers import request_pickup_transfers  # noqa: PLC0415

    return bool(request_pickup_transfers(uow, order, policy, ctx, now, actor))


def record_decision(
    uow: UnitOfWork,
    order: Order,
    decision: Decision,
    ctx: Context,
    now: datetime,
    actor: str | None,
    trigger: str,
    view: SourcingView | None = None,
) -> None:
    """Apply a decision to the order, reserve its units and store its explanation.

    With the view it was taken on, each reservation leaves what the view kept unsold
    (safety stock, other channels' fences), checked again on the locked row."""
    reservations = apply_decision(order, decision, ctx.id_stream(), now, actor)
    if view is not None:
        reservations = [_keeping(m, view) for m in reservations]
    apply_movements(uow, reservations, now, actor)
    for shipment in decision.plan.shipments:
        uow.load.add(shipment.location_id, now.date(), 1, shipment.units)
    explanation = {
        **decision.as_record(),
        "trigger": trigger,
        "decided_by": actor,
        "decided_at": now.isoformat(),
    }
    uow.decisions.add(StoredDecision(ctx.ids.new_id(), order.id, now, explanation))
    ctx.pending.decision_made(decision.outcome, decision.elapsed_ms)
