"""Routing policies through the service layer: versions, activation, roll-back, effect."""

from __future__ import annotations

import pytest
from tests.service.factories import World

from ordergrid.domain.errors import InvalidInput, NotFound
from ordergrid.domain.network import Address
from ordergrid.service.commands import ActivatePolicy, PutLocation, PutPolicy

DCS_ONLY = {
    "name": "DCs only",
    "selector": {"channels": ["web"]},
    "constraints": {"location_types": ["dc"]},
}
STORES_TOO = {"name": "stores too", "selector": {"channels": ["web"]}}


def decision_policy(world: World, order_id: str) -> dict[str, object]:
    policy: dict[str, object] = world.decisions(order_id)[-1].explanation["policy"]
    return policy


def test_new_versions_are_stored_but_decide_nothing_until_activated(world: World) -> None:
    record, version = world.bus.handle(PutPolicy("web", DCS_ONLY))
    assert (record.latest_version, record.active_version, version.version) == (1, None, 1)
    world.stock("ST-NY1", "A", 5)
    world.stock("DC-ATL", "A", 5)
    order = world.place(("A", 1))
    assert decision_policy(world, order.id) == {"id": "default", "version": 1}


def test_the_active_version_decides_and_is_recorded_on_the_decision(world: World) -> None:
    world.stock("ST-NY1", "A", 5)
    world.stock("DC-ATL", "A", 5)
    world.bus.handle(PutPolicy("web", STORES_TOO, activate=True))
    world.bus.handle(PutPolicy("web", DCS_ONLY, activate=True))
    order = world.place(("A", 1))
    assert [f.location_id for f in order.fulfilments] == ["DC-ATL"]
    assert decision_policy(world, order.id) == {"id": "web", "version": 2}
    stores = [
        c
        for c in world.decisions(order.id)[-1].explanation["candidates"]
        if c["location_id"] == "ST-NY1"
    ]
    assert stores[0]["reason"] == "location_type_not_allowed"


def test_roll_back_to_an_older_version(world: World) -> None:
    world.bus.handle(PutPolicy("web", STORES_TOO))
    world.bus.handle(PutPolicy("web", DCS_ONLY, activate=True))
    record = world.bus.handle(ActivatePolicy("web", version=1))
    assert record.active_version == 1
    world.stock("ST-NY1", "A", 5)
    order = world.place(("A", 1))
    assert decision_policy(world, order.id) == {"id": "web", "version": 1}
    assert [f.location_id for f in order.fulfilments] == ["ST-NY1"]


def test_deactivated_policy_gives_way_to_the_default(world: World) -> None:
    world.bus.handle(PutPolicy("web", DCS_ONLY, activate=True))
    record = world.bus.handle(ActivatePolicy("web", active=False))
    assert record.active_version is None
    world.stock("DC-ATL", "A", 5)
    assert decision_policy(world, world.place(("A", 1)).id)["id"] == "default"


def test_activating_what_does_not_exist_is_refused(world: World) -> None:
    with pytest.raises(NotFound):
        world.bus.handle(ActivatePolicy("nope"))
    world.bus.handle(PutPolicy("web", DCS_ONLY))
    with pytest.raises(InvalidInput) as refused:
        world.bus.handle(ActivatePolicy("web", version=2))
    assert refused.value.code == "unknown_policy_version"


def test_fallback_of_the_policy_applies(world: World) -> None:
    world.bus.handle(PutPolicy("web", {**DCS_ONLY, "fallback": "cancel"}, activate=True))
    world.stock("DC-ATL", "A", 1)
    order = world.place(("A", 3))
    line = order.lines[0]
    assert (order.counts(line).allocated, line.cancelled, line.backordered) == (1, 2, 0)


def test_daily_capacity_moves_work_to_the_next_location(world: World) -> None:
    world.bus.handle(
        PutLocation(
            "ST-NY1",
            "ST-NY1",
            "store",
            Address(city="NYC", country="US", lat=40.7128, lon=-74.006),
            frozenset({"ship", "pickup"}),
            handling_cost=0.0,
            orders_per_day=1,
        )
    )
    world.stock("ST-NY1", "A", 10)
    world.stock("DC-RNO", "A", 10)
    first = world.place(("A", 5))
    second = world.place(("A", 5))
    assert [f.location_id for f in first.fulfilments] == ["ST-NY1"]
    assert [f.location_id for f in second.fulfilments] == ["DC-RNO"]
    reasons = {
        c["location_id"]: c["reason"]
        for c in world.decisions(second.id)[-1].explanation["candidates"]
    }
    assert reasons["ST-NY1"] == "capacity_reached"
