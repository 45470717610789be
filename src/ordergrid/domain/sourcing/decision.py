"""A sourcing decision and its explanation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ordergrid.domain.sourcing.explanation import CandidateColumns, expand, is_record


@dataclass(frozen=True, slots=True)
class Allocation:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Shipment:
    location_id: str
    allocations: tuple[Allocation, ...]
    distance_km: float | None
    cost_parts: dict[str, float]
    # Derived once: the search compares plans by these many times.
    cost: float = field(init=False)
    units: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost", round(sum(self.cost_parts.values()), 6))
        object.__setattr__(self, "units", sum(a.quantity for a in self.allocations))


@dataclass(frozen=True, slots=True)
class Plan:
    shipments: tuple[Shipment, ...]
    cost: float = field(init=False)
    units: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost", round(sum(s.cost for s in self.shipments), 6))
        object.__setattr__(self, "units", sum(s.units for s in self.shipments))

    def as_dict(self) -> dict[str, Any]:
        return {
            "cost": self.cost,
            "units": self.units,
            "shipments": [
                {
                    "location_id": s.location_id,
                    "distance_km": None if s.distance_km is None else round(s.distance_km, 1),
                    "cost": s.cost,
                    "cost_parts": {k: round(v, 4) for k, v in s.cost_parts.items()},
                    "lines": [
                        {"line_id": a.line_id, "sku": a.sku, "quantity": a.quantity}
                        for a in s.allocations
                    ],
                }
                for s in self.shipments
            ],
        }


EMPTY_PLAN = Plan(())


@dataclass(frozen=True, slots=True)
class Candidate:
    """One location the engine looked at: excluded by a named constraint, or scored."""

    location_id: str
    status: str  # "excluded" | "scored" | "chosen"
    reason: str | None = None
    detail: str | None = None
    distance_km: float | None = None
    available: dict[str, int] = field(default_factory=dict)
    single_location_cost: float | None = None
    covers_order: bool = False
    blocked: dict[str, str] = field(default_factory=dict)  # SKU -> product rule
    #: What it would cost to ship what it can alone, in parts (scored locations only).
    cost_parts: dict[str, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "location_id": self.location_id,
            "status": self.status,
            "reason": self.reason,
            "detail": self.detail,
            "distance_km": None if self.distance_km is None else round(self.distance_km, 1),
            "available": self.available,
            "single_location_cost": self.single_location_cost,
            "covers_order": self.covers_order,
            "blocked": self.blocked,
            "cost_parts": None
            if self.cost_parts is None
            else {k: round(v, 4) for k, v in self.cost_parts.items()},
        }


Looked = CandidateColumns | tuple[Candidate, ...]  # the engine's columns, or a few spelled out


class Explanation:
    """The candidates and runner-up plans of a decision, made the first time they are
    read: most decisions are only read once, when they are stored."""

    __slots__ = ("_made", "_make")

    def __init__(
        self,
        make: Callable[[], tuple[Looked, tuple[Plan, ...]]] | tuple[Looked, tuple[Plan, ...]],
    ) -> None:
        self._make = make
        self._made = make if isinstance(make, tuple) else None

    def _get(self) -> tuple[Looked, tuple[Plan, ...]]:
        if self._made is None:
            assert callable(self._make)
            self._made = self._make()
        return self._made

    def record(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The candidates as stored: the engine's as columns, others spelled out."""
        looked = self._get()[0]
        if isinstance(looked, CandidateColumns):
            return looked.record()
        return [c.as_dict() for c in looked]

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        looked = self._get()[0]
        if isinstance(looked, CandidateColumns):
            return tuple(Candidate(**c) for c in expand(looked.record(rounded=False)))
        return looked

    @property
    def runner_ups(self) -> tuple[Plan, ...]:
        return self._get()[1]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Explanation)
            and self.candidates == other.candidates
            and self.runner_ups == other.runner_ups
        )

    def __hash__(self) -> int:
        return hash((self.candidates, self.runner_ups))


@dataclass(frozen=True, slots=True)
class Decision:
    policy_id: str
    policy_version: int
    outcome: str  # allocated | partially_allocated | backordered | cancelled | nothing_to_source
    plan: Plan
    backordered: dict[str, int]
    cancelled: dict[str, int]
    explanation: Explanation
    solver: str
    summary: str
    elapsed_ms: float = 0.0
    optimality_gap: float = 0.0  # proven relative gap; 0 when the plan is optimal
    strategy: str | None = None  # the strategy whose plan was used
    strategies_tried: tuple[dict[str, str], ...] = ()  # in order, with why each failed

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return self.explanation.candidates

    @property
    def runner_ups(self) -> tuple[Plan, ...]:
        return self.explanation.runner_ups

    def as_dict(self) -> dict[str, Any]:
        """The decision as people read it: every candidate spelled out."""
        return {**self._parts(), "candidates": [c.as_dict() for c in self.candidates]}

    def as_record(self) -> dict[str, Any]:
        """The decision as stored: the candidates as columns, spelled out when read
        (`explanation_of_record`)."""
        return {**self._parts(), "candidates": self.explanation.record()}

    def _parts(self) -> dict[str, Any]:
        return {
            "policy": {"id": self.policy_id, "version": self.policy_version},
            "outcome": self.outcome,
            "summary": self.summary,
            "plan": self.plan.as_dict(),
            "backordered": [{"line_id": k, "quantity": v} for k, v in self.backordered.items()],
            "cancelled": [{"line_id": k, "quantity": v} for k, v in self.cancelled.items()],
            "runner_ups": [p.as_dict() for p in self.runner_ups],
            "strategy": self.strategy,
            "strategies_tried": list(self.strategies_tried),
            "solver": self.solver,
            "optimality_gap": self.optimality_gap,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }


def explanation_of_record(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored explanation as people read it: its candidate columns spelled out (one
    stored with every candidate already spelled out is returned as it is)."""
    if is_record(stored.get("candidates")):
        return {**stored, "candidates": expand(stored["candidates"])}
    return dict(stored)
