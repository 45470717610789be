"""Sourcing: a pure function from (order, network view, policy, now) to a decision."""

from ordergrid.domain.sourcing.decide import source
from ordergrid.domain.sourcing.decision import Decision
from ordergrid.domain.sourcing.policy import (
    DEFAULT_POLICY,
    Fallback,
    Policy,
    Selector,
    Strategy,
    policy_from_document,
)
from ordergrid.domain.sourcing.selection import OrderFacts, select_policy
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

__all__ = [
    "DEFAULT_POLICY",
    "Decision",
    "Fallback",
    "OrderFacts",
    "Policy",
    "Selector",
    "SourcingRequest",
    "SourcingView",
    "Strategy",
    "policy_from_document",
    "select_policy",
    "source",
]
