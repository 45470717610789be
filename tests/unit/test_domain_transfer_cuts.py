"""A transfer taking fewer units than it held, as pure domain rules: the movements of a
short dispatch, the lines it keeps, and a count cut that empties a transfer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ordergrid.domain.inventory import MovementReason
from ordergrid.domain.supply import Supply, SupplyKind, SupplyLine, SupplyStatus
from ordergrid.domain.transfers import Cut, cut_to_count, dispatch, held_at_origin, in_transit

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def a_transfer(*lines: tuple[str, int]) -> Supply:
    return Supply(
        id="TR-1",
        kind=SupplyKind.TRANSFER,
        location_id="ST1",
        expected_at=T0 + timedelta(days=2),
        lines=[SupplyLine(sku, q) for sku, q in lines],
        created_at=T0,
        updated_at=T0,
        origin="DC1",
    )


def test_a_short_dispatch_moves_what_left_and_releases_the_rest() -> None:
    supply = a_transfer(("A", 4), ("B", 2), ("C", 1))
    done = dispatch(supply, T0, None, None, (("A", 3), ("C", 0)))
    moved = [(m.sku, m.on_hand_delta, m.reserved_delta, m.reason) for m in done.movements]
    assert moved == [
        ("A", -3, -3, MovementReason.TRANSFER_OUT),
        ("A", 0, -1, MovementReason.TRANSFER_SHORT),
        ("B", -2, -2, MovementReason.TRANSFER_OUT),
        ("C", 0, -1, MovementReason.TRANSFER_SHORT),
    ]
    assert done.cuts == [Cut("A", 4, 3), Cut("C", 1, 0)]
    assert in_transit(supply) == {"A": 3, "B": 2}
    assert (supply.status, supply.dispatched_at) == (SupplyStatus.IN_TRANSIT, T0)


def test_a_count_cut_keeps_the_rest_and_an_emptied_transfer_is_cancelled() -> None:
    supply = a_transfer(("A", 4), ("B", 2))
    first = cut_to_count(supply, "A", 10, T0)
    assert first is not None
    cut, movement = first
    assert (cut, movement.reserved_delta) == (Cut("A", 4, 0), -4)
    assert supply.status is SupplyStatus.OPEN
    assert held_at_origin(supply) == {"B": 2}
    assert cut_to_count(supply, "A", 1, T0) is None
    second = cut_to_count(supply, "B", 2, T0)
    assert second is not None
    assert supply.status is SupplyStatus.CANCELLED
    assert held_at_origin(supply) == {}
