"""Transfers that take fewer units than they held, on SQLite and PostgreSQL: a short
dispatch and a count at the origin store the shortened lines and trimmed pegs, record
`transfer_short` in the ledger, and open transfers are found by their origin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from tests.service.factories import GEOCODER, World

from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import bootstrap
from ordergrid.domain.supply import Supply, SupplyStatus
from ordergrid.service.commands import ApplySnapshot, PutPolicy
from ordergrid.service.ports import LedgerFilter, SupplyFilter
from ordergrid.service.supply_commands import DispatchSupply, PutSupply, ReceiveSupply
from ordergrid.settings import Settings


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    clock = FixedClock(datetime.fromisoformat("2026-03-02T09:00:00+00:00"))
    app = bootstrap(
        Settings(database_url=database_url, auto_migrate=True), clock=clock, geocoder=GEOCODER
    )
    yield World(uow=app.ctx.uow, clock=clock)
    app.close()


def transfer(world: World, supply_id: str, *lines: tuple[str, int], origin: str = "DC-ATL") -> None:
    world.bus.handle(
        PutSupply(
            supply_id,
            "transfer",
            "ST-NY1",
            world.clock.now() + timedelta(days=2),
            lines,
            origin=origin,
        )
    )
    world.clock.advance(seconds=1)


def stored(world: World, supply_id: str) -> Supply:
    with world.uow() as uow:
        found = uow.supply.get(supply_id)
    assert found is not None
    return found


def last_entry(world: World, location_id: str) -> tuple[str, int, int, str]:
    with world.uow() as uow:
        e = uow.inventory.ledger(LedgerFilter("A", location_id), 100, None)[-1]
    return (e.reason, e.on_hand_delta, e.reserved_delta, e.ref or "")


def test_a_short_dispatch_stores_what_left_and_trims_the_pegs(world: World) -> None:
    world.bus.handle(
        PutPolicy("web", {"name": "web", "future_supply": {"allow": True}}, activate=True)
    )
    world.stock("DC-ATL", "A", 4)
    transfer(world, "TR-1", ("A", 4))
    order = world.place(("A", 3))
    world.bus.handle(DispatchSupply("TR-1", lines=(("A", 1),)))
    doc = stored(world, "TR-1")
    assert doc.status is SupplyStatus.IN_TRANSIT
    assert [(x.sku, x.quantity, x.pegged) for x in doc.lines] == [("A", 1, 1)]
    assert [(p.order_id, p.quantity) for p in doc.pegs] == [(order.id, 1)]
    p = world.position("DC-ATL", "A")
    assert (p.on_hand, p.reserved) == (3, 0)
    assert last_entry(world, "DC-ATL") == ("transfer_short", 0, -3, "supply:TR-1")
    world.bus.handle(ReceiveSupply("TR-1", "R-1", (("A", 1),)))
    assert stored(world, "TR-1").status is SupplyStatus.RECEIVED


def test_a_count_below_a_transfer_stores_the_cut_line(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world, "TR-1", ("A", 6))
    world.bus.handle(ApplySnapshot("DC-ATL", world.clock.now(), (("A", 4),)))
    world.clock.advance(seconds=1)
    world.work()
    doc = stored(world, "TR-1")
    assert (doc.status, [(x.sku, x.quantity) for x in doc.lines]) == (
        SupplyStatus.OPEN,
        [("A", 4)],
    )
    p = world.position("DC-ATL", "A")
    assert (p.on_hand, p.reserved) == (4, 4)
    assert last_entry(world, "DC-ATL") == ("transfer_short", 0, -2, "supply:TR-1")


def test_open_transfers_are_found_by_their_origin(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    world.stock("DC-RNO", "A", 10)
    transfer(world, "TR-1", ("A", 1))
    transfer(world, "TR-2", ("A", 1), origin="DC-RNO")
    transfer(world, "TR-3", ("A", 1))
    world.bus.handle(DispatchSupply("TR-3"))
    with world.uow() as uow:
        every = uow.supply.page(SupplyFilter(origin="DC-ATL"), 10, None).items
        still = uow.supply.page(SupplyFilter(origin="DC-ATL", status="open"), 10, None).items
    assert [s.id for s in every] == ["TR-1", "TR-3"]
    assert [s.id for s in still] == ["TR-1"]
