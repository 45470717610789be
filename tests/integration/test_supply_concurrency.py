"""Concurrent pre-orders pegging the same supply, and a receipt racing new orders, on
SQLite and PostgreSQL: never more pegged than expected, never oversold, and every pegged
order is served from the receipt."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests.service.invariants import check_invariants

from ordergrid.bootstrap import Application
from ordergrid.domain.network import Address
from ordergrid.domain.orders import OrderStatus
from ordergrid.service.commands import (
    LineInput,
    PlaceOrder,
    ProductInput,
    PutLocation,
    PutPolicy,
    PutProducts,
)
from ordergrid.service.supply_commands import PutSupply, ReceiveSupply

THREADS = 8
EXPECTED = 10


def seed(app: Application) -> None:
    app.bus.handle(
        PutLocation("DC-E", "DC-E", "dc", Address(lat=40.0, lon=-75.0), frozenset({"ship"}))
    )
    app.bus.handle(PutProducts((ProductInput("HOT", "Hot item"),)))
    future = {"name": "future", "future_supply": {"allow": True, "max_days": 21}}
    app.bus.handle(PutPolicy("future", future, activate=True))
    expected_at = app.ctx.clock.now() + timedelta(days=5)
    app.bus.handle(PutSupply("PO-1", "asn", "DC-E", expected_at, (("HOT", EXPECTED),)))


def pre_order(app: Application, n: int) -> str:
    order, _ = app.bus.handle(
        PlaceOrder(
            external_id=f"PRE-{n}",
            channel="web",
            method="ship",
            lines=(LineInput("1", "HOT", 1),),
            address=Address(lat=39.0, lon=-90.0, country="US"),
        )
    )
    return str(order.id)


def test_concurrent_pre_orders_never_peg_more_than_expected(application: Application) -> None:
    seed(application)
    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(lambda n: pre_order(application, n), range(2 * EXPECTED)))
    with application.ctx.uow(readonly=True) as uow:
        supply = uow.supply.get("PO-1")
        assert supply is not None
        pegged_orders = {p.order_id for p in supply.pegs}
        holders = [i for i in ids if uow.supply.pegs_of_order(i)]
    assert supply.lines[0].pegged == EXPECTED == sum(p.quantity for p in supply.pegs)
    assert len(pegged_orders) == EXPECTED
    assert sorted(holders) == sorted(pegged_orders)


def test_a_receipt_racing_new_orders_serves_pegged_orders_and_never_oversells(
    application: Application,
) -> None:
    seed(application)
    pegged = [pre_order(application, n) for n in range(EXPECTED // 2)]

    def receive() -> None:
        application.bus.handle(ReceiveSupply("PO-1", "RCV-1", (("HOT", EXPECTED),)))

    with ThreadPoolExecutor(THREADS) as pool:
        racing = [pool.submit(pre_order, application, 100 + n) for n in range(EXPECTED)]
        receipt = pool.submit(receive)
        receipt.result()
        late = [f.result() for f in racing]
    snapshot = check_invariants(application.ctx.uow)
    orders = {o.id: o for o in snapshot.orders}
    assert all(orders[i].status is OrderStatus.ALLOCATED for i in pegged)
    allocated = sum(1 for o in orders.values() if o.status is OrderStatus.ALLOCATED)
    assert allocated <= EXPECTED
    [position] = [p for p in snapshot.positions if p.sku == "HOT"]
    assert position.on_hand == EXPECTED
    assert position.reserved == allocated
    assert len(late) == EXPECTED
