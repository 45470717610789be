"""Answers the sourcing engine would give a quote, read from the screening columns where
they already decide it, so a quote runs the full engine (pricing, plan search, the
decision) only where the outcome is open.

- A pick-up store that may hand over the cart and holds all of it: the engine, trying the
  policy's strategies in order, stops at the first one whose conditions fit and whose
  plan covers every unit; at a named store only that store is eligible, so that strategy
  covers the cart exactly when its screen leaves the store eligible with every unit.
- A transfer the network cannot fill: no plan places more units of a SKU than the other
  locations may give, whatever the rules.

Where the columns do not decide (the store lacks something, or is excluded), the caller
runs the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ordergrid.domain.sourcing import Policy, SourcingRequest, SourcingView
from ordergrid.domain.sourcing.screening import screen
from ordergrid.domain.sourcing.selection import matches


def _deciding_rules(req: SourcingRequest, policy: Policy) -> Policy:
    """The rules of the first strategy the engine tries on the request (the policy's
    own when no strategy's conditions fit)."""
    for strategy in policy.strategies_to_try():
        if req.facts is None or matches(strategy.when, req.facts):
            return replace(policy, constraints=strategy.constraints, costs=strategy.costs)
    return policy


def store_hands_over_all(
    req: SourcingRequest, view: SourcingView, policy: Policy, demand: Mapping[str, int]
) -> bool:
    """Whether the engine would place the whole pick-up request at its store, decided
    without running it; False means only the engine can tell."""
    store = req.pickup_location_id
    if store is None:
        return False
    rules = _deciding_rules(req, policy)
    screened = screen(req, view, rules)
    j = screened.index.position.get(store)
    if j is None:
        return False
    i = int(np.searchsorted(screened.candidates, j))
    if i >= len(screened.candidates) or screened.candidates[i] != j:
        return False
    if not screened.eligible[i]:
        return False
    have = dict(zip(screened.skus, screened.available[i].tolist(), strict=True))
    return all(have.get(sku, 0) >= units for sku, units in demand.items())


def transfer_cannot_fill(
    missing: Mapping[str, int], network: Mapping[str, int], at_store: Mapping[str, int]
) -> bool:
    """Whether the locations other than the store hold too few units of some missing SKU
    (`network`: what every location may give; `at_store`: what the store may give)."""
    return any(network.get(sku, 0) - at_store.get(sku, 0) < units for sku, units in missing.items())
