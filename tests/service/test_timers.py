"""Durable timers on the in-memory backend: exactly once, crash safe, driven by the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.service.factories import World, open_fulfilment, placed_at

from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.service import timers
from ordergrid.service.commands import RunDueTimers


def pending_kinds(world: World, order_id: str) -> list[str]:
    with world.uow() as uow:
        return [t.kind for t in uow.timers.pending(order_id)]


def test_a_rejection_leaves_durable_work_that_runs_once(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-RNO", "A", 5)
    order = world.place(("A", 1))
    assert pending_kinds(world, order.id) == ["accept_deadline"]
    after = world.act(open_fulfilment(order), "reject", reason="damaged", worker=False)
    assert placed_at(after) == {}
    assert pending_kinds(world, order.id) == ["reallocate"]  # the deadline went with it
    assert world.work() == 1
    assert placed_at(world.order(order.id)) == {"DC-RNO": 1}
    assert world.work() == 0  # nothing runs twice
    assert pending_kinds(world, order.id) == ["accept_deadline"]
    assert len(world.decisions(order.id)) == 2


def test_work_that_fails_midway_is_rolled_back_and_done_by_the_next_run(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-RNO", "A", 5)
    order = world.place(("A", 1))
    world.act(open_fulfilment(order), "reject", reason="damaged", worker=False)
    real = timers.WORK["reallocate"]

    def crash_after_the_work(*args: object) -> None:
        real(*args)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # the process dies before the commit

    monkeypatch.setitem(timers.WORK, "reallocate", crash_after_the_work)
    with pytest.raises(KeyboardInterrupt):
        world.work()
    assert placed_at(world.order(order.id)) == {}
    assert world.position("DC-RNO", "A").reserved == 0
    monkeypatch.setitem(timers.WORK, "reallocate", real)
    assert world.work() == 1
    assert placed_at(world.order(order.id)) == {"DC-RNO": 1}
    assert world.position("DC-RNO", "A").reserved == 1


def test_a_timer_that_fails_is_tried_again_later_without_blocking_others(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-RNO", "A", 5)
    broken = world.place(("A", 1))
    fine = world.place(("A", 1))
    world.act(open_fulfilment(broken), "reject", reason="damaged", worker=False)
    world.act(open_fulfilment(fine), "reject", reason="damaged", worker=False)
    real = timers.WORK["reallocate"]

    def fails_for_one(uow, timer, ctx, now) -> None:  # type: ignore[no-untyped-def]
        if timer.order_id == broken.id:
            raise ValueError("unexpected data")
        real(uow, timer, ctx, now)

    monkeypatch.setitem(timers.WORK, "reallocate", fails_for_one)
    assert world.work() == 2
    assert placed_at(world.order(fine.id)) == {"DC-RNO": 1}
    with world.uow() as uow:
        [waiting] = [t for t in uow.timers.pending(broken.id) if t.kind == "reallocate"]
    assert waiting.attempts == 1
    assert waiting.due_at > world.clock.now()
    monkeypatch.setitem(timers.WORK, "reallocate", real)
    world.clock.advance(timedelta(seconds=3))
    assert world.bus.handle(RunDueTimers()) == 1
    assert placed_at(world.order(broken.id)) == {"DC-RNO": 1}


def test_deadlines_follow_the_fulfilment_and_fire_on_the_clock(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    world.stock("DC-RNO", "A", 5)
    order = world.place(("A", 1))
    fid = open_fulfilment(order)
    world.act(fid, "accept")
    world.clock.advance(timedelta(hours=23))
    assert world.work() == 0
    world.clock.advance(timedelta(hours=2))
    assert world.work() == 2  # the pick deadline, then the re-sourcing it scheduled
    after = world.order(order.id)
    f = after.fulfilment(fid)
    assert f is not None
    assert (f.status, f.reason) == (FulfilmentStatus.EXPIRED, "pick_expired")
    assert placed_at(after) == {"DC-RNO": 1}
    assert "DC-ATL" in after.excluded_locations
