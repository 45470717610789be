"""Sourcing waiting orders together (batch re-optimisation)."""

from __future__ import annotations

from tests.unit.factories import NOW, location, order, view

from ordergrid.domain.sourcing import DEFAULT_POLICY, SourcingRequest, source
from ordergrid.domain.sourcing.batch import source_batch

DEST = (48.85, 2.35)


def _network() -> tuple[list, dict]:  # type: ignore[type-arg]
    # DC1 holds one A and the only B; DC2 holds plenty of A.
    dc1, dc2 = location("DC1", 48.86, 2.36), location("DC2", 48.5, 2.0)
    return [dc1, dc2], {("DC1", "A"): 1, ("DC1", "B"): 1, ("DC2", "A"): 5}


def test_one_at_a_time_splits_an_order_that_the_batch_ships_whole() -> None:
    locs, stock = _network()
    first = SourcingRequest.for_order(order([("1", "A", 1)], id="O1", dest=DEST))
    second = SourcingRequest.for_order(order([("1", "A", 1), ("2", "B", 1)], id="O2", dest=DEST))
    v = view(locs, stock)
    alone = source(first, v, DEFAULT_POLICY, NOW)
    assert [s.location_id for s in alone.plan.shipments] == ["DC1"]  # takes DC1's only A

    d1, d2 = source_batch([first, second], v, DEFAULT_POLICY, NOW)
    assert [s.location_id for s in d1.plan.shipments] == ["DC2"]
    assert [s.location_id for s in d2.plan.shipments] == ["DC1"]


def test_batch_never_promises_a_unit_twice() -> None:
    locs, stock = _network()
    reqs = [
        SourcingRequest.for_order(order([("1", "A", 2)], id=f"O{i}", dest=DEST)) for i in range(4)
    ]
    decisions = source_batch(reqs, view(locs, stock), DEFAULT_POLICY, NOW)
    used: dict[tuple[str, str], int] = {}
    for d in decisions:
        for s in d.plan.shipments:
            for a in s.allocations:
                used[(s.location_id, a.sku)] = used.get((s.location_id, a.sku), 0) + a.quantity
    assert all(n <= stock[key] for key, n in used.items())
    assert sum(d.plan.units for d in decisions) == 6  # every unit there is, and no more


def test_batch_is_deterministic_and_keeps_the_request_order() -> None:
    locs, stock = _network()
    reqs = [
        SourcingRequest.for_order(order([("1", "A", 1)], id="O1", dest=DEST)),
        SourcingRequest.for_order(order([("1", "A", 1), ("2", "B", 1)], id="O2", dest=DEST)),
    ]
    once = source_batch(reqs, view(locs, stock), DEFAULT_POLICY, NOW)
    again = source_batch(reqs, view(locs, stock), DEFAULT_POLICY, NOW)
    assert [d.plan for d in once] == [d.plan for d in again]
    assert [d.plan.units for d in once] == [1, 2]
