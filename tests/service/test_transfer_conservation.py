"""Transfers conserve units: whatever sequence of transfers is created, dispatched
(whole or short), received in parts or cancelled, with counts at the origin in between,
the origin's on-hand falls by exactly what was dispatched plus what counts took away,
what is in transit is what was dispatched and not received (or lost), the destination
gains exactly what was received, every unit a transfer gave up is in the ledger and on
its events, and no position's availability goes below zero."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.service.factories import World

from ordergrid.domain.errors import Conflict, InvalidInput
from ordergrid.domain.supply import SupplyStatus
from ordergrid.domain.transfers import in_transit, lost_in_transit
from ordergrid.service.commands import ApplySnapshot
from ordergrid.service.ports import LedgerFilter
from ordergrid.service.supply_commands import (
    CancelSupply,
    DispatchSupply,
    PutSupply,
    ReceiveSupply,
)

ORIGIN, DESTINATION, START = "DC-ATL", "ST-NY1", 12

step = st.one_of(
    st.tuples(st.just("create"), st.integers(1, 8)),
    # None: the whole transfer leaves; a number: the units that leave (more is refused).
    st.tuples(st.just("dispatch"), st.integers(0, 4), st.one_of(st.none(), st.integers(0, 8))),
    st.tuples(st.just("receive"), st.integers(0, 4), st.integers(1, 5)),
    st.tuples(st.just("cancel"), st.integers(0, 4)),
    st.tuples(st.just("order"), st.integers(1, 4)),
    st.tuples(st.just("count"), st.integers(0, START)),
)


def run(world: World, ids: list[str], action: tuple[int | str, ...], n: int) -> None:
    kind = action[0]
    if kind == "create":
        supply_id = f"TR-{len(ids)}"
        cmd = PutSupply(
            supply_id,
            "transfer",
            DESTINATION,
            world.clock.now() + timedelta(days=1),
            (("A", int(action[1])),),
            origin=ORIGIN,
        )
        world.bus.handle(cmd)
        ids.append(supply_id)
    elif kind == "order":
        world.place(("A", int(action[1])))
    elif kind == "count":
        world.bus.handle(ApplySnapshot(ORIGIN, world.clock.now(), (("A", int(action[1])),)))
        world.work()  # the short count gives way: carts, then transfers, then orders
    elif ids:
        supply_id = ids[int(action[1]) % len(ids)]
        if kind == "dispatch":
            sent = None if action[2] is None else (("A", int(action[2])),)
            world.bus.handle(DispatchSupply(supply_id, lines=sent))
        elif kind == "cancel":
            world.bus.handle(CancelSupply(supply_id))
        else:
            world.bus.handle(ReceiveSupply(supply_id, f"R-{n}", (("A", int(action[2])),)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=14))
def test_transfers_conserve_units_and_never_oversell(steps: list[tuple[int | str, ...]]) -> None:
    world = World()
    world.stock(ORIGIN, "A", START)
    ids: list[str] = []
    for n, action in enumerate(steps):
        # A refusal (short origin, wrong state, over-receipt) changes nothing.
        with contextlib.suppress(Conflict, InvalidInput):
            run(world, ids, action, n)
        world.clock.advance(seconds=1)
        check(world, ids)


def check(world: World, ids: list[str]) -> None:
    with world.uow() as uow:
        docs = [s for s in (uow.supply.get(i) for i in ids) if s is not None]
        entries = uow.inventory.ledger(LedgerFilter("A", ORIGIN), 10_000, None)
        events = uow.outbox.after((0, 0), 10_000)
    # A short dispatch leaves the line expecting what left: its quantity is what was sent.
    dispatched = sum(line.quantity for s in docs if s.dispatched_at for line in s.lines)
    received = sum(line.received for s in docs for line in s.lines)
    moving = sum(sum(in_transit(s).values()) for s in docs)
    lost = sum(sum(lost_in_transit(s).values()) for s in docs)
    held = sum(line.quantity for s in docs if s.status is SupplyStatus.OPEN for line in s.lines)
    counted = sum(e.on_hand_delta for e in entries if e.reason == "snapshot")
    given_up = -sum(e.reserved_delta for e in entries if e.reason == "transfer_short")
    told = sum(
        int(line["short"])
        for e in events
        if e.type in ("supply.updated", "supply.cancelled") and "short" in e.data
        for line in e.data["short"]
    )
    origin, store = world.position(ORIGIN, "A"), world.position(DESTINATION, "A")
    # Orders only reserve here (nothing ships): on-hand leaves the origin by transfer or
    # by count only.
    assert START + counted - origin.on_hand == dispatched
    assert origin.on_hand + moving + store.on_hand + lost == START + counted
    assert dispatched == moving + received + lost
    assert store.on_hand == received
    assert given_up == told
    assert origin.reserved >= held
    assert origin.on_hand - origin.reserved >= 0
    assert store.on_hand - store.reserved >= 0
