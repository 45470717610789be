"""Sourcing: a pure function from (order, network view, policy, now) to a decision."""

from ordergrid.domain.sourcing.decision import Decision
from ordergrid.domain.sourcing.engine import source
from ordergrid.domain.sourcing.policy import DEFAULT_POLICY, Fallback, Policy
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView

__all__ = [
    "DEFAULT_POLICY",
    "Decision",
    "Fallback",
    "Policy",
    "SourcingRequest",
    "SourcingView",
    "source",
]
