"""Property: carts reserving, extending, releasing, expiring and converting, interleaved
with everything orders and stock feeds do, never hold a unit twice and release every
hold exactly once.

`CartRules` adds cart steps to the order/stock state machine of
`test_inventory_invariants`; `check_invariants` then also requires that each position's
reserved equals its open allocations plus its active cart holds, and that every active
cart has exactly one expiry timer. The ledger invariant checks, per cart, that what it
reserved and released under `reservation:<id>` adds up to what it still holds, with at
most one hold and one release per position.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule
from tests.service.factories import DESTINATIONS, SKUS, World
from tests.service.invariants import check_invariants
from tests.service.test_inventory_invariants import OrderGrid

from ordergrid.domain.reservations import ledger_ref, release_movements
from ordergrid.service.commands import LineInput, PlaceOrder, RunDueTimers
from ordergrid.service.ports import LedgerFilter
from ordergrid.service.reservation_commands import (
    ExtendReservation,
    PlaceReservation,
    ReleaseReservation,
)

skus = st.sampled_from(SKUS)
carts = st.lists(
    st.tuples(skus, st.integers(1, 4)), min_size=1, max_size=3, unique_by=lambda x: x[0]
)
WHERE = ("NYC", "SAC", "none", "pickup:ST-CHI", "pickup:ST-NY1")


class CartRules(OrderGrid):
    """The order machine plus cart reservations."""

    def __init__(self) -> None:
        super().__init__()
        self.cart_ids: list[str] = []
        self.cart_lines: dict[str, list[tuple[str, int]]] = {}

    @rule(lines=carts, where=st.sampled_from(WHERE), ttl=st.sampled_from((None, 30, 600)))
    def reserve(self, lines: list[tuple[str, int]], where: str, ttl: int | None) -> None:
        pickup = where.removeprefix("pickup:") if where.startswith("pickup:") else None
        destination = None if pickup or where == "none" else DESTINATIONS[where]
        found = self._run(
            PlaceReservation(
                "web", tuple(lines), ttl, destination=destination, pickup_location_id=pickup
            )
        )
        if found is not None:
            reservation = found[0]  # type: ignore[index]
            self.cart_ids.append(reservation.id)
            self.cart_lines[reservation.id] = lines

    @precondition(lambda self: self.cart_ids)
    @rule(data=st.data(), ttl=st.sampled_from((None, 30, 7200)))
    def extend(self, data: st.DataObject, ttl: int | None) -> None:
        self._run(ExtendReservation(data.draw(st.sampled_from(self.cart_ids)), ttl))

    @precondition(lambda self: self.cart_ids)
    @rule(data=st.data())
    def release_cart(self, data: st.DataObject) -> None:
        self._run(ReleaseReservation(data.draw(st.sampled_from(self.cart_ids))))

    @precondition(lambda self: self.cart_ids)
    @rule(data=st.data(), more=st.integers(-1, 2), where=st.sampled_from(("NYC", "SAC")))
    def convert(self, data: st.DataObject, more: int, where: str) -> None:
        """An order completes a cart (any state), possibly with other quantities."""
        cart = data.draw(st.sampled_from(self.cart_ids))
        lines = [(sku, max(1, q + more)) for sku, q in self.cart_lines[cart]]
        order = self._run(
            PlaceOrder(
                external_id=f"cart-order-{self.world.ctx.ids.new_id()}",
                channel="web",
                method="ship",
                lines=tuple(LineInput(str(i), s, q) for i, (s, q) in enumerate(lines, 1)),
                address=DESTINATIONS[where],
                reservation_id=cart,
            )
        )
        if order is not None:
            self.order_ids.append(order[0].id)  # type: ignore[index]

    @rule(seconds=st.sampled_from((10, 31, 300, 900)))
    def checkout_time_passes(self, seconds: int) -> None:
        self.world.clock.advance(timedelta(seconds=seconds))
        self._run(RunDueTimers(50))

    @invariant()
    def each_cart_holds_and_releases_once(self) -> None:
        with self.world.uow() as uow:
            entries = [
                e for sku in SKUS for e in uow.inventory.ledger(LedgerFilter(sku), 100_000, None)
            ]
            carts_now = {i: uow.reservations.get(i) for i in self.cart_ids}
        net: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        steps: Counter[tuple[str | None, str, str, str]] = Counter()
        for e in entries:
            if e.ref is not None and e.ref.startswith("reservation:"):
                net[e.ref][(e.location_id, e.sku)] += e.reserved_delta
                steps[(e.ref, e.location_id, e.sku, e.reason)] += 1
        assert all(n == 1 for n in steps.values()), f"held or released twice: {steps}"
        for cart_id, cart in carts_now.items():
            assert cart is not None
            recorded = {k: v for k, v in net[ledger_ref(cart_id)].items() if v}
            assert recorded == cart.holds(), (
                f"cart {cart_id}: ledger {recorded}, holds {cart.holds()}"
            )


CartRules.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCartInterleavings = CartRules.TestCase


def test_check_invariants_reports_a_cart_hold_nobody_reserved() -> None:
    """The checker is not vacuous: units a cart holds but no position reserves are caught."""
    world = World()
    world.stock("DC-ATL", "A", 5)
    cart, _ = world.bus.handle(
        PlaceReservation("web", (("A", 2),), destination=DESTINATIONS["NYC"])
    )
    check_invariants(world.ctx.uow)
    with world.uow() as uow:
        uow.inventory.move(release_movements(cart)[0])
        uow.commit()
    with pytest.raises(AssertionError, match="reserved 0 but open fulfilments, active cart"):
        check_invariants(world.ctx.uow)


def test_check_invariants_reports_an_active_cart_without_its_timer() -> None:
    world = World()
    world.stock("DC-ATL", "A", 5)
    cart, _ = world.bus.handle(
        PlaceReservation("web", (("A", 1),), destination=DESTINATIONS["NYC"])
    )
    with world.uow() as uow:
        uow.timers.done(cart.timer_id)
        uow.commit()
    with pytest.raises(AssertionError, match="expiry timers"):
        check_invariants(world.ctx.uow)
