"""The supply repository contract, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.conftest import wire

from ordergrid.adapters.memory import InMemoryStore, unit_of_work_factory
from ordergrid.domain.supply import (
    Incoming,
    Peg,
    Supply,
    SupplyKind,
    SupplyLine,
    SupplyStatus,
    Waiting,
    peg,
    unpeg,
)
from ordergrid.service.context import UnitOfWorkFactory
from ordergrid.service.ports import ConcurrentUpdate, SupplyFilter

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uow_factory(request: pytest.FixtureRequest) -> Iterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield unit_of_work_factory(InMemoryStore())
        return
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    app = wire(request.getfixturevalue(name))
    yield app.ctx.uow
    app.close()


def a_supply(
    supply_id: str = "PO-1",
    location_id: str = "DC1",
    days: int = 5,
    lines: tuple[tuple[str, int], ...] = (("A", 10), ("B", 4)),
    status: SupplyStatus = SupplyStatus.OPEN,
) -> Supply:
    return Supply(
        id=supply_id,
        kind=SupplyKind.ASN,
        location_id=location_id,
        expected_at=T0 + timedelta(days=days),
        lines=[SupplyLine(sku, qty) for sku, qty in lines],
        created_at=T0,
        updated_at=T0,
        origin="ACME",
        reference="ASN-77",
        status=status,
    )


def pegged(s: Supply, order_id: str, quantity: int, sku: str = "A", line_id: str = "1") -> Supply:
    assert peg(s, Waiting(order_id, line_id, sku, quantity, T0), T0) is not None
    return s


def test_documents_round_trip_with_lines_and_pegs(uow_factory: UnitOfWorkFactory) -> None:
    s = pegged(pegged(a_supply(), "O1", 3), "O2", 2, sku="B", line_id="2")
    s.lines[0].received = 1
    with uow_factory() as uow:
        uow.supply.put(s)
        uow.commit()
    with uow_factory() as uow:
        assert uow.supply.get("PO-1") == s
        assert uow.supply.get("PO-X") is None


def test_put_replaces_lines_and_pegs(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.supply.put(pegged(a_supply(), "O1", 3))
        uow.commit()
    replaced = a_supply(lines=(("C", 2),), days=9)
    with uow_factory() as uow:
        uow.supply.put(replaced)
        uow.commit()
    with uow_factory() as uow:
        assert uow.supply.get("PO-1") == replaced
        assert uow.supply.pegs_of_order("O1") == []


def test_pegs_of_an_order_across_documents(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.supply.put(pegged(a_supply("PO-1"), "O1", 3))
        uow.supply.put(pegged(a_supply("PO-2"), "O1", 1, sku="B", line_id="2"))
        uow.supply.put(pegged(a_supply("PO-3"), "O9", 1))
        uow.commit()
    with uow_factory() as uow:
        pegs = uow.supply.pegs_of_order("O1")
    assert [(p.supply_id, p.line_id, p.quantity) for p in pegs] == [
        ("PO-1", "1", 3),
        ("PO-2", "2", 1),
    ]
    assert all(isinstance(p, Peg) and p.order_created_at == T0 for p in pegs)


def test_incoming_lists_documents_with_free_units_earliest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        uow.supply.put(a_supply("PO-LATE", days=20))
        uow.supply.put(a_supply("PO-SOON", days=2))
        uow.supply.put(a_supply("PO-FULL", days=1, lines=(("A", 3),)))
        full = uow.supply.get("PO-FULL")
        assert full is not None
        uow.supply.put(pegged(full, "O1", 3))
        uow.supply.put(a_supply("PO-DONE", days=1, status=SupplyStatus.RECEIVED))
        uow.supply.put(a_supply("PO-OFF", days=1, status=SupplyStatus.CANCELLED))
        uow.supply.put(a_supply("PO-B", days=1, lines=(("B", 1),)))
        uow.commit()
    with uow_factory() as uow:
        assert uow.supply.incoming("A") == [
            Incoming("PO-SOON", "DC1", T0 + timedelta(days=2), 10),
            Incoming("PO-LATE", "DC1", T0 + timedelta(days=20), 10),
        ]
        by = T0 + timedelta(days=10)
        assert [x.supply_id for x in uow.supply.incoming("A", by)] == ["PO-SOON"]


def test_page_filters_and_cursor(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        for i in range(5):
            uow.supply.put(a_supply(f"PO-{i}", location_id="DC1" if i % 2 else "DC2", days=i))
        uow.supply.put(a_supply("PO-C", "DC3", lines=(("C", 1),), status=SupplyStatus.CANCELLED))
        uow.commit()
    with uow_factory() as uow:
        first = uow.supply.page(SupplyFilter(), 4, None)
        assert [s.id for s in first.items] == ["PO-0", "PO-1", "PO-2", "PO-3"]
        assert first.next_cursor == "PO-3"
        rest = uow.supply.page(SupplyFilter(), 4, first.next_cursor)
        assert [s.id for s in rest.items] == ["PO-4", "PO-C"]
        assert rest.next_cursor is None

        def ids(flt: SupplyFilter) -> list[str]:
            return [s.id for s in uow.supply.page(flt, 100, None).items]

        assert ids(SupplyFilter(location_id="DC1")) == ["PO-1", "PO-3"]
        assert ids(SupplyFilter(sku="C")) == ["PO-C"]
        assert ids(SupplyFilter(status="cancelled")) == ["PO-C"]
        window = SupplyFilter(
            expected_after=T0 + timedelta(days=1), expected_before=T0 + timedelta(days=3)
        )
        assert ids(window) == ["PO-1", "PO-2"]


def test_a_receipt_id_is_claimed_once(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.supply.claim_receipt("R-1", "PO-1", T0) is None
        uow.commit()
    with uow_factory() as uow:
        assert uow.supply.claim_receipt("R-1", "PO-1", T0) == "PO-1"
        assert uow.supply.claim_receipt("R-1", "PO-2", T0) == "PO-1"


def test_a_rolled_back_claim_leaves_the_receipt_id_free(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.supply.claim_receipt("R-1", "PO-1", T0) is None
    with uow_factory() as uow:
        assert uow.supply.claim_receipt("R-1", "PO-1", T0) is None


def test_concurrent_pegging_of_the_last_units_never_over_pegs(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Each writer reads the document under its lock, pegs what is free and writes it
    back; the free units are handed out exactly once."""
    with uow_factory() as uow:
        uow.supply.put(a_supply(lines=(("A", 5),)))
        uow.commit()
    errors: list[BaseException] = []

    def claim(n: int) -> None:
        for _ in range(20):
            try:
                with uow_factory() as uow:
                    s = uow.supply.get("PO-1", lock=True)
                    assert s is not None
                    if peg(s, Waiting(f"O{n}", "1", "A", 1, T0), T0) is not None:
                        uow.supply.put(s)
                        uow.commit()
                return
            except ConcurrentUpdate:
                continue
            except BaseException as exc:  # reported to the test thread
                errors.append(exc)
                return

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with uow_factory() as uow:
        s = uow.supply.get("PO-1")
    assert s is not None
    assert s.lines[0].pegged == 5 == sum(p.quantity for p in s.pegs)


