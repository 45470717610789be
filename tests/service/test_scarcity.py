"""Shadow prices of stock through the service layer: estimated from recent orders,
published to the process, priced into later decisions."""

from __future__ import annotations

from datetime import timedelta

from tests.service.factories import World

from ordergrid.service.commands import RefreshScarcity


def test_scarce_stock_near_the_demand_gets_a_price_that_decisions_use(world: World) -> None:
    # New York has asked for ten units of A this week, all shipped from Reno.
    world.stock("DC-RNO", "A", 100)
    for _ in range(10):
        world.place(("A", 1), to="NYC")
    # Atlanta, much nearer New York, now holds only two.
    world.stock("DC-ATL", "A", 2)
    priced = world.bus.handle(RefreshScarcity(timedelta(days=7), timedelta(days=7)))
    prices = world.ctx.scarcity.current()
    assert priced == len(prices) > 0
    assert prices[("DC-ATL", "A")] > 0  # its two units are worth more to New York later
    assert prices.get(("DC-RNO", "A"), 0.0) == 0.0  # plenty left: nothing forgone
    assert world.ctx.scarcity.computed_at == world.clock.now()

    order = world.place(("A", 1), to="NYC")
    [decision] = world.decisions(order.id)
    atl = next(c for c in decision.explanation["candidates"] if c["location_id"] == "DC-ATL")
    assert atl["cost_parts"]["scarcity"] == round(prices[("DC-ATL", "A")], 4)


def test_no_recent_orders_means_no_prices(world: World) -> None:
    world.stock("DC-ATL", "A", 2)
    assert world.bus.handle(RefreshScarcity()) == 0
    assert world.ctx.scarcity.current() == {}
