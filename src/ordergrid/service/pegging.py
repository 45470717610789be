"""Pegging back-ordered units to supply on its way, and releasing pegs no longer needed.

Pegged units stay `backordered` on the order line (the line counts of the contract do
not change); the pegs say which supply they wait for and when it is expected."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from ordergrid.domain.orders import Order, OrderLine
from ordergrid.domain.pegging import may_peg, pegging_horizon
from ordergrid.domain.sourcing.policy import Policy
from ordergrid.domain.supply import Peg, Supply, Waiting, unpeg
from ordergrid.service.ports import UnitOfWork


def peg_json(p: Peg, supply: Supply | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "supply_id": p.supply_id,
        "line_id": p.line_id,
        "sku": p.sku,
        "quantity": p.quantity,
    }
    if supply is not None:
        data["location_id"] = supply.location_id
        data["expected_at"] = supply.expected_at.isoformat()
    return data


def held_by_line(pegs: list[Peg]) -> dict[str, int]:
    held: dict[str, int] = defaultdict(int)
    for p in pegs:
        held[p.line_id] += p.quantity
    return held


def peg_waiting_units(
    uow: UnitOfWork, order: Order, policy: Policy, now: datetime, actor: str | None
) -> int:
    """Peg back-ordered units that no supply holds yet to supply the policy allows,
    earliest expected first; returns how many units were pegged. Records `order.pegged`."""
    horizon = pegging_horizon(policy, now)
    if horizon is None or order.on_hold or not any(line.backordered for line in order.lines):
        return 0
    held = held_by_line(uow.supply.pegs_of_order(order.id))
    pegged = 0
    for line in order.lines:
        missing = line.backordered - held.get(line.line_id, 0)
        if missing > 0:
            pegged += _peg_line(uow, order, line, missing, policy, now, horizon, actor)
    return pegged


def _peg_line(
    uow: UnitOfWork,
    order: Order,
    line: OrderLine,
    missing: int,
    policy: Policy,
    now: datetime,
    horizon: datetime,
    actor: str | None,
) -> int:
    pegged = 0
    for candidate in uow.supply.incoming(line.sku, horizon):
        location = uow.locations.get(candidate.location_id)
        if location is None or not may_peg(candidate, location, order, policy, now):
            continue
        waiting = Waiting(order.id, line.line_id, line.sku, missing - pegged, order.created_at)
        # Another order may have taken the free units since they were listed.
        taken = uow.supply.peg(candidate.supply_id, waiting, now)
        if taken is None:
            continue
        data = {**peg_json(taken), "location_id": candidate.location_id}
        order.record("order.pegged", actor, **data, expected_at=candidate.expected_at.isoformat())
        pegged += taken.quantity
        if pegged == missing:
            break
    return pegged


def release_surplus_pegs(uow: UnitOfWork, order: Order, actor: str | None) -> int:
    """Release pegs the order no longer needs or may no longer use: beyond the units each
    line still has back-ordered (placed from stock, cancelled, the order cancelled),
    latest expected first, and any at a location that failed the order. Returns how many
    units were released; records `order.unpegged`."""
    pegs = uow.supply.pegs_of_order(order.id)
    if not pegs:
        return 0
    released = _release_excluded(uow, order, pegs, actor) if order.excluded_locations else 0
    if released:
        pegs = uow.supply.pegs_of_order(order.id)
    held = held_by_line(pegs)
    for line in order.lines:
        excess = held.get(line.line_id, 0) - line.backordered
        if excess > 0:
            mine = [p for p in pegs if p.line_id == line.line_id]
            released += _release(uow, order, mine, excess, actor)
    return released


def _release_excluded(uow: UnitOfWork, order: Order, pegs: list[Peg], actor: str | None) -> int:
    """A location that rejected, let expire or short-picked the order is not chosen
    again for it, so neither is supply arriving there."""
    released = 0
    for p in pegs:
        supply = uow.supply.get(p.supply_id, lock=True)
        if supply is None or supply.location_id not in order.excluded_locations:
            continue
        dropped = unpeg(supply, order.id, p.line_id, p.quantity)
        uow.supply.put(supply)
        data = {**peg_json(p, supply), "quantity": dropped}
        order.record("order.unpegged", actor, reason="location_excluded", **data)
        released += dropped
    return released


def _release(uow: UnitOfWork, order: Order, pegs: list[Peg], excess: int, actor: str | None) -> int:
    supplies = [s for p in pegs if (s := uow.supply.get(p.supply_id, lock=True)) is not None]
    released = 0
    for supply in sorted(supplies, key=lambda s: (s.expected_at, s.id), reverse=True):
        if released == excess:
            break
        p = next(p for p in pegs if p.supply_id == supply.id)
        dropped = unpeg(supply, order.id, p.line_id, excess - released)
        if dropped:
            uow.supply.put(supply)
            order.record(
                "order.unpegged",
                actor,
                reason="no_longer_backordered",
                **{**peg_json(p, supply), "quantity": dropped},
            )
            released += dropped
    return released
