"""The outbox's consumer lease and backlog, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from tests.integration.conftest import wire

from ordergrid.adapters.memory import InMemoryStore
from ordergrid.adapters.memory.uow import unit_of_work_factory
from ordergrid.domain.events import Event
from ordergrid.service.context import UnitOfWorkFactory

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield unit_of_work_factory(InMemoryStore())
        return
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    app = wire(request.getfixturevalue(name))
    yield app.ctx.uow
    app.close()


def append(uow: UnitOfWorkFactory, count: int) -> None:
    with uow() as u:
        u.outbox.append([Event("inventory.changed", {"n": n}) for n in range(count)], T0)
        u.commit()


def test_backlog_counts_the_events_after_a_consumer_position(uow: UnitOfWorkFactory) -> None:
    append(uow, 3)
    append(uow, 2)
    with uow(readonly=True) as u:
        events = u.outbox.after((0, 0), 10) or []
        assert u.outbox.backlog((0, 0), 100) == 5
        assert u.outbox.backlog((0, 0), 4) == 4  # counted up to the limit
    if events:  # PostgreSQL shows them once older transactions ended; counting does not wait
        with uow() as u:
            u.outbox.set_consumer_position("nats", events[2].cursor)
            u.commit()
        with uow(readonly=True) as u:
            position = u.outbox.consumer_position("nats")
            assert u.outbox.backlog(position, 100) == len(events) - 3


def test_a_consumer_lease_is_granted_to_a_unit_of_work(uow: UnitOfWorkFactory) -> None:
    with uow(readonly=True) as u:
        assert u.outbox.hold_consumer("nats")
    with uow(readonly=True) as u:
        assert u.outbox.hold_consumer("nats")  # ended with the unit of work before


@pytest.mark.postgres
def test_a_held_lease_is_refused_to_others_until_its_unit_of_work_ends(postgres_url: str) -> None:
    app = wire(postgres_url)
    try:
        with app.ctx.uow(readonly=True) as holder:
            assert holder.outbox.hold_consumer("nats")
            with app.ctx.uow(readonly=True) as other:
                assert not other.outbox.hold_consumer("nats")
                assert other.outbox.hold_consumer("another-consumer")
        with app.ctx.uow(readonly=True) as other:
            assert other.outbox.hold_consumer("nats")
    finally:
        app.close()


@pytest.mark.postgres
def test_holding_a_lease_does_not_hold_back_other_consumers(postgres_url: str) -> None:
    app = wire(postgres_url)
    try:
        with app.ctx.uow(readonly=True) as holder:
            assert holder.outbox.hold_consumer("nats")
            holder.outbox.after((0, 0), 10)
            append(app.ctx.uow, 2)
            deadline = time.monotonic() + 10
            seen: list[object] = []
            while len(seen) < 2:
                with app.ctx.uow(readonly=True) as reader:
                    seen = list(reader.outbox.after((0, 0), 10))
                assert time.monotonic() < deadline, "the lease holds back the outbox horizon"
    finally:
        app.close()


HOLD_AND_WAIT = """
import sys, time
from tests.integration.conftest import wire
app = wire(sys.argv[1])
with app.ctx.uow(readonly=True) as uow:
    assert uow.outbox.hold_consumer("nats")
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.mark.postgres
def test_the_lease_of_a_killed_process_lapses_by_itself(postgres_url: str) -> None:
    app = wire(postgres_url)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, postgres_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with app.ctx.uow(readonly=True) as u:
            assert not u.outbox.hold_consumer("nats")
        holder.kill()  # SIGKILL: no clean-up runs in the holder
        holder.wait(10)
        deadline = time.monotonic() + 10
        while True:
            with app.ctx.uow(readonly=True) as u:
                if u.outbox.hold_consumer("nats"):
                    break
            assert time.monotonic() < deadline, "the dead holder's lease never lapsed"
            time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait(10)
        app.close()
