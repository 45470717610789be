"""In-memory sourcing decisions, routing policies, idempotency keys and tokens."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.sourcing.decision import explanation_of_record
from ordergrid.domain.sourcing.policy import Policy, policy_from_document
from ordergrid.service.ports import (
    ApiToken,
    ConcurrentUpdate,
    PolicyRecord,
    PolicyVersion,
    StoredDecision,
)


class InMemoryDecisions(_Repo):
    def add(self, decision: StoredDecision) -> None:
        self._t.decisions.append(replace(decision, explanation=copy.deepcopy(decision.explanation)))

    def for_order(self, order_id: str) -> list[StoredDecision]:
        found = [d for d in self._t.decisions if d.order_id == order_id]
        found.sort(key=lambda d: (d.at, d.id))
        return [
            replace(d, explanation=explanation_of_record(copy.deepcopy(d.explanation)))
            for d in found
        ]


class InMemoryPolicies(_Repo):
    def add_version(
        self, policy_id: str, document: dict[str, Any], at: datetime, actor: str | None
    ) -> int:
        current = self._t.policies.get(policy_id)
        version = 1 if current is None else current.latest_version + 1
        stored = PolicyVersion(policy_id, version, copy.deepcopy(document), at, actor)
        self._t.policy_versions.setdefault(policy_id, []).append(stored)
        active = None if current is None else current.active_version
        self._t.policies[policy_id] = PolicyRecord(policy_id, version, active)
        return version

    def record(self, policy_id: str) -> PolicyRecord | None:
        return self._t.policies.get(policy_id)

    def records(self) -> list[PolicyRecord]:
        return [self._t.policies[k] for k in sorted(self._t.policies)]

    def versions(self, policy_id: str) -> list[PolicyVersion]:
        return [
            replace(v, document=copy.deepcopy(v.document))
            for v in self._t.policy_versions.get(policy_id, [])
        ]

    def set_active(self, policy_id: str, version: int | None) -> None:
        self._t.policies[policy_id] = replace(self._t.policies[policy_id], active_version=version)

    def active(self) -> list[Policy]:
        out = []
        for record in self.records():
            if record.active_version is not None:
                v = self._t.policy_versions[record.id][record.active_version - 1]
                out.append(policy_from_document(v.policy_id, v.version, v.document))
        return out


class InMemoryIdempotency(_Repo):
    def get(self, key: str) -> tuple[str, str] | None:
        seen = self._t.idempotency.get(key)
        return None if seen is None else (seen[0], seen[1])

    def put(self, key: str, fingerprint: str, order_id: str, at: datetime) -> None:
        if key in self._t.idempotency:
            raise ConcurrentUpdate(f"idempotency key {key!r} already recorded")
        self._t.idempotency[key] = (fingerprint, order_id, at)


class InMemoryTokens(_Repo):
    def by_hash(self, token_hash: str) -> ApiToken | None:
        return next((t for t in self._t.tokens.values() if t.token_hash == token_hash), None)

    def add(self, token: ApiToken) -> None:
        if token.id in self._t.tokens or self.by_hash(token.token_hash) is not None:
            raise ConcurrentUpdate(f"token {token.id!r} already exists")
        self._t.tokens[token.id] = token

    def all(self) -> list[ApiToken]:
        return sorted(self._t.tokens.values(), key=lambda t: (t.created_at, t.id))


class InMemoryLoad(_Repo):
    def today(self, day: date, location_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        wanted = set(location_ids)
        return {loc: v for (loc, d), v in self._t.load.items() if d == day and loc in wanted}

    def add(self, location_id: str, day: date, orders: int, units: int) -> None:
        before = self._t.load.get((location_id, day), (0, 0))
        self._t.load[(location_id, day)] = (before[0] + orders, before[1] + units)
