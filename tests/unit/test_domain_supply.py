"""Supply documents: the transition table, pegging arithmetic, receipts, and projected
availability by date."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordergrid.domain.errors import Conflict, InvalidInput, InvalidTransition
from ordergrid.domain.supply import (
    TRANSITIONS,
    Peg,
    ProjectedStep,
    Supply,
    SupplyKind,
    SupplyLine,
    SupplyStatus,
    Waiting,
    available_by,
    check_replaceable,
    earliest_date_for,
    peg,
    projected_availability,
    receive,
    release_all,
    serve_pegs,
    trim_pegs,
    unpeg,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def a_supply(
    *lines: tuple[str, int],
    supply_id: str = "PO-1",
    location_id: str = "DC1",
    expected_in_days: float = 5,
) -> Supply:
    return Supply(
        id=supply_id,
        kind=SupplyKind.PURCHASE_ORDER,
        location_id=location_id,
        expected_at=T0 + timedelta(days=expected_in_days),
        lines=[SupplyLine(sku, qty) for sku, qty in lines],
        created_at=T0,
        updated_at=T0,
    )


def waiting(order_no: int, quantity: int, sku: str = "A", line_id: str = "1") -> Waiting:
    return Waiting(f"O{order_no:03}", line_id, sku, quantity, T0 + timedelta(minutes=order_no))


def take_all(_: Peg, offered: int) -> int:
    return offered


# --- transitions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (SupplyStatus.OPEN, SupplyStatus.PARTIALLY_RECEIVED),
        (SupplyStatus.OPEN, SupplyStatus.RECEIVED),
        (SupplyStatus.OPEN, SupplyStatus.CANCELLED),
        (SupplyStatus.PARTIALLY_RECEIVED, SupplyStatus.PARTIALLY_RECEIVED),
        (SupplyStatus.PARTIALLY_RECEIVED, SupplyStatus.RECEIVED),
        (SupplyStatus.PARTIALLY_RECEIVED, SupplyStatus.CANCELLED),
    ],
)
def test_allowed_transitions_move_the_status(start: SupplyStatus, target: SupplyStatus) -> None:
    s = a_supply(("A", 1))
    s.status = start
    s.move_to(target, T0 + timedelta(hours=1))
    assert s.status is target
    assert s.updated_at == T0 + timedelta(hours=1)


@pytest.mark.parametrize("start", [SupplyStatus.RECEIVED, SupplyStatus.CANCELLED])
@pytest.mark.parametrize("target", list(SupplyStatus))
def test_received_and_cancelled_documents_are_final(
    start: SupplyStatus, target: SupplyStatus
) -> None:
    s = a_supply(("A", 1))
    s.status = start
    with pytest.raises(InvalidTransition) as err:
        s.move_to(target, T0)
    assert err.value.code == "invalid_transition"
    assert s.status is start


def test_every_status_has_a_row_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == set(SupplyStatus)


def test_a_document_with_a_receipt_cannot_be_replaced() -> None:
    s = a_supply(("A", 2))
    check_replaceable(s)
    receive(s, [("A", 1)], T0)
    with pytest.raises(Conflict) as err:
        check_replaceable(s)
    assert err.value.code == "supply_not_replaceable"


# --- pegging -----------------------------------------------------------------------------


def test_pegging_takes_only_free_units() -> None:
    s = a_supply(("A", 5))
    first = peg(s, waiting(1, 3), T0)
    second = peg(s, waiting(2, 3), T0)
    assert first is not None
    assert first.quantity == 3
    assert second is not None
    assert second.quantity == 2
    assert peg(s, waiting(3, 1), T0) is None
    assert s.lines[0].pegged == 5


def test_pegging_the_same_line_twice_merges_into_one_peg() -> None:
    s = a_supply(("A", 5))
    peg(s, waiting(1, 2), T0)
    peg(s, waiting(1, 1), T0)
    assert [(p.order_id, p.quantity) for p in s.pegs] == [("O001", 3)]


def test_cancelled_supply_takes_no_pegs() -> None:
    s = a_supply(("A", 5))
    s.move_to(SupplyStatus.CANCELLED, T0)
    assert peg(s, waiting(1, 1), T0) is None


def test_unpeg_releases_no_more_than_held() -> None:
    s = a_supply(("A", 5))
    peg(s, waiting(1, 2), T0)
    assert unpeg(s, "O001", "1", 5) == 2
    assert s.pegs == []
    assert s.lines[0].pegged == 0
    assert unpeg(s, "O001", "1", 1) == 0


def test_release_all_returns_every_peg() -> None:
    s = a_supply(("A", 5), ("B", 2))
    peg(s, waiting(1, 2), T0)
    peg(s, waiting(2, 2, sku="B"), T0)
    assert len(release_all(s)) == 2
    assert [line.pegged for line in s.lines] == [0, 0]


_ops = st.lists(
    st.tuples(
        st.sampled_from(["peg", "unpeg", "receive"]),
        st.integers(1, 8),  # order number
        st.integers(1, 6),  # quantity
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(quantity=st.integers(1, 20), ops=_ops)
def test_pegged_never_exceeds_open_quantity_and_matches_the_pegs(
    quantity: int, ops: list[tuple[str, int, int]]
) -> None:
    s = a_supply(("A", quantity))
    for op, order_no, qty in ops:
        if op == "peg":
            peg(s, waiting(order_no, qty), T0)
        elif op == "unpeg":
            unpeg(s, f"O{order_no:03}", "1", qty)
        elif s.incoming and qty <= s.lines[0].open:
            receive(s, [("A", qty)], T0)
            serve_pegs(s, "A", qty, take_all)
            trim_pegs(s)
        line = s.lines[0]
        assert 0 <= line.pegged <= line.open
        assert line.pegged == sum(p.quantity for p in s.pegs)
        assert all(p.quantity > 0 for p in s.pegs)


# --- receipts ----------------------------------------------------------------------------


def test_receipt_moves_to_partially_received_then_received() -> None:
    s = a_supply(("A", 3), ("B", 1))
    receive(s, [("A", 2)], T0)
    assert s.status is SupplyStatus.PARTIALLY_RECEIVED
    receive(s, [("A", 1), ("B", 1)], T0)
    assert s.status is SupplyStatus.RECEIVED
    assert [line.received for line in s.lines] == [3, 1]


def test_over_receipt_is_refused_naming_the_line_and_books_nothing() -> None:
    s = a_supply(("A", 3), ("B", 1))
    with pytest.raises(InvalidInput) as err:
        receive(s, [("A", 1), ("B", 2)], T0)
    assert err.value.code == "over_receipt"
    assert err.value.details == {"field": "lines.1.quantity", "expected": 1}
    assert [line.received for line in s.lines] == [0, 0]
    assert s.status is SupplyStatus.OPEN


def test_receiving_a_sku_the_document_does_not_carry_is_refused() -> None:
    s = a_supply(("A", 3))
    with pytest.raises(InvalidInput) as err:
        receive(s, [("B", 1)], T0)
    assert err.value.code == "sku_not_on_supply"


def test_received_units_serve_pegs_oldest_order_first() -> None:
    s = a_supply(("A", 6))
    peg(s, waiting(3, 2), T0)
    peg(s, waiting(1, 2), T0)
    peg(s, waiting(2, 2), T0)
    receive(s, [("A", 3)], T0)
    served = serve_pegs(s, "A", 3, take_all)
    assert [(x.peg.order_id, x.units) for x in served] == [("O001", 2), ("O002", 1)]
    assert {p.order_id: p.quantity for p in s.pegs} == {"O002": 1, "O003": 2}


def test_units_an_order_refuses_go_to_the_next_peg() -> None:
    s = a_supply(("A", 4))
    peg(s, waiting(1, 2), T0)
    peg(s, waiting(2, 2), T0)
    receive(s, [("A", 2)], T0)
    served = serve_pegs(s, "A", 2, lambda p, offered: 0 if p.order_id == "O001" else offered)
    assert [(x.peg.order_id, x.units) for x in served] == [("O002", 2)]
    released = trim_pegs(s)
    assert [(p.order_id, p.quantity) for p in released] == []
    assert s.lines[0].pegged == 2 == s.lines[0].open


def test_trim_releases_newest_orders_first() -> None:
    s = a_supply(("A", 4))
    peg(s, waiting(1, 2), T0)
    peg(s, waiting(2, 2), T0)
    receive(s, [("A", 3)], T0)
    serve_pegs(s, "A", 3, lambda p, offered: 0)  # nobody takes them
    released = trim_pegs(s)
    assert [(p.order_id, p.quantity) for p in released] == [("O002", 2), ("O001", 1)]
    assert s.lines[0].pegged == 1


@settings(max_examples=200, deadline=None)
@given(
    pegs=st.lists(st.integers(1, 5), min_size=1, max_size=10),
    refusing=st.sets(st.integers(0, 9)),
    received=st.integers(1, 60),
)
def test_received_units_go_oldest_first_and_never_twice(
    pegs: list[int], refusing: set[int], received: int
) -> None:
    total = sum(pegs)
    s = a_supply(("A", total))
    # Pegged in a shuffled order: serving must follow the orders' age, not pegging order.
    for n in sorted(range(len(pegs)), key=lambda n: (n * 7) % len(pegs)):
        peg(s, waiting(n, pegs[n]), T0)
    units = min(received, total)
    receive(s, [("A", units)], T0)
    served = serve_pegs(
        s, "A", units, lambda p, offered: 0 if int(p.order_id[1:]) in refusing else offered
    )
    got = Counter[str]()
    for x in served:
        got[x.peg.order_id] += x.units
    assert sum(got.values()) <= units
    for n, wanted in enumerate(pegs):
        assert got[f"O{n:03}"] <= wanted
    order_nos = [int(x.peg.order_id[1:]) for x in served]
    assert order_nos == sorted(order_nos)
    assert len(order_nos) == len(set(order_nos))
    # An accepting order is passed over only when the units ran out before it.
    takers = [n for n in range(len(pegs)) if n not in refusing]
    expected_units = units
    for n in takers:
        share = min(pegs[n], expected_units)
        assert got[f"O{n:03}"] == share
        expected_units -= share
    assert s.lines[0].pegged == total - sum(got.values())
    trim_pegs(s)
    assert s.lines[0].pegged <= s.lines[0].open


# --- projected availability ----------------------------------------------------------------


def test_projection_adds_unpegged_incoming_units_by_expected_date() -> None:
    soon = a_supply(("A", 5), supply_id="PO-SOON", expected_in_days=2)
    later = a_supply(("A", 10), supply_id="PO-LATER", expected_in_days=9)
    peg(later, waiting(1, 4), T0)
    elsewhere = a_supply(("A", 50), supply_id="PO-X", location_id="DC2")
    other_sku = a_supply(("B", 50), supply_id="PO-B")
    steps = projected_availability(3, [later, elsewhere, soon, other_sku], "DC1", "A")
    assert steps == [
        ProjectedStep(None, 3),
        ProjectedStep(soon.expected_at, 8),
        ProjectedStep(later.expected_at, 14),
    ]
    assert available_by(steps, T0) == 3
    assert available_by(steps, T0 + timedelta(days=3)) == 8
    assert available_by(steps, T0 + timedelta(days=30)) == 14
    assert earliest_date_for(steps, 8) == ProjectedStep(soon.expected_at, 8)
    assert earliest_date_for(steps, 15) is None


def test_projection_ignores_received_and_cancelled_supply() -> None:
    received = a_supply(("A", 2), supply_id="PO-R")
    receive(received, [("A", 2)], T0)
    cancelled = a_supply(("A", 2), supply_id="PO-C")
    cancelled.move_to(SupplyStatus.CANCELLED, T0)
    partly = a_supply(("A", 5), supply_id="PO-P")
    receive(partly, [("A", 3)], T0)
    steps = projected_availability(0, [received, cancelled, partly], "DC1", "A")
    assert steps == [ProjectedStep(None, 0), ProjectedStep(partly.expected_at, 2)]


def test_late_supply_counts_as_arriving_now() -> None:
    late = a_supply(("A", 4), expected_in_days=-3)
    steps = projected_availability(1, [late], "DC1", "A")
    assert available_by(steps, T0) == 5


@settings(max_examples=100, deadline=None)
@given(
    now=st.integers(0, 50),
    docs=st.lists(st.tuples(st.integers(1, 30), st.integers(0, 20), st.integers(0, 20))),
)
def test_projection_never_decreases_and_ends_at_the_total_free(
    now: int, docs: list[tuple[int, int, int]]
) -> None:
    supplies = []
    for i, (days, quantity, pegged) in enumerate(docs):
        s = a_supply(("A", quantity + 1), supply_id=f"PO-{i}", expected_in_days=days)
        peg(s, waiting(i, pegged), T0)
        supplies.append(s)
    steps = projected_availability(now, supplies, "DC1", "A")
    values = [s.available for s in steps]
    assert values == sorted(values)
    assert values[-1] == now + sum(s.lines[0].free for s in supplies)
