"""The cart reservation model: its transition table, expiry arithmetic and holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordergrid.domain.errors import InvalidInput, InvalidTransition
from ordergrid.domain.inventory import MovementReason
from ordergrid.domain.reservations import (
    TRANSITIONS,
    Hold,
    Reservation,
    ReservationAlreadyConverted,
    ReservationLimits,
    ReservationLine,
    ReservationNotActive,
    ReservationStatus,
    hold_movements,
    shortages,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = ReservationStatus


def a_cart() -> Reservation:
    return Reservation(
        id="R1",
        channel="web",
        lines=[
            ReservationLine("A", 3, (Hold("DC1", 2), Hold("S1", 1))),
            ReservationLine("B", 1, (Hold("DC1", 1),)),
        ],
        created_at=T0,
        updated_at=T0,
        expires_at=T0 + timedelta(minutes=15),
        expires_at_limit=T0 + timedelta(hours=1),
    )


def ended(status: ReservationStatus) -> Reservation:
    cart = a_cart()
    if status is S.RELEASED:
        cart.release(T0, None)
    elif status is S.EXPIRED:
        cart.expire(T0)
    elif status is S.CONVERTED:
        cart.convert("O1", T0, None)
    return cart


def test_only_an_active_reservation_can_change_and_every_end_is_final() -> None:
    assert TRANSITIONS[S.ACTIVE] == {S.RELEASED, S.EXPIRED, S.CONVERTED}
    assert all(not TRANSITIONS[s] for s in S if s is not S.ACTIVE)


@pytest.mark.parametrize("status", [S.RELEASED, S.EXPIRED])
def test_an_ended_reservation_refuses_every_transition(status: ReservationStatus) -> None:
    cart = ended(status)
    with pytest.raises(InvalidTransition) as err:
        cart.release(T0, None)
    assert err.value.code == "invalid_transition"
    with pytest.raises(InvalidTransition):
        cart.expire(T0)
    with pytest.raises(InvalidTransition):
        cart.convert("O2", T0, None)


def test_a_converted_reservation_names_its_order_when_converted_again() -> None:
    cart = ended(S.CONVERTED)
    with pytest.raises(ReservationAlreadyConverted) as err:
        cart.convert("O2", T0, None)
    assert (err.value.code, err.value.details["order_id"]) == (
        "reservation_already_converted",
        "O1",
    )


def test_ending_releases_exactly_what_was_held_once() -> None:
    cart = a_cart()
    held = hold_movements(cart)
    assert [(m.location_id, m.sku, m.reserved_delta, m.reason) for m in held] == [
        ("DC1", "A", 2, MovementReason.RESERVATION),
        ("DC1", "B", 1, MovementReason.RESERVATION),
        ("S1", "A", 1, MovementReason.RESERVATION),
    ]
    freed = cart.expire(T0)
    assert [(m.location_id, m.sku, -m.reserved_delta) for m in freed] == [
        (m.location_id, m.sku, m.reserved_delta) for m in held
    ]
    assert {m.ref for m in freed} == {"reservation:R1"}
    assert cart.holds() == {}


def test_extend_never_passes_the_limit_nor_shortens() -> None:
    cart = a_cart()
    cart.extend(timedelta(minutes=5), T0 + timedelta(minutes=1), None)
    assert cart.expires_at == T0 + timedelta(minutes=15)  # not shortened
    cart.extend(timedelta(hours=2), T0 + timedelta(minutes=10), None)
    assert cart.expires_at == T0 + timedelta(hours=1)


def test_extend_after_expiry_or_end_is_a_conflict_with_the_status() -> None:
    with pytest.raises(ReservationNotActive) as late:
        a_cart().extend(timedelta(minutes=5), T0 + timedelta(minutes=15), None)
    assert late.value.code == "reservation_expired"
    with pytest.raises(ReservationNotActive) as released:
        ended(S.RELEASED).extend(timedelta(minutes=5), T0, None)
    assert released.value.code == "reservation_released"


@given(st.integers(-10, 10_000))
def test_ttl_is_the_default_or_within_bounds(seconds: int) -> None:
    limits = ReservationLimits(max_ttl=timedelta(hours=2))
    assert limits.ttl(None) == timedelta(minutes=15)
    if 1 <= seconds <= 7200:
        assert limits.ttl(seconds) == timedelta(seconds=seconds)
    else:
        with pytest.raises(InvalidInput) as err:
            limits.ttl(seconds)
        assert err.value.details["field"] == "ttl_seconds"


def test_shortages_list_each_short_sku_with_what_could_be_held() -> None:
    lines = [
        ReservationLine("A", 3, (Hold("DC1", 3),)),
        ReservationLine("B", 4, (Hold("DC1", 1), Hold("S1", 1))),
        ReservationLine("C", 1, ()),
    ]
    assert shortages(lines) == [
        {"sku": "B", "requested": 4, "available": 2},
        {"sku": "C", "requested": 1, "available": 0},
    ]
