"""A cart the network cannot fill now is promised from supply on its way when the
policy lets orders wait for it: dated from the supply's arrival, never sooner."""

from __future__ import annotations

from datetime import timedelta

from tests.service.factories import World

from ordergrid.service.commands import PutPolicy
from ordergrid.service.promise import Destination, PromiseLine, Quote, QuotePromise, quote_promise
from ordergrid.service.supply_commands import PutSupply

NYC = Destination("US", "10001")
FUTURE = {"name": "future", "future_supply": {"allow": True, "max_days": 21}}


def quote(world: World, *lines: tuple[str, int]) -> Quote:
    return quote_promise(
        QuotePromise("web", tuple(PromiseLine(s, q) for s, q in lines), NYC), world.ctx
    )


def standard(q: Quote):  # type: ignore[no-untyped-def]
    return next(o for o in q.options if (o.method, o.service_level) == ("ship", "standard"))


def expect(
    world: World, supply_id: str, sku: str, units: int, days: float, at: str = "DC-ATL"
) -> None:
    due = world.clock.now() + timedelta(days=days)
    world.bus.handle(PutSupply(supply_id, "purchase_order", at, due, ((sku, units),)))


def test_a_short_cart_is_promised_after_the_supply_arrives(world: World) -> None:
    world.bus.handle(PutPolicy("web", FUTURE, activate=True))
    world.stock("DC-ATL", "A", 1)
    expect(world, "PO-1", "A", 5, days=6)
    now_only = standard(quote(world, ("A", 1)))
    waits = standard(quote(world, ("A", 3)))
    assert waits.available
    assert waits.reason == "future_supply"
    assert "PO-1" in (waits.detail or "")
    assert waits.earliest >= world.clock.now() + timedelta(days=6)
    assert now_only.earliest is not None
    assert waits.earliest > now_only.earliest


def test_without_the_policy_a_short_cart_stays_unavailable(world: World) -> None:
    expect(world, "PO-1", "A", 5, days=6)
    option = standard(quote(world, ("A", 3)))
    assert (option.available, option.reason) == (False, "insufficient_stock")


def test_supply_beyond_the_policy_horizon_is_not_counted(world: World) -> None:
    world.bus.handle(
        PutPolicy("web", {**FUTURE, "future_supply": {"allow": True, "max_days": 3}}, activate=True)
    )
    expect(world, "PO-1", "A", 5, days=6)
    option = standard(quote(world, ("A", 3)))
    assert (option.available, option.reason) == (False, "insufficient_stock")


def test_supply_already_pegged_by_back_orders_is_not_promised_again(world: World) -> None:
    world.bus.handle(PutPolicy("web", FUTURE, activate=True))
    expect(world, "PO-1", "A", 4, days=6)
    world.place(("A", 3))  # pegs 3 of the 4
    assert standard(quote(world, ("A", 1))).available
    option = standard(quote(world, ("A", 2)))
    assert (option.available, option.reason) == (False, "insufficient_stock")
