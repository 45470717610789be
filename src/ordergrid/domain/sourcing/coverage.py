"""The most units a plan within the shipment budget can place, and which of the order's
units those can be.

When no plan within `max_shipments` covers every unit, the best plan places the most
units, then costs least. What a set of locations can place depends only on what each
holds of the order, capped at the order's quantities; locations that hold the same
(capped) units, and are alike in being already used or new, are interchangeable for that
question. So the sets of such classes are few even on large networks, and every
multiset of at most `max_shipments` classes is tried. The units an optimal plan places
are then exactly what its locations cover (it places the most there are), so searching
each of the few best coverages for its cheapest complete plan finds the optimum.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations_with_replacement
from math import comb

import numpy as np

from ordergrid.domain.sourcing.network_index import IntArray
from ordergrid.domain.sourcing.pricing import Problem

MAX_COMBINATIONS = 20_000  # multisets of classes tried before the MIP decides instead
MAX_COVERAGES = 64  # best coverages searched one by one before the MIP decides instead


@dataclass(frozen=True, slots=True)
class _Class:
    held: tuple[int, ...]  # units of each SKU, capped at the order's
    new: bool  # not yet shipping part of the order: counts against the budget
    members: int


def _classes(p: Problem, largest: int) -> list[_Class]:
    capped = np.minimum(p.available, p.demand)
    useful = capped.sum(axis=1) > 0
    counts: dict[tuple[tuple[int, ...], bool], int] = {}
    for held, used in zip(capped[useful].tolist(), p.used[useful].tolist(), strict=True):
        key = (tuple(held), not used)
        counts[key] = counts.get(key, 0) + 1
    classes = [_Class(held, new, n) for (held, new), n in sorted(counts.items())]
    return [c for c in classes if not _dominated(c, classes, largest)]


def _dominated(c: _Class, classes: list[_Class], largest: int) -> bool:
    """Some `largest` locations each hold at least what `c` holds, at no more cost to
    the budget: a plan using `c` can swap it for one of them it does not use yet and
    place as much (so no best coverage is lost by leaving `c` out)."""
    members = 0
    for d in classes:
        if d is not c and d.new <= c.new and all(map(int.__ge__, d.held, c.held)):
            members += d.members
            if members >= largest:
                return True
    return False


def _multisets(n: int, largest: int) -> Iterator[tuple[int, ...]]:
    for k in range(1, largest + 1):
        yield from combinations_with_replacement(range(n), k)


def _fits(p: Problem, classes: list[_Class], picked: tuple[int, ...]) -> bool:
    new = 0
    for c in set(picked):
        times = picked.count(c)
        if times > classes[c].members:
            return False
        new += times * classes[c].new
    return new <= p.budget


def best_coverages(p: Problem) -> list[IntArray] | None:
    """Every distinct vector of units the best plans within the budget place (the most
    units there are), in a fixed order; None when the classes are too many to try."""
    largest = min(p.max_shipments, len(p))
    classes = _classes(p, largest)
    if not classes or largest < 1:
        return []
    if _count(len(classes), largest) > MAX_COMBINATIONS:
        return None
    demand = p.demand.tolist()
    most, found = 0, set[tuple[int, ...]]()
    for picked in _multisets(len(classes), largest):
        together = [sum(units) for units in zip(*(classes[c].held for c in picked), strict=True)]
        covered = tuple(map(min, demand, together))
        units = sum(covered)
        if units < most or not _fits(p, classes, picked):
            continue
        if units > most:
            most, found = units, set()
        found.add(covered)
    if len(found) > MAX_COVERAGES:
        return None
    return [np.array(c, dtype=np.int64) for c in sorted(found)]


def _count(n: int, largest: int) -> int:
    """How many multisets of 1..largest of n classes there are."""
    return sum(comb(n + k - 1, k) for k in range(1, largest + 1))
