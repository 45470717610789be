"""Lifecycle rules from a policy's `lifecycle` section, deadlines, and the domain steps
of the exception engine (uncollected pick-ups, units withdrawn, exception cases)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.unit.factories import NOW, location, order, sourced, view

from ordergrid.domain import lifecycle
from ordergrid.domain.errors import Conflict
from ordergrid.domain.exception_queue import CaseStatus, open_case, resolve_case
from ordergrid.domain.fulfilments import FulfilmentStatus
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.lifecycle_rules import (
    DEFAULT_LIFECYCLE,
    DeadlineKind,
    FailureAction,
    PickupChoice,
    deadline_for,
    lifecycle_document,
    lifecycle_from_document,
)
from ordergrid.domain.orders import Order, OrderStatus
from ordergrid.domain.sourcing import policy_from_document

S = FulfilmentStatus


def test_absent_section_gives_the_defaults() -> None:
    rules = lifecycle_from_document(None)
    assert rules is DEFAULT_LIFECYCLE
    assert rules.action_for("no_stock") is FailureAction.RESOURCE_ZERO_STOCK
    assert rules.action_for("short_pick") is FailureAction.RESOURCE_ZERO_STOCK
    assert rules.action_for("damaged") is FailureAction.RESOURCE
    assert rules.pickup_failure is PickupChoice.CANCEL
    assert (rules.max_attempts, rules.deadlines.accept) == (3, timedelta(hours=4))
    assert rules.holds.reason(Decimal(10), frozenset({"fraud_review"})) == "order_tag:fraud_review"
    assert policy_from_document("p", 1, {"name": "p"}).lifecycle == DEFAULT_LIFECYCLE


def test_deadlines_inherit_key_by_key_and_null_switches_off() -> None:
    rules = lifecycle_from_document(
        {
            "deadlines": {
                "default": {"accept_minutes": 60},
                "store": {"pick_minutes": 30, "pickup_window_minutes": None},
            },
            "actions": {"damaged": "hold"},
            "max_attempts": 1,
            "pickup_failure": "nearby_store",
            "nearby_store_km": 10,
            "holds": {"max_order_value": 500, "order_tags": []},
        }
    )
    store, dc = rules.deadlines_for("store"), rules.deadlines_for("dc")
    assert (store.accept, store.pick, store.pickup_window) == (
        timedelta(minutes=60),
        timedelta(minutes=30),
        None,
    )
    assert (dc.accept, dc.pick) == (timedelta(minutes=60), timedelta(hours=24))
    assert rules.action_for("damaged") is FailureAction.HOLD
    assert rules.action_for("no_stock") is FailureAction.RESOURCE_ZERO_STOCK
    assert rules.holds.reason(Decimal("500.01"), frozenset({"fraud_review"})) == (
        "order_value_above_threshold"
    )
    assert rules.holds.reason(Decimal(500), frozenset()) is None
    assert lifecycle_from_document(lifecycle_document(rules)) == rules


def pickup_order() -> Order:
    o = order([("1", "A", 2)], method="pickup", pickup="S1")
    sourced(o, view([location("S1", 48.0, 2.0, type="store", caps=("pickup",))], {("S1", "A"): 5}))
    return o


def test_each_status_runs_its_deadline() -> None:
    o = order([("1", "A", 2)])
    sourced(o, view([location("DC1", 48.0, 2.0)], {("DC1", "A"): 5}))
    f = o.fulfilments[0]
    assert deadline_for(f, "dc", DEFAULT_LIFECYCLE, NOW) == (
        DeadlineKind.ACCEPT,
        NOW + timedelta(hours=4),
    )
    lifecycle.accept(o, f.id, NOW)
    assert deadline_for(f, "dc", DEFAULT_LIFECYCLE, NOW) == (
        DeadlineKind.PICK,
        NOW + timedelta(hours=24),
    )
    lifecycle.pick(o, f.id, {}, NOW)
    assert deadline_for(f, "dc", DEFAULT_LIFECYCLE, NOW) is None


def test_uncollected_pickup_cancels_the_units_and_frees_the_reservation() -> None:
    o = pickup_order()
    f = o.fulfilments[0]
    lifecycle.accept(o, f.id, NOW)
    lifecycle.ready_for_pickup(o, f.id, NOW)
    movements = lifecycle.not_collected(o, f.id, NOW)
    assert movements == [Movement("S1", "A", 0, -2, MovementReason.RELEASE, f.id)]
    assert (f.status, f.reason, f.lines[0].cancelled) == (S.CANCELLED, "not_collected", 2)
    assert o.status is OrderStatus.CANCELLED


def test_withdraw_units_takes_what_is_missing_and_excludes_the_location() -> None:
    o = order([("1", "A", 3)])
    sourced(o, view([location("DC1", 48.0, 2.0)], {("DC1", "A"): 5}))
    f = o.fulfilments[0]
    moved = lifecycle.withdraw_units(o, f.id, "A", 2, "stock_discrepancy", NOW)
    assert moved == [Movement("DC1", "A", 0, -2, MovementReason.RELEASE, f.id)]
    assert (f.status, f.lines[0].quantity, o.excluded_locations) == (S.RELEASED, 1, {"DC1"})
    assert lifecycle.withdraw_units(o, f.id, "B", 2, "stock_discrepancy", NOW) == []
    lifecycle.withdraw_units(o, f.id, "A", 5, "stock_discrepancy", NOW)
    assert (f.status, f.reason) == (S.CANCELLED, "stock_discrepancy")


def test_exception_case_opens_once_and_resolves_once() -> None:
    o = order([("1", "A", 1)])
    case = open_case(o, "X1", "attempts_exhausted", NOW, "system", attempts=3)
    assert (o.exception_id, case.status) == ("X1", CaseStatus.OPEN)
    assert o.events[-1].type == "order.exception"
    resolve_case(case, o, "retried", NOW, "ops")
    assert (o.exception_id, case.resolution) == (None, "retried")
    assert [h["what"] for h in case.history] == ["opened", "resolved"]
    with pytest.raises(Conflict):
        resolve_case(case, o, "retried", NOW, "ops")
