"""Shadow prices of stock, kept fresh: what a unit at a location is worth to the orders
expected until it is replenished (`ordergrid.domain.sourcing.shadow`).

Every `scarcity_refresh_seconds` a process takes the newest shipped orders of the last
`lookback` (their destinations and lines), expects each again at its observed rate over
the `horizon`, and prices the stock available now with the LP over whole expected orders
(each served by plans that pay their shipments); a policy weighs the prices with
`costs.scarcity_weight`. Each process computes its own from the same data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing import DEFAULT_POLICY, SourcingRequest
from ordergrid.domain.sourcing.policy import Costs
from ordergrid.domain.sourcing.shadow import expected_orders, order_shadow_prices
from ordergrid.domain.sourcing.view import UnitsToPlace
from ordergrid.service.commands import RefreshScarcity
from ordergrid.service.context import Context

#: Orders the expected demand is drawn from at most (the newest): the LP grows with them.
MAX_ORDERS = 2_000
#: The distance an unfilled unit is priced at: a parcel from across the country.
FAR_KM = 4_500.0


def refresh_scarcity(cmd: RefreshScarcity, ctx: Context) -> int:
    """Re-estimate and publish the prices; returns how many (location, SKU) have one."""
    now = ctx.clock.now()
    with ctx.uow(readonly=True) as uow:
        recent = uow.orders.placed_since(now - cmd.lookback, MAX_ORDERS)
        shipped = [r for r in map(_shipped_request, recent) if r is not None]
        skus = {u.sku for r in shipped for u in r.lines}
        supply = {
            (p.location_id, p.sku): p.available
            for p in uow.inventory.positions(skus)
            if p.available > 0
        }
        locations = uow.locations.all()
    prices: dict[tuple[str, str], float] = {}
    if shipped:
        costs = DEFAULT_POLICY.costs
        expected = expected_orders(shipped, _observed_span(recent, cmd, now), cmd.horizon)
        prices = order_shadow_prices(
            locations,
            supply,
            expected,
            costs,
            _unfilled(costs),
            max_shipments=DEFAULT_POLICY.constraints.max_shipments,
        )
    ctx.scarcity.publish(prices, now)
    return len(prices)


def _shipped_request(order: Order) -> SourcingRequest | None:
    """Everything a shipped order asked for, and where (pick-ups draw on their store)."""
    address = order.delivery.address
    if address is None or address.lat is None or address.lon is None:
        return None
    return SourcingRequest(
        order_id=order.id,
        channel=order.channel,
        method=order.delivery.method,
        lines=tuple(UnitsToPlace(x.line_id, x.sku, x.quantity) for x in order.lines),
        destination=(address.lat, address.lon),
    )


def _observed_span(recent: list[Order], cmd: RefreshScarcity, now: datetime) -> timedelta:
    """The time the orders read were placed in: the lookback, or less when only the
    newest `MAX_ORDERS` of it were read."""
    if len(recent) < MAX_ORDERS:
        return cmd.lookback
    return max(now - min(o.created_at for o in recent), timedelta(seconds=1))


def _unfilled(costs: Costs) -> float:
    """A unit left unfilled costs what shipping it alone from far away would."""
    return costs.per_shipment + costs.per_unit + costs.per_unit_km * FAR_KM
