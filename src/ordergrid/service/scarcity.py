"""Shadow prices of stock, kept fresh: what a unit at a location is worth to the demand
expected until it is replenished (`ordergrid.domain.sourcing.shadow`).

The worker re-estimates them every `scarcity_refresh_seconds` from the orders of the
last `lookback` (their destinations and units), scaled to the `horizon`, against the
stock available now, and publishes them to this process's decisions; a policy weighs
them with `costs.scarcity_weight`. Each process computes its own from the same data.
"""

from __future__ import annotations

from ordergrid.domain.orders import Order
from ordergrid.domain.sourcing import DEFAULT_POLICY
from ordergrid.domain.sourcing.policy import Costs
from ordergrid.domain.sourcing.shadow import (
    DemandObservation,
    expected_demand,
    shadow_prices,
)
from ordergrid.service.commands import RefreshScarcity
from ordergrid.service.context import Context

#: Orders read at most per refresh (the newest ones).
MAX_ORDERS = 50_000
#: The distance an unfilled unit is priced at: a parcel from across the country.
FAR_KM = 4_500.0


def refresh_scarcity(cmd: RefreshScarcity, ctx: Context) -> int:
    """Re-estimate and publish the prices; returns how many (location, SKU) have one."""
    now = ctx.clock.now()
    with ctx.uow(readonly=True) as uow:
        observed = _observations(uow.orders.placed_since(now - cmd.lookback, MAX_ORDERS))
        skus = {o.sku for o in observed}
        supply = {
            (p.location_id, p.sku): p.available
            for p in uow.inventory.positions(skus)
            if p.available > 0
        }
        locations = uow.locations.all()
    demand = expected_demand(observed, cmd.lookback, cmd.horizon)
    costs = DEFAULT_POLICY.costs
    prices = shadow_prices(locations, supply, demand, costs, _unfilled(costs)) if demand else {}
    ctx.scarcity.publish(prices, now)
    return len(prices)


def _observations(orders: list[Order]) -> list[DemandObservation]:
    """Every shipped unit ordered, where it was to go (pick-ups draw on their store)."""
    out: list[DemandObservation] = []
    for order in orders:
        address = order.delivery.address
        if address is None or address.lat is None or address.lon is None:
            continue
        out.extend(
            DemandObservation(address.lat, address.lon, line.sku, line.quantity)
            for line in order.lines
        )
    return out


def _unfilled(costs: Costs) -> float:
    """A unit left unfilled costs what shipping it from far away would."""
    return costs.per_shipment + costs.per_unit + costs.per_unit_km * FAR_KM
