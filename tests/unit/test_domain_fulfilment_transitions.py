"""The fulfilment transition table: every allowed move works, every other one is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.factories import NOW

from ordergrid.domain.errors import Conflict, InvalidTransition
from ordergrid.domain.fulfilments import (
    HANDED_OVER,
    OPEN,
    STARTED,
    TRANSITIONS,
    Fulfilment,
    FulfilmentLine,
    FulfilmentStatus,
)

S = FulfilmentStatus

EXPECTED = {
    S.RELEASED: {S.ACCEPTED, S.REJECTED, S.EXPIRED, S.CANCELLED},
    S.ACCEPTED: {
        S.PICKED,
        S.SHIPPED,
        S.READY_FOR_PICKUP,
        S.REJECTED,
        S.EXPIRED,
        S.CANCELLED,
    },
    S.PICKED: {S.SHIPPED, S.READY_FOR_PICKUP, S.CANCELLED},
    S.READY_FOR_PICKUP: {S.COLLECTED, S.EXPIRED, S.CANCELLED},
    S.SHIPPED: set(),
    S.COLLECTED: set(),
    S.REJECTED: set(),
    S.EXPIRED: set(),
    S.CANCELLED: set(),
}
TERMINAL = [s for s, targets in EXPECTED.items() if not targets]

ALLOWED = [(a, b) for a in S for b in S if b in EXPECTED[a]]
REFUSED = [(a, b) for a in S for b in S if b not in EXPECTED[a]]


def fulfilment(status: FulfilmentStatus) -> Fulfilment:
    return Fulfilment("F1", "O1", "DC1", status, [FulfilmentLine("1", "A", 2)], NOW, NOW)


def test_table_covers_every_status_and_matches_the_contract() -> None:
    assert set(TRANSITIONS) == set(S)
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=lambda s: s.value)
def test_allowed_move_succeeds_and_is_recorded(current: S, target: S) -> None:
    f = fulfilment(current)
    later = NOW + timedelta(minutes=5)

    f.move_to(target, later, actor="store-1")

    assert f.status is target
    assert f.updated_at == later
    assert f.history == [
        {
            "from": current.value,
            "to": target.value,
            "at": later.isoformat(),
            "by": "store-1",
        }
    ]


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=lambda s: s.value)
def test_any_other_move_raises_invalid_transition_and_changes_nothing(
    current: S, target: S
) -> None:
    f = fulfilment(current)

    with pytest.raises(InvalidTransition) as exc:
        f.move_to(target, NOW + timedelta(minutes=5))

    err = exc.value
    assert isinstance(err, Conflict)
    assert err.code == "invalid_transition"
    assert err.details["current"] == current.value
    assert err.details["requested"] == target.value
    assert err.details["entity"] == "fulfilment"
    assert f.status is current
    assert f.history == []
    assert f.updated_at == NOW


@pytest.mark.parametrize("terminal", TERMINAL, ids=lambda s: s.value)
def test_terminal_state_has_no_exit(terminal: S) -> None:
    assert TRANSITIONS[terminal] == frozenset()
    for target in S:
        with pytest.raises(InvalidTransition):
            fulfilment(terminal).move_to(target, NOW)


def test_terminal_states_are_exactly_the_closed_ones() -> None:
    assert set(TERMINAL) == set(S) - OPEN
    assert set(TERMINAL) >= HANDED_OVER
    assert STARTED <= OPEN
    assert S.RELEASED in OPEN
    assert S.RELEASED not in STARTED


def test_self_transition_is_refused_for_every_status() -> None:
    for status in S:
        with pytest.raises(InvalidTransition):
            fulfilment(status).move_to(status, NOW)


def test_is_open_follows_open_set() -> None:
    for status in S:
        assert fulfilment(status).is_open is (status in OPEN)


def test_long_path_records_every_step_in_order() -> None:
    f = fulfilment(S.RELEASED)
    for step, target in enumerate((S.ACCEPTED, S.PICKED, S.READY_FOR_PICKUP, S.COLLECTED)):
        f.move_to(target, NOW + timedelta(minutes=step))
    assert [(h["from"], h["to"]) for h in f.history] == [
        ("released", "accepted"),
        ("accepted", "picked"),
        ("picked", "ready_for_pickup"),
        ("ready_for_pickup", "collected"),
    ]
