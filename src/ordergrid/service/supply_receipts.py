"""Receiving supply: units become on-hand and first serve the orders pegged to them,
oldest first, in the same transaction, before any other order can take them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from ordergrid.domain.errors import Conflict, NotFound
from ordergrid.domain.events import Event
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.orders import Order
from ordergrid.domain.pegging import receipt_decision
from ordergrid.domain.sourcing.policy import Fallback
from ordergrid.domain.supply import Peg, Served, Supply, receive, serve_pegs, trim_pegs
from ordergrid.service.context import Context
from ordergrid.service.pegging import peg_json, peg_waiting_units
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.sourcing import policy_for, record_decision, source_order
from ordergrid.service.stock import apply_movements
from ordergrid.service.supply import supply_data
from ordergrid.service.supply_commands import ReceiveSupply
from ordergrid.service.tracking import save

TRIGGER = "supply_received"


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    supply: Supply
    replayed: bool  # the receipt id was already applied: nothing changed
    served: tuple[Served, ...] = ()


@dataclass(slots=True)
class _Orders:
    """The orders this receipt touches, read once and saved once."""

    uow: UnitOfWork
    loaded: dict[str, Order | None] = field(default_factory=dict)

    def get(self, order_id: str) -> Order | None:
        if order_id not in self.loaded:
            self.loaded[order_id] = self.uow.orders.get(order_id)
        return self.loaded[order_id]


def receive_supply(cmd: ReceiveSupply, ctx: Context) -> ReceiptResult:
    """Book the receipt (once per receipt id), add the units to on-hand with ledger ref
    `supply:<id>`, allocate pegged orders at the receiving location, oldest first, and
    release pegs the document can no longer honour."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        supply = uow.supply.get(cmd.supply_id, lock=True)
        if supply is None:
            raise NotFound("supply", cmd.supply_id)
        owner = uow.supply.claim_receipt(cmd.receipt_id, supply.id, now)
        if owner == supply.id:
            return ReceiptResult(supply, True)
        if owner is not None:
            raise Conflict(
                f"receipt {cmd.receipt_id!r} was recorded for supply {owner!r}",
                code="receipt_id_reused",
                field="id",
                supply_id=owner,
            )
        receive(supply, cmd.lines, now)
        orders = _Orders(uow)
        served = _serve(uow, supply, cmd, orders, now)
        uow.supply.put(supply)
        _allocate(uow, supply, served, orders, ctx, now, cmd.actor.name)
        supply = _trim(uow, supply.id, orders, ctx, now)
        data = {**supply_data(supply), "receipt_id": cmd.receipt_id, "served": _served(served)}
        uow.outbox.append([Event("supply.received", data, actor=cmd.actor.name)], now)
        uow.commit()
    return ReceiptResult(supply, False, tuple(served))


def _served(served: list[Served]) -> list[dict[str, object]]:
    return [
        {
            "order_id": x.peg.order_id,
            "line_id": x.peg.line_id,
            "sku": x.peg.sku,
            "quantity": x.units,
        }
        for x in served
    ]


def _serve(
    uow: UnitOfWork, supply: Supply, cmd: ReceiveSupply, orders: _Orders, now: datetime
) -> list[Served]:
    """Add the units to on-hand and hand them to the pegs, oldest order first; an order
    takes no more than it still waits for, and nothing while on hold or from a location
    that failed it."""
    ref = f"supply:{supply.id}"
    movements = [
        Movement(supply.location_id, sku, qty, 0, MovementReason.RECEIPT, ref)
        for sku, qty in cmd.lines
    ]
    positions = apply_movements(uow, movements, now, cmd.actor.name)
    available = {p.sku: p.available for p in positions}
    taken: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def take(p: Peg, offered: int) -> int:
        order = orders.get(p.order_id)
        usable = (
            order is not None
            and not order.on_hold
            and supply.location_id not in order.excluded_locations
        )
        line = order.line(p.line_id) if usable and order is not None else None
        waiting = 0 if line is None else line.backordered - taken[p.order_id][p.line_id]
        units = max(0, min(offered, waiting))
        taken[p.order_id][p.line_id] += units
        return units

    served: list[Served] = []
    for sku, quantity in cmd.lines:
        # Safety stock may keep some of the units out of reach.
        served += serve_pegs(supply, sku, min(quantity, available.get(sku, 0)), take)
    return served


def _allocate(
    uow: UnitOfWork,
    supply: Supply,
    served: list[Served],
    orders: _Orders,
    ctx: Context,
    now: datetime,
    actor: str,
) -> None:
    """Place the served units, oldest order first. A ship-complete order whose other
    units are still missing is sourced as a whole instead (it may find them elsewhere)
    and otherwise waits, pegged again where supply has room."""
    units: dict[str, dict[str, int]] = defaultdict(dict)
    for s in sorted(served, key=lambda s: s.peg.queue_key):
        line_units = units[s.peg.order_id]
        line_units[s.peg.line_id] = line_units.get(s.peg.line_id, 0) + s.units
    for order_id, by_line in units.items():
        order = orders.get(order_id)
        assert order is not None  # only orders that took units are served
        policy = policy_for(uow, order)
        waiting = sum(order.to_source().values())
        if policy.fallback is Fallback.BACKORDER and sum(by_line.values()) < waiting:
            source_order(uow, order, ctx, now, actor, TRIGGER)
        else:
            decision = receipt_decision(order, policy, supply, by_line)
            record_decision(uow, order, decision, ctx, now, actor, TRIGGER)
        save(uow, order, ctx, now)


def _trim(uow: UnitOfWork, supply_id: str, orders: _Orders, ctx: Context, now: datetime) -> Supply:
    """Release pegs beyond what the document still expects (units that arrived went to
    orders that no longer needed them, or to stock), newest order first; those orders go
    back to waiting, and to other supply where the policy allows."""
    supply = uow.supply.get(supply_id, lock=True)
    assert supply is not None
    released = trim_pegs(supply)
    uow.supply.put(supply)
    for p in sorted(released, key=lambda p: p.queue_key):
        order = orders.get(p.order_id)
        if order is None:
            continue
        order.record("order.unpegged", "system", reason="supply_short", **peg_json(p))
        peg_waiting_units(uow, order, policy_for(uow, order), now, "system")
        save(uow, order, ctx, now)
    final = uow.supply.get(supply_id)
    assert final is not None
    return final
