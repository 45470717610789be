"""Transfers conserve units: whatever sequence of transfers is created, dispatched,
received in parts or cancelled, the origin's on-hand falls by exactly what was
dispatched, what is in transit is what was dispatched and not received (or lost), the
destination gains exactly what was received, and no position's availability goes
below zero."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.service.factories import World

from ordergrid.domain.errors import Conflict, InvalidInput
from ordergrid.domain.supply import SupplyStatus
from ordergrid.domain.transfers import in_transit, lost_in_transit
from ordergrid.service.supply_commands import (
    CancelSupply,
    DispatchSupply,
    PutSupply,
    ReceiveSupply,
)

ORIGIN, DESTINATION, START = "DC-ATL", "ST-NY1", 12

step = st.one_of(
    st.tuples(st.just("create"), st.integers(1, 8)),
    st.tuples(st.just("dispatch"), st.integers(0, 4)),
    st.tuples(st.just("receive"), st.integers(0, 4), st.integers(1, 5)),
    st.tuples(st.just("cancel"), st.integers(0, 4)),
    st.tuples(st.just("order"), st.integers(1, 4)),
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
    elif ids:
        supply_id = ids[int(action[1]) % len(ids)]
        if kind == "dispatch":
            world.bus.handle(DispatchSupply(supply_id))
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
    dispatched = sum(line.quantity for s in docs if s.dispatched_at for line in s.lines)
    received = sum(line.received for s in docs for line in s.lines)
    moving = sum(sum(in_transit(s).values()) for s in docs)
    lost = sum(sum(lost_in_transit(s).values()) for s in docs)
    held = sum(line.quantity for s in docs if s.status is SupplyStatus.OPEN for line in s.lines)
    origin, store = world.position(ORIGIN, "A"), world.position(DESTINATION, "A")
    # Orders only reserve here (nothing ships): on-hand leaves the origin by transfer only.
    assert START - origin.on_hand == dispatched
    assert dispatched == moving + received + lost
    assert store.on_hand == received
    assert origin.reserved >= held
    assert origin.on_hand - origin.reserved >= 0
    assert store.on_hand - store.reserved >= 0
