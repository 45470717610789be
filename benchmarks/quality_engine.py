"""The quality benchmark's runs through ordergrid's engine: myopic (`source`, no shadow
prices), inventory-aware (the same engine with shadow prices from
`ordergrid.domain.sourcing.shadow`, re-solved as stock depletes) and batched
(`source_batch` over a window of waiting orders).

Not a benchmark itself (`run_all.py` skips it): `quality.py` imports it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ordergrid.domain.inventory import Position
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.sourcing import DEFAULT_POLICY, Decision, Fallback, Policy, source
from ordergrid.domain.sourcing.batch import source_batch
from ordergrid.domain.sourcing.policy import Constraints
from ordergrid.domain.sourcing.shadow import (
    RegionDemand,
    expected_demand,
    expected_orders,
    observations_of,
    order_shadow_prices,
    shadow_prices,
)
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView, UnitsToPlace
from quality_model import COSTS, Ledger, Order, Plan, World

START = datetime(2024, 3, 1, tzinfo=UTC)
#: Orders arrive one a minute: the horizon's clock for the forecast's rates.
ORDER_GAP = timedelta(minutes=1)


@dataclass(frozen=True)
class Scarcity:
    """How ordergrid prices scarce stock: the product's settings under test.

    `weight` is the policy's `Costs.scarcity_weight`. Every `resolve_every` orders (the
    benchmark's clock: an order a minute) the prices are re-solved with the stock left
    and the demand expected over the rest of the horizon, forecast from the `window`
    most recent orders: as whole orders (`model="orders"`: `expected_orders`, then
    `order_shadow_prices`) or as units by region and SKU (`model="units"`:
    `expected_demand` by nearest demand city, or on a `grid_degrees` grid, then the
    transportation LP `shadow_prices` with `units_per_shipment`). An unfilled unit costs
    `unfilled_unit_cost` (None: the world's mean lost-sale cost). `known_forecast` gives
    the units model the true expected demand instead (a what-if, not a product setting).
    """

    weight: float = 1.0
    resolve_every: int = 100
    window: int = 1000
    model: str = "orders"
    units_per_shipment: float | None = 2.0
    grid_degrees: float | None = None
    unfilled_unit_cost: float | None = None
    known_forecast: bool = False


def engine_policy(weight: float = 0.0) -> Policy:
    """The benchmark's costs, up to every centre per order, partial allocation."""
    return replace(
        DEFAULT_POLICY,
        costs=replace(COSTS, scarcity_weight=weight),
        constraints=Constraints(max_shipments=10, respect_capacity=False),
        fallback=Fallback.PARTIAL,
    )


def request_of(world: World, order: Order) -> SourcingRequest:
    city = world.cities[order.city]
    return SourcingRequest(
        order_id=order.id,
        channel="web",
        method=DeliveryMethod.SHIP,
        lines=tuple(UnitsToPlace(f"{i + 1}", sku, q) for i, (sku, q) in enumerate(order.lines)),
        destination=(city.lat, city.lon),
    )


def view_of(
    ledger: Ledger, skus: set[str], prices: dict[tuple[str, str], float] | None = None
) -> SourcingView:
    positions = {
        (fc.id, sku): Position(fc.id, sku, on_hand=ledger.stock.get((fc.id, sku), 0))
        for fc in ledger.world.fcs
        for sku in sorted(skus)
        if ledger.stock.get((fc.id, sku), 0) > 0
    }
    return SourcingView(ledger.world.locations, positions, shadow_prices=prices or {})


def plan_of(decision: Decision) -> Plan:
    plan: dict[str, dict[str, int]] = {}
    for shipment in decision.plan.shipments:
        units = plan.setdefault(shipment.location_id, {})
        for a in shipment.allocations:
            units[a.sku] = units.get(a.sku, 0) + a.quantity
    return plan


# ----------------------------------------------------------------------- shadow prices


def forecast(
    world: World, seen: Sequence[Order], remaining: int, settings: Scarcity
) -> list[RegionDemand]:
    """Demand expected over the `remaining` orders of the horizon."""
    if settings.known_forecast:
        return [
            RegionDemand(c.lat, c.lon, sku, world.expected_units(i, s, remaining))
            for s, sku in enumerate(world.skus)
            for i, c in enumerate(world.cities)
        ]
    recent = seen[-settings.window :]
    return expected_demand(
        observations_of(request_of(world, o) for o in recent),
        observed_span=ORDER_GAP * len(recent),
        horizon=ORDER_GAP * remaining,
        regions=None if settings.grid_degrees else [(c.lat, c.lon) for c in world.cities],
        grid_degrees=settings.grid_degrees or 1.0,
    )


def prices_now(
    ledger: Ledger, seen: Sequence[Order], remaining: int, settings: Scarcity
) -> dict[tuple[str, str], float]:
    supply = {k: v for k, v in ledger.stock.items() if v > 0}
    unfilled = settings.unfilled_unit_cost
    if unfilled is None:
        unfilled = ledger.world.lost_sale_cost
    if settings.model == "orders":
        recent = seen[-settings.window :]
        return order_shadow_prices(
            ledger.world.fcs,
            supply,
            expected_orders(
                [request_of(ledger.world, o) for o in recent],
                observed_span=ORDER_GAP * len(recent),
                horizon=ORDER_GAP * remaining,
            ),
            COSTS,
            unfilled,
        )
    return shadow_prices(
        ledger.world.fcs,
        supply,
        forecast(ledger.world, seen, remaining, settings),
        COSTS,
        unfilled,
        units_per_shipment=settings.units_per_shipment,
    )


# ------------------------------------------------------------------------------- runs


@dataclass
class Run:
    """One engine run over a horizon: what it cost, and the time spent re-solving."""

    ledger: Ledger
    lp_seconds: float = 0.0
    solves: int = 0


def run_engine(
    world: World,
    orders: Sequence[Order],
    history: Sequence[Order],
    settings: Scarcity | None,
    window: int = 1,
    tick: Callable[[int], None] | None = None,
) -> Run:
    """Source the horizon's orders through the engine, `window` waiting orders at a time
    (1: each as it comes, with `source`; more: together, with `source_batch`), with shadow
    prices re-solved every `settings.resolve_every` orders (none when `settings` is None).
    """
    run = Run(Ledger(world))
    policy = engine_policy(settings.weight if settings else 0.0)
    seen = list(history)
    prices: dict[tuple[str, str], float] = {}
    next_solve = 0
    for start in range(0, len(orders), window):
        if settings is not None and start >= next_solve:
            began = time.perf_counter()
            prices = prices_now(run.ledger, seen, len(orders) - start, settings)
            run.lp_seconds += time.perf_counter() - began
            run.solves += 1
            next_solve = start + settings.resolve_every
        waiting = orders[start : start + window]
        now = START + ORDER_GAP * (start + len(waiting))
        skus = {sku for o in waiting for sku, _ in o.lines}
        view = view_of(run.ledger, skus, prices)
        requests = [request_of(world, o) for o in waiting]
        if window == 1:
            decisions = [source(requests[0], view, policy, now)]
        else:
            decisions = source_batch(requests, view, policy, now)
        for order, decision in zip(waiting, decisions, strict=True):
            run.ledger.record(order, plan_of(decision))
        seen.extend(waiting)
        if tick is not None:
            tick(len(waiting))
    return run
