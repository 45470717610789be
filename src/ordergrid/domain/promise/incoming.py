"""Promising from supply on its way: a cart the network cannot fill now, under a policy
that lets back-orders wait for purchase orders, transfers and ASNs, is quoted as an
order pegged to them would be served — the engine decides as if the free incoming units
(those no back-order holds yet, expected within the policy's horizon) were on hand, and
a shipment that needs them leaves once the last of them is due."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ordergrid.domain.inventory import Position
from ordergrid.domain.sourcing import Decision, Policy, SourcingRequest, SourcingView, source
from ordergrid.domain.sourcing.decision import Shipment
from ordergrid.domain.supply import Incoming

#: Per SKU, free incoming units, earliest first (`SupplyRepository.incoming`).
IncomingBySku = Mapping[str, Sequence[Incoming]]


@dataclass(frozen=True, slots=True)
class SupplyUse:
    """What one shipment waits for: the documents it needs and when the last is due."""

    location_id: str
    due: datetime
    supply_ids: tuple[str, ...]


def horizon(policy: Policy, now: datetime) -> datetime | None:
    """Until when supply may be counted on; None when the policy does not wait for it."""
    rule = policy.future_supply
    return now + timedelta(days=rule.max_days) if rule.allow else None


def _usable(incoming: IncomingBySku, until: datetime) -> dict[str, list[Incoming]]:
    return {
        sku: [i for i in found if i.expected_at <= until and i.free > 0]
        for sku, found in incoming.items()
    }


def with_incoming(view: SourcingView, incoming: Mapping[str, Sequence[Incoming]]) -> SourcingView:
    """The view with the incoming units added to on-hand where they will arrive."""
    positions = dict(view.positions)
    for sku, found in incoming.items():
        for i in found:
            key = (i.location_id, sku)
            p = positions.get(key) or Position(i.location_id, sku)
            positions[key] = replace(p, on_hand=p.on_hand + i.free)
    return replace(view, positions=positions, columns=None)


def decide_with_incoming(
    req: SourcingRequest,
    view: SourcingView,
    policy: Policy,
    incoming: IncomingBySku,
    now: datetime,
) -> tuple[Decision, dict[str, list[Incoming]]] | None:
    """The engine's decision with the policy's usable incoming supply counted as stock;
    None when the policy does not wait for supply or none is on its way."""
    until = horizon(policy, now)
    if until is None:
        return None
    usable = _usable({s: incoming.get(s, ()) for s in req.skus}, until)
    if not any(usable.values()):
        return None
    return source(req, with_incoming(view, usable), policy, now), usable


def supply_use(
    shipment: Shipment, view: SourcingView, usable: Mapping[str, Sequence[Incoming]]
) -> SupplyUse | None:
    """What the shipment waits for: the units it takes beyond what its location holds
    now, from that location's incoming documents, earliest first; None when it waits for
    nothing."""
    due: datetime | None = None
    ids: list[str] = []
    needed: dict[str, int] = {}
    for a in shipment.allocations:
        needed[a.sku] = needed.get(a.sku, 0) + a.quantity
    for sku, quantity in sorted(needed.items()):
        short = quantity - view.available(shipment.location_id, sku)
        for i in usable.get(sku, ()):
            if short <= 0:
                break
            if i.location_id != shipment.location_id:
                continue
            short -= i.free
            due = i.expected_at if due is None else max(due, i.expected_at)
            ids.append(i.supply_id)
    if due is None:
        return None
    return SupplyUse(shipment.location_id, due, tuple(dict.fromkeys(ids)))
