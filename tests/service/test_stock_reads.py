"""The in-memory stock reads keep the contract of the SQL stock cache: committed positions
of the SKUs asked for, whoever wrote them."""

from __future__ import annotations

from ordergrid.adapters.memory import InMemoryStore
from ordergrid.domain.inventory import Movement, MovementReason


def test_memory_stock_reads_show_committed_positions_of_the_skus_asked_for() -> None:
    store = InMemoryStore()
    with store.unit_of_work() as uow:
        uow.inventory.move(Movement("DC1", "A", 5, 0, MovementReason.RECEIPT))
        uow.inventory.move(Movement("DC2", "B", 3, 0, MovementReason.RECEIPT))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.inventory.reserve("DC1", "A", 2) is not None
        uow.commit()
    with store.unit_of_work(readonly=True) as uow:
        found = uow.stock_reads.positions(["A", "Z"])
        assert [(p.location_id, p.sku, p.available) for p in found] == [("DC1", "A", 3)]
        assert uow.stock_reads.positions(["A", "B"]) == uow.inventory.positions(["A", "B"])
