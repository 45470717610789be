"""Counts, dispatches and orders racing at one origin, on SQLite and PostgreSQL: a count
that cuts transfers, a dispatch that sends them (whole or short) and orders taking the
same units lock the same rows in different orders, so each loser is run again; afterwards
every unit is accounted for: reserved equals what orders and open transfers hold, nothing
is available below zero, no transfer sent more than it held, and once the worker has
re-sourced what a count took from orders, nothing is held beyond what is on hand."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests.service.invariants import check_invariants

from ordergrid.bootstrap import Application
from ordergrid.domain.network import Address
from ordergrid.domain.supply import SupplyStatus
from ordergrid.entrypoints.worker import Worker
from ordergrid.service.commands import (
    AdjustInventory,
    AdjustmentInput,
    ApplySnapshot,
    LineInput,
    PlaceOrder,
    ProductInput,
    PutLocation,
    PutProducts,
)
from ordergrid.service.supply_commands import DispatchSupply, PutSupply

THREADS = 8
TRANSFERS = 6
PER_TRANSFER = 4


def seed(app: Application) -> None:
    dc = Address(lat=40.0, lon=-75.0, country="US")
    store = Address(lat=40.7, lon=-74.0, country="US")
    app.bus.handle(PutLocation("DC-E", "DC-E", "dc", dc, frozenset({"ship"})))
    app.bus.handle(PutLocation("ST-1", "ST-1", "store", store, frozenset({"ship", "pickup"})))
    app.bus.handle(PutProducts((ProductInput("HOT", "Hot item"),)))
    app.bus.handle(AdjustInventory((AdjustmentInput("seed", "DC-E", "HOT", 40, "receipt"),)))
    expected = app.ctx.clock.now() + timedelta(days=2)
    for n in range(TRANSFERS):
        app.bus.handle(
            PutSupply(f"TR-{n}", "transfer", "ST-1", expected, (("HOT", PER_TRANSFER),), "DC-E")
        )


def order(app: Application, n: int) -> None:
    app.bus.handle(
        PlaceOrder(
            external_id=f"RACE-{n}",
            channel="web",
            method="ship",
            lines=(LineInput("1", "HOT", 2),),
            address=Address(lat=39.9, lon=-75.2, country="US"),
        )
    )


def count(app: Application, units: int) -> None:
    app.bus.handle(ApplySnapshot("DC-E", app.ctx.clock.now(), (("HOT", units),)))


def test_counts_dispatches_and_orders_racing_at_one_origin_lose_no_unit(
    application: Application,
) -> None:
    seed(application)
    bus = application.bus
    work = [
        lambda: bus.handle(DispatchSupply("TR-0")),
        lambda: bus.handle(DispatchSupply("TR-1", lines=(("HOT", 1),), reason="damaged")),
        lambda: bus.handle(DispatchSupply("TR-2")),
        lambda: count(application, 30),
        lambda: count(application, 18),
        lambda: count(application, 9),
        *[lambda n=n: order(application, n) for n in range(6)],
    ]
    with ThreadPoolExecutor(THREADS) as pool:
        for done in [pool.submit(w) for w in work]:
            done.result()
    # Orders' units a count left uncovered are re-sourced by the worker.
    Worker(application).run_until_idle()
    snapshot = check_invariants(application.ctx.uow)
    transfers = {s.id: s for s in snapshot.supply}
    for supply_id in ("TR-0", "TR-1", "TR-2"):
        sent = transfers[supply_id]
        assert sent.status in (SupplyStatus.IN_TRANSIT, SupplyStatus.CANCELLED), supply_id
        assert sum(line.quantity for line in sent.lines) <= PER_TRANSFER
    [position] = [p for p in snapshot.positions if p.location_id == "DC-E"]
    assert position.reserved <= position.on_hand
