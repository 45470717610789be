"""Transfers as stock movements, on SQLite and PostgreSQL: the origin's reservation when
a transfer is created or replaced, its release on cancellation, the dispatch that takes
the units off the origin's shelf and the receipt that puts them on the destination's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from tests.service.factories import GEOCODER, World

from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import bootstrap
from ordergrid.domain.errors import Conflict
from ordergrid.domain.orders import OrderStatus
from ordergrid.domain.supply import Supply, SupplyStatus
from ordergrid.service.ports import LedgerFilter
from ordergrid.service.supply_commands import (
    CancelSupply,
    DispatchSupply,
    PutSupply,
    ReceiveSupply,
)
from ordergrid.settings import Settings


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    clock = FixedClock(datetime.fromisoformat("2026-03-02T09:00:00+00:00"))
    app = bootstrap(
        Settings(database_url=database_url, auto_migrate=True), clock=clock, geocoder=GEOCODER
    )
    yield World(uow=app.ctx.uow, clock=clock)
    app.close()


def transfer(world: World, supply_id: str = "TR-1", *lines: tuple[str, int]) -> Supply:
    result = world.bus.handle(
        PutSupply(
            supply_id,
            "transfer",
            "ST-NY1",
            world.clock.now() + timedelta(days=2),
            lines or (("A", 4),),
            origin="DC-ATL",
        )
    )
    world.clock.advance(seconds=1)
    supply: Supply = result.supply
    return supply


def ledger(world: World, location_id: str, sku: str = "A") -> list[tuple[str, int, int, str]]:
    with world.uow() as uow:
        entries = uow.inventory.ledger(LedgerFilter(sku, location_id), 100, None)
    return [(e.reason, e.on_hand_delta, e.reserved_delta, e.ref or "") for e in entries]


def counts(world: World, location_id: str, sku: str = "A") -> tuple[int, int, int]:
    p = world.position(location_id, sku)
    return p.on_hand, p.reserved, p.available


def test_creating_a_transfer_reserves_its_units_at_the_origin(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world)
    assert counts(world, "DC-ATL") == (10, 4, 6)
    assert ledger(world, "DC-ATL")[-1] == ("reservation", 0, 4, "supply:TR-1")


def test_an_origin_without_enough_available_units_refuses_the_transfer(world: World) -> None:
    world.stock("DC-ATL", "A", 3)
    with pytest.raises(Conflict) as refused:
        transfer(world)
    assert refused.value.code == "insufficient_stock"
    assert refused.value.details["field"] == "lines.0.quantity"
    assert refused.value.details["lines"] == [{"sku": "A", "requested": 4, "available": 3}]
    assert counts(world, "DC-ATL") == (3, 0, 3)
    with world.uow() as uow:
        assert uow.supply.get("TR-1") is None


def test_units_held_for_a_transfer_are_not_sold_at_the_origin(world: World) -> None:
    world.stock("DC-ATL", "A", 4)
    transfer(world)
    order = world.place(("A", 1))
    assert order.status is OrderStatus.BACKORDERED


def test_dispatch_takes_the_units_off_the_origin_and_receipt_puts_them_on_the_store(
    world: World,
) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world)
    with pytest.raises(Conflict) as early:
        world.bus.handle(ReceiveSupply("TR-1", "R-0", (("A", 4),)))
    assert early.value.code == "transfer_not_dispatched"
    sent = world.bus.handle(DispatchSupply("TR-1", carrier="ups", tracking_number="1Z9"))
    assert sent.status is SupplyStatus.IN_TRANSIT
    assert counts(world, "DC-ATL") == (6, 0, 6)
    assert ledger(world, "DC-ATL")[-1] == ("transfer_out", -4, -4, "supply:TR-1")
    world.bus.handle(ReceiveSupply("TR-1", "R-1", (("A", 4),)))
    assert counts(world, "ST-NY1") == (4, 0, 4)
    assert ledger(world, "ST-NY1")[-1] == ("receipt", 4, 0, "supply:TR-1")
    with world.uow() as uow:
        stored = uow.supply.get("TR-1")
    assert stored is not None
    assert (stored.status, stored.carrier, stored.tracking_number) == (
        SupplyStatus.RECEIVED,
        "ups",
        "1Z9",
    )
    assert stored.dispatched_at is not None


def test_cancelling_before_dispatch_gives_the_origin_its_units_back(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world)
    world.bus.handle(CancelSupply("TR-1", "not needed"))
    assert counts(world, "DC-ATL") == (10, 0, 10)
    assert ledger(world, "DC-ATL")[-1] == ("release", 0, -4, "supply:TR-1")


def test_cancelling_in_transit_moves_no_stock(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world)
    world.bus.handle(DispatchSupply("TR-1"))
    world.bus.handle(ReceiveSupply("TR-1", "R-1", (("A", 1),)))
    cancelled = world.bus.handle(CancelSupply("TR-1", "lost"))
    assert cancelled.status is SupplyStatus.CANCELLED
    assert counts(world, "DC-ATL") == (6, 0, 6)
    assert counts(world, "ST-NY1") == (1, 0, 1)


def test_replacing_a_transfer_holds_the_new_quantities(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    world.stock("DC-ATL", "B", 2)
    transfer(world)
    transfer(world, "TR-1", ("A", 7), ("B", 2))
    assert counts(world, "DC-ATL") == (10, 7, 3)
    assert counts(world, "DC-ATL", "B") == (2, 2, 0)
    # The units the first version held count as available to the replacement.
    transfer(world, "TR-1", ("A", 10))
    assert counts(world, "DC-ATL") == (10, 10, 0)
    assert counts(world, "DC-ATL", "B") == (2, 0, 2)


def test_a_dispatched_transfer_cannot_be_dispatched_again(world: World) -> None:
    world.stock("DC-ATL", "A", 10)
    transfer(world)
    world.bus.handle(DispatchSupply("TR-1"))
    with pytest.raises(Conflict) as again:
        world.bus.handle(DispatchSupply("TR-1"))
    assert again.value.code == "invalid_transition"
    assert counts(world, "DC-ATL") == (6, 0, 6)