def test_pegs_written_back_after_a_read_follow_every_change(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        uow.supply.put(pegged(pegged(a_supply(), "O1", 3), "O2", 2))
        uow.commit()
    with uow_factory() as uow:
        s = uow.supply.get("PO-1", lock=True)
        assert s is not None
        unpeg(s, "O1", "1", 3)  # dropped
        unpeg(s, "O2", "1", 1)  # shrunk
        pegged(s, "O3", 4, sku="B", line_id="7")  # new
        s.lines[0].received = 2
        uow.supply.put(s)
        uow.commit()
    with uow_factory() as uow:
        assert uow.supply.get("PO-1") == s
        assert uow.supply.pegs_of_order("O1") == []
        assert [p.quantity for p in uow.supply.pegs_of_order("O2")] == [1]
        assert [p.line_id for p in uow.supply.pegs_of_order("O3")] == ["7"]


def test_peg_in_place_takes_free_units_and_merges_per_order_line(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        uow.supply.put(a_supply(lines=(("A", 5),)))
        uow.supply.put(a_supply("PO-OFF", lines=(("A", 5),), status=SupplyStatus.CANCELLED))
        uow.commit()
    with uow_factory() as uow:
        first = uow.supply.peg("PO-1", Waiting("O1", "1", "A", 3, T0), T0)
        again = uow.supply.peg("PO-1", Waiting("O1", "1", "A", 1, T0), T0)
        second = uow.supply.peg("PO-1", Waiting("O2", "1", "A", 4, T0), T0)
        assert [x.quantity if x else None for x in (first, again, second)] == [3, 1, 1]
        assert uow.supply.peg("PO-1", Waiting("O3", "1", "A", 1, T0), T0) is None
        assert uow.supply.peg("PO-1", Waiting("O3", "1", "B", 1, T0), T0) is None
        assert uow.supply.peg("PO-OFF", Waiting("O3", "1", "A", 1, T0), T0) is None
        assert uow.supply.peg("PO-X", Waiting("O3", "1", "A", 1, T0), T0) is None
        uow.commit()
    with uow_factory() as uow:
        s = uow.supply.get("PO-1")
        assert s is not None
        assert s.lines[0].pegged == 5
        assert {p.order_id: p.quantity for p in s.pegs} == {"O1": 4, "O2": 1}


def test_concurrent_pegs_in_place_hand_out_each_free_unit_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        uow.supply.put(a_supply(lines=(("A", 6),)))
        uow.commit()
    won: list[int] = []

    def claim(n: int) -> None:
        for _ in range(20):
            try:
                with uow_factory() as uow:
                    taken = uow.supply.peg("PO-1", Waiting(f"O{n}", "1", "A", 1, T0), T0)
                    uow.commit()
                won.append(0 if taken is None else taken.quantity)
                return
            except ConcurrentUpdate:
                continue

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(won) == [0] * 4 + [1] * 6
    with uow_factory() as uow:
        s = uow.supply.get("PO-1")
    assert s is not None
    assert s.lines[0].pegged == 6 == len(s.pegs)
