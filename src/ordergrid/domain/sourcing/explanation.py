"""Every candidate of a decision, as columns: what a decision's explanation stores.

A decision on a large network looks at hundreds of locations. Their verdicts are made
from the engine's arrays all at once and kept as one list per field (a few array
conversions, not an object per candidate); each candidate is spelled out, with its
reason in words, only when the explanation is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ordergrid.domain.sourcing.network_index import FloatArray, IntArray

FORMAT = "candidate-columns/1"

# What became of a candidate: its status, and for a scored one why it was not chosen.
EXCLUDED, CHOSEN, MAX_SHIPMENTS, HOLDS_NONE, COVERS_PART, COSTS_MORE = range(6)


@dataclass(frozen=True, slots=True, eq=False)
class Priced:
    """Numbers at some candidates only: their positions (ascending) and values."""

    at: IntArray
    values: FloatArray

    def record(self, digits: int | None) -> list[list[Any]]:
        values = self.values if digits is None else np.round(self.values, digits)
        return [self.at.tolist(), values.tolist()]


@dataclass(frozen=True, slots=True, eq=False)
class CandidateColumns:
    """The candidates in the order the engine screened them (location id order)."""

    skus: tuple[str, ...]
    location_id: list[str]
    verdict: IntArray
    exclusions: dict[int, tuple[str, str]]  # position -> (constraint, detail)
    distance_km: FloatArray | None  # None for store pick-up
    available: IntArray  # (candidates, skus): what each may give
    blocked: dict[int, dict[str, str]]  # position -> SKU -> product rule
    units_alone: IntArray
    cost_alone: Priced  # where the candidate alone would ship something
    cost_parts: dict[str, Priced]  # part -> where it applies, in the order shown
    total: int  # units the request asked for
    chosen_units: int
    chosen_cost: float
    shipping: int  # locations the order already ships from (when none may be added)

    def record(self, rounded: bool = True) -> dict[str, Any]:
        """As stored: lists only. Costs alone are to 1e-6; with `rounded`, distances and
        cost parts are as shown too (to 0.1 km and 1e-4)."""
        distance = None
        if self.distance_km is not None:
            km = np.round(self.distance_km, 1) if rounded else self.distance_km
            distance = km.tolist()
        return {
            "format": FORMAT,
            "skus": list(self.skus),
            "location_id": self.location_id,
            "verdict": self.verdict.tolist(),
            "exclusions": [[i, *why] for i, why in sorted(self.exclusions.items())],
            "distance_km": distance,
            "available": self.available.T.tolist(),
            "blocked": [[i, rules] for i, rules in sorted(self.blocked.items())],
            "units_alone": self.units_alone.tolist(),
            "cost_alone": self.cost_alone.record(6),
            "cost_parts": {
                name: part.record(4 if rounded else None) for name, part in self.cost_parts.items()
            },
            "total": self.total,
            "chosen_units": self.chosen_units,
            "chosen_cost": self.chosen_cost,
            "shipping": self.shipping,
        }


def is_record(candidates: object) -> bool:
    return isinstance(candidates, Mapping) and candidates.get("format") == FORMAT


def expand(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored columns spelled out: one entry per candidate, as the API shows it."""
    return list(_entries(record))


def _entries(r: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    skus, total = r["skus"], r["total"]
    exclusions = {i: (reason, detail) for i, reason, detail in r["exclusions"]}
    blocked = dict(r["blocked"])
    cost = dict(zip(*r["cost_alone"], strict=True))
    parts = {name: dict(zip(*at, strict=True)) for name, at in r["cost_parts"].items()}
    distance = r["distance_km"]
    available = list(zip(*r["available"], strict=True)) if skus else None
    for i, (loc, verdict, units) in enumerate(
        zip(r["location_id"], r["verdict"], r["units_alone"], strict=True)
    ):
        status, reason, detail = _spelled(verdict, exclusions.get(i), units, cost.get(i), r)
        priced = {name: at[i] for name, at in parts.items() if i in at}
        yield {
            "location_id": loc,
            "status": status,
            "reason": reason,
            "detail": detail,
            "distance_km": None if distance is None else distance[i],
            "available": dict(zip(skus, available[i], strict=True)) if available else {},
            "single_location_cost": cost.get(i),
            "covers_order": units == total,
            "blocked": blocked.get(i, {}),
            "cost_parts": priced or None,  # excluded: never priced
        }


def _spelled(
    verdict: int,
    exclusion: tuple[str, str] | None,
    units: int,
    cost: float | None,
    r: Mapping[str, Any],
) -> tuple[str, str | None, str | None]:
    if verdict == EXCLUDED:
        reason, detail = exclusion if exclusion is not None else (None, None)
        return "excluded", reason, detail
    if verdict == CHOSEN:
        return "chosen", None, None
    if verdict == MAX_SHIPMENTS:
        return (
            "scored",
            "max_shipments_reached",
            f"the order already ships from {r['shipping']} location(s)",
        )
    if verdict == HOLDS_NONE:
        return "scored", "beaten", "holds none of what is still needed"
    if verdict == COVERS_PART:
        return "scored", "beaten", f"alone covers {units} of {r['total']} units"
    return "scored", "beaten", f"alone costs {cost or 0.0:.2f}; chosen plan {r['chosen_cost']:.2f}"
