"""Property: with future supply in play (documents created, replaced, received partly or
fully, cancelled; orders pegged to them by a policy that allows it) every invariant of
the order grid still holds — reserved equals the sum of open allocations after every
receipt — and pegs stay within what is still expected and what orders still wait for.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule
from tests.service.test_inventory_invariants import OrderGrid, locations, skus

from ordergrid.domain.supply import Supply
from ordergrid.service.commands import PutPolicy
from ordergrid.service.ports import SupplyFilter
from ordergrid.service.supply_commands import CancelSupply, PutSupply, ReceiveSupply

FUTURE = {
    "name": "future",
    "priority": 10,
    "future_supply": {"allow": True, "max_days": 10},
}


class SupplyGrid(OrderGrid):
    def _supplies(self) -> list[Supply]:
        with self.world.uow() as uow:
            return uow.supply.page(SupplyFilter(), 10_000, None).items

    def _incoming(self) -> list[Supply]:
        return [s for s in self._supplies() if s.incoming]

    @initialize()
    def allow_future_supply(self) -> None:
        self.world.bus.handle(PutPolicy("future", FUTURE, activate=True))
        self.supply_ids = 0
        self.receipt_ids = 0

    @rule(
        location=locations,
        lines=st.lists(st.tuples(skus, st.integers(1, 6)), min_size=1, max_size=3),
        days=st.integers(1, 14),
        replace=st.booleans(),
    )
    def put_supply(
        self, location: str, lines: list[tuple[str, int]], days: int, replace: bool
    ) -> None:
        if not replace or not self.supply_ids:
            self.supply_ids += 1
        unique = tuple(dict(lines).items())
        expected = self.world.clock.now() + timedelta(days=days)
        self._run(PutSupply(f"PO-{self.supply_ids}", "purchase_order", location, expected, unique))

    @rule(sku=skus, quantity=st.integers(4, 12), where=st.sampled_from(("NYC", "SAC")))
    def pre_order(self, sku: str, quantity: int, where: str) -> None:
        """More than the network holds: the rest waits, pegged where supply allows."""
        self.place([(sku, quantity)], where)

    @precondition(lambda self: bool(self._incoming()))
    @rule(data=st.data(), repeat=st.booleans())
    def receive(self, data: st.DataObject, repeat: bool) -> None:
        supply = data.draw(st.sampled_from(self._incoming()))
        line = data.draw(st.sampled_from(supply.lines))
        quantity = data.draw(st.integers(1, line.open + 1))  # one too many now and then
        if not repeat or not self.receipt_ids:
            self.receipt_ids += 1
        receipt = f"R-{self.receipt_ids}"
        self._run(ReceiveSupply(supply.id, receipt, ((line.sku, quantity),)))

    @precondition(lambda self: bool(self._supplies()))
    @rule(data=st.data())
    def cancel_supply(self, data: st.DataObject) -> None:
        supply = data.draw(st.sampled_from(self._supplies()))
        self._run(CancelSupply(supply.id, "not coming"))

    @invariant()
    def pegs_stay_within_supply_and_demand(self) -> None:
        held: dict[tuple[str, str], int] = defaultdict(int)
        for s in self._supplies():
            for line in s.lines:
                pegs = sum(p.quantity for p in s.pegs if p.sku == line.sku)
                assert line.pegged == pegs, f"{s.id}/{line.sku}: pegged {line.pegged} != {pegs}"
                assert 0 <= line.pegged <= line.open, f"{s.id}/{line.sku}: {line}"
                assert 0 <= line.received <= line.quantity
            if not s.incoming:
                assert not s.pegs, f"{s.id} is {s.status} but holds pegs"
            for p in s.pegs:
                held[(p.order_id, p.line_id)] += p.quantity
        if held:
            event("orders pegged to supply")
        with self.world.uow() as uow:
            orders = {order_id: uow.orders.get(order_id) for order_id, _ in held}
        for (order_id, line_id), quantity in held.items():
            order = orders[order_id]
            assert order is not None, f"{order_id} holds pegs but does not exist"
            line = order.line(line_id)
            assert line is not None
            assert quantity <= line.backordered, f"{order_id}/{line_id}: {quantity} pegged"


SupplyGrid.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSupplyGrid = SupplyGrid.TestCase
