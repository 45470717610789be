"""Property: whatever sequence of commands runs, stock and orders stay consistent.

A hypothesis state machine places, cancels, holds, works fulfilments (accept, reject,
pick possibly short, ship, ready + collect, cancel by location), adjusts and snapshots
stock, lets deadlines pass, pauses and reopens locations, switches the lifecycle policy
(failure actions, click & collect choice, attempt limit), runs the worker (timers and
back-order relay) on the in-memory backend, and checks `check_invariants` after every
step: no unit in two places or nowhere (freed units are back-ordered, held, or have a
pending re-sourcing), available never below zero, never re-sourced to a location that
failed the order. Draining the worker always comes to rest. A command refused with a
domain error must change nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from tests.service.factories import LOCATION_IDS, LOCATIONS, SKUS, World
from tests.service.invariants import check_invariants

from ordergrid.domain.errors import DomainError
from ordergrid.domain.fulfilments import Fulfilment, FulfilmentStatus
from ordergrid.domain.network import Address
from ordergrid.domain.orders import Order
from ordergrid.domain.stock_counts import CountRow, SnapshotMode
from ordergrid.service.commands import (
    ActOnFulfilment,
    AdjustInventory,
    AdjustmentInput,
    ApplySnapshot,
    CancelOrder,
    PutLocation,
    PutPolicy,
    RunDueTimers,
    SetHold,
)
from ordergrid.service.relay import relay_once
from ordergrid.service.snapshot_import import ImportSnapshot

S = FulfilmentStatus
ACTIONS = ("accept", "reject", "pick", "ship", "ready_for_pickup", "collect", "cancel")
#: Actions a location may take in each status, by whether the customer collects.
NEXT: dict[tuple[FulfilmentStatus, bool], tuple[str, ...]] = {
    (S.RELEASED, False): ("accept", "accept", "reject", "cancel"),
    (S.RELEASED, True): ("accept", "accept", "reject", "cancel"),
    (S.ACCEPTED, False): ("pick", "pick", "ship", "reject"),
    (S.ACCEPTED, True): ("pick", "pick", "ready_for_pickup", "reject"),
    (S.PICKED, False): ("ship", "ship", "cancel"),
    (S.PICKED, True): ("ready_for_pickup", "ready_for_pickup", "cancel"),
    (S.READY_FOR_PICKUP, True): ("collect", "collect", "cancel"),
}

skus = st.sampled_from(SKUS)
locations = st.sampled_from(LOCATION_IDS)


class OrderGrid(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = self.make_world()
        self.order_ids: list[str] = []
        #: (time, on-hand per position) after each step: true counts a snapshot may report.
        self.counts: list[tuple[datetime, dict[tuple[str, str], int]]] = []
        #: Index into `counts` from which no snapshot has been applied to a position.
        self.counted_since: dict[tuple[str, str], int] = {}

    # --- helpers ---------------------------------------------------------------------

    def make_world(self) -> World:
        """The in-memory backend; integration tests run the same machine on SQL."""
        return World()

    def marker(self) -> object:
        """Changes whenever anything is committed (compared around refused commands)."""
        return self.world.store.generation

    def _run(self, command: object) -> object:
        """Run a command; a domain error is fine but must leave the store untouched."""
        before = self.marker()
        name = type(command).__name__ + (
            f".{command.action}" if isinstance(command, ActOnFulfilment) else ""
        )
        try:
            result = self.world.bus.handle(command)
        except DomainError as err:
            assert self.marker() == before, "a refused command changed state"
            event(f"{name}: refused {err.code}")
            return None
        finally:
            self.world.clock.advance(seconds=1)
        event(f"{name}: done")
        return result

    def _orders(self) -> list[Order]:
        return [self.world.order(i) for i in self.order_ids]

    def _fulfilments(self, open_only: bool) -> list[tuple[Order, Fulfilment]]:
        return [(o, f) for o in self._orders() for f in o.fulfilments if f.is_open or not open_only]

    # --- rules -----------------------------------------------------------------------

    @initialize(stock=st.lists(st.tuples(locations, skus, st.integers(1, 8)), max_size=8))
    def seed(self, stock: list[tuple[str, str, int]]) -> None:
        for loc, sku, qty in stock:
            self.world.stock(loc, sku, qty)

    @rule(
        lines=st.lists(st.tuples(skus, st.integers(1, 4)), min_size=1, max_size=3),
        where=st.sampled_from(("NYC", "SAC", "pickup:ST-CHI", "pickup:ST-NY1", "pickup:ST-NY2")),
    )
    def place(self, lines: list[tuple[str, int]], where: str) -> None:
        pickup = where.removeprefix("pickup:") if where.startswith("pickup:") else None
        order = self.world.place(
            *lines,
            to="NYC" if pickup else where,
            method="pickup" if pickup else "ship",
            pickup=pickup,
        )
        self.order_ids.append(order.id)

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data(), whole=st.booleans())
    def cancel(self, data: st.DataObject, whole: bool) -> None:
        order = self.world.order(data.draw(st.sampled_from(self.order_ids)))
        if whole:
            self._run(CancelOrder(order.id, None, "customer"))
            return
        line = data.draw(st.sampled_from(order.lines))
        qty = data.draw(st.integers(1, line.quantity))
        self._run(CancelOrder(order.id, ((line.line_id, qty),), "customer"))

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def toggle_hold(self, data: st.DataObject) -> None:
        order = self.world.order(data.draw(st.sampled_from(self.order_ids)))
        self._run(SetHold(order.id, not order.on_hold, "review"))

    @rule(data=st.data())
    def work_a_fulfilment(self, data: st.DataObject) -> None:
        """A location takes a step its fulfilment allows (pick possibly short)."""
        candidates = [
            (o, f)
            for o, f in self._fulfilments(open_only=True)
            if (f.status, o.delivery.method.collects_at_store) in NEXT
        ]
        if not candidates:
            return
        order, f = data.draw(st.sampled_from(candidates))
        collects = order.delivery.method.collects_at_store
        action = data.draw(st.sampled_from(NEXT[(f.status, collects)]))
        picked: tuple[tuple[str, int], ...] = ()
        if action == "pick":
            picked = tuple(
                (fl.line_id, data.draw(st.integers(0, fl.quantity), label="picked"))
                for fl in f.lines
            )
        reason = (
            data.draw(st.sampled_from(("no_stock", "damaged", "capacity", "other")))
            if action in ("reject", "cancel")
            else None
        )
        self._run(
            ActOnFulfilment(
                f.id,
                action,
                reason=reason,
                picked=picked,
                parcels=(("ups", None),) if action == "ship" else (),
            )
        )

    @rule(data=st.data())
    def work_another_fulfilment(self, data: st.DataObject) -> None:
        """The same as `work_a_fulfilment`: locations work more often than anything else."""
        self.work_a_fulfilment(data)

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data(), action=st.sampled_from(ACTIONS))
    def any_action_on_any_fulfilment(self, data: st.DataObject, action: str) -> None:
        """Often illegal: must be refused cleanly."""
        every = self._fulfilments(open_only=False)
        if every:
            _, f = data.draw(st.sampled_from(every))
            self._run(ActOnFulfilment(f.id, action, reason="other"))

    @rule(location=locations, sku=skus, delta=st.integers(-5, 6).filter(bool))
    def adjust(self, location: str, sku: str, delta: int) -> None:
        reason = "receipt" if delta > 0 else "write_off"
        ref = f"adj-{self.world.ctx.ids.new_id()}"
        self._run(AdjustInventory((AdjustmentInput(ref, location, sku, delta, reason),)))

    def _snapshot(self, location: str, sku: str, as_of: datetime, counted: int) -> None:
        before = self.world.position(location, sku).snapshot_as_of
        self._run(ApplySnapshot(location, as_of, ((sku, counted),)))
        if self.world.position(location, sku).snapshot_as_of != before:
            self.counted_since[(location, sku)] = len(self.counts)

    @rule(location=locations, sku=skus, counted=st.integers(0, 8), ago=st.integers(0, 20))
    def snapshot(self, location: str, sku: str, counted: int, ago: int) -> None:
        self._snapshot(location, sku, self.world.clock.now() - timedelta(seconds=ago), counted)

    @rule(
        counts=st.dictionaries(st.tuples(locations, skus), st.integers(0, 8), max_size=4),
        full=st.booleans(),
        ago=st.integers(0, 20),
    )
    def bulk_snapshot(self, counts: dict[tuple[str, str], int], full: bool, ago: int) -> None:
        """Several positions counted in one bulk import; a full one zeroes the rest of
        each counted location."""
        as_of = self.world.clock.now() - timedelta(seconds=ago)
        rows = [
            CountRow(n, loc, sku, counted, as_of)
            for n, ((loc, sku), counted) in enumerate(sorted(counts.items()), start=1)
        ]
        every = [(loc, sku) for loc in LOCATION_IDS for sku in SKUS]
        before = {key: self.world.position(*key).snapshot_as_of for key in every}
        mode = SnapshotMode.FULL if full else SnapshotMode.PARTIAL
        self._run(ImportSnapshot(lambda: [rows], mode))
        for key in every:
            if self.world.position(*key).snapshot_as_of != before[key]:
                self.counted_since[key] = len(self.counts)

    @precondition(lambda self: self.counts)
    @rule(location=locations, sku=skus, data=st.data())
    def snapshot_of_a_true_count(self, location: str, sku: str, data: st.DataObject) -> None:
        """A count that was right when taken changes nothing, whatever moved since."""
        first = self.counted_since.get((location, sku), 0)
        if first >= len(self.counts):
            return
        as_of, on_hand = self.counts[data.draw(st.integers(first, len(self.counts) - 1))]
        current = self.world.position(location, sku).on_hand
        self._snapshot(location, sku, as_of, on_hand.get((location, sku), 0))
        assert self.world.position(location, sku).on_hand == current

    @rule()
    def relay(self) -> None:
        for _ in range(20):
            if not relay_once(self.world.bus):
                break
        self.world.clock.advance(seconds=1)

    @rule()
    def worker(self) -> None:
        """The worker runs what is due: re-sourcing after failures, expired deadlines."""
        self._run(RunDueTimers(50))

    @rule(hours=st.sampled_from((1, 5, 30, 80)))
    def time_passes(self, hours: int) -> None:
        """Deadlines (acceptance 4 h, pick 24 h, pick-up window 72 h) may pass."""
        self.world.clock.advance(timedelta(hours=hours))
        self._run(RunDueTimers(50))

    @rule(location=st.sampled_from(LOCATIONS), status=st.sampled_from(("paused", "active")))
    def set_location_status(self, location: tuple, status: str) -> None:
        """A paused location's unpicked work moves; a reopened one fills back-orders."""
        loc_id, type_, lat, lon, caps, _, handling = location
        address = Address(city=loc_id, country="US", lat=lat, lon=lon)
        self._run(PutLocation(loc_id, loc_id, type_, address, caps, status, handling))

    @rule(
        pickup=st.sampled_from(("cancel", "nearby_store", "home_delivery", "hold")),
        damaged=st.sampled_from(("resource", "resource_zero_stock", "hold")),
        attempts=st.integers(0, 3),
    )
    def switch_lifecycle_policy(self, pickup: str, damaged: str, attempts: int) -> None:
        lifecycle = {
            "pickup_failure": pickup,
            "nearby_store_km": 2000,
            "max_attempts": attempts,
            "actions": {"damaged": damaged},
        }
        self._run(PutPolicy("default", {"name": "default", "lifecycle": lifecycle}, True))

    @rule()
    def drain(self) -> None:
        """Timers and relay until nothing is due: this must come to rest, leaving no unit
        without a place (placed, back-ordered, held or cancelled)."""
        for _ in range(50):
            ran = self.world.bus.handle(RunDueTimers(1000))
            read = relay_once(self.world.bus)
            if not ran and not read:
                break
        else:
            raise AssertionError("the worker did not come to rest")
        for order in self._orders():
            for line in order.lines:
                unsourced = order.counts(line).unsourced
                assert not unsourced or order.on_hold, f"{order.id}: {unsourced} unplaced"
        self.world.clock.advance(seconds=1)

    # --- what must always hold -------------------------------------------------------

    @invariant()
    def stock_and_orders_are_consistent(self) -> None:
        seen = check_invariants(self.world.ctx.uow)
        # Commands so far ran before now; the next one runs at now: a count taken in
        # between is stamped half a second earlier.
        as_of = self.world.clock.now() - timedelta(milliseconds=500)
        self.counts.append((as_of, {(p.location_id, p.sku): p.on_hand for p in seen.positions}))

    @invariant()
    def ledger_explains_every_position(self) -> None:
        """Each entry's deltas lead from the previous entry's balances to its own, and the
        last balances are the position's (read from the in-memory store directly)."""
        tables = self.world.store.tables
        last: dict[tuple[str, str], tuple[int, int]] = {}
        for e in tables.ledger:
            on_hand, reserved = last.get((e.location_id, e.sku), (0, 0))
            assert (on_hand + e.on_hand_delta, reserved + e.reserved_delta) == (
                e.on_hand_after,
                e.reserved_after,
            ), f"ledger entry does not add up: {e}"
            last[(e.location_id, e.sku)] = (e.on_hand_after, e.reserved_after)
        for key, p in tables.positions.items():
            assert last.get(key, (0, 0)) == (p.on_hand, p.reserved), f"ledger misses {p}"


OrderGrid.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOrderGrid = OrderGrid.TestCase


def test_check_invariants_reports_a_reservation_nobody_holds() -> None:
    """The checker is not vacuous: a reservation without a fulfilment is caught."""
    world = World()
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 2))
    assert check_invariants(world.ctx.uow).orders[0].id == order.id
    with world.uow() as uow:
        uow.inventory.reserve("DC-ATL", "A", 1)
        uow.commit()
    with pytest.raises(
        AssertionError,
        match=r"reserved 3 but open fulfilments, active cart holds and open transfers hold 2",
    ):
        check_invariants(world.ctx.uow)


def test_check_invariants_reports_units_neither_placed_nor_backordered() -> None:
    world = World()
    order = world.place(("A", 2))
    with world.uow() as uow:
        stored = uow.orders.get(order.id)
        assert stored is not None
        stored.lines[0].backordered = 1  # one unit silently dropped
        uow.orders.save(stored)
        uow.commit()
    with pytest.raises(AssertionError, match="neither placed nor back-ordered"):
        check_invariants(world.ctx.uow)
