"""Routing policies: versions are kept forever; one of them may be active."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select, update

from ordergrid.adapters.db import tables as t
from ordergrid.adapters.db.catalogue_repo import MetaCounters
from ordergrid.adapters.db.upsert import upsert
from ordergrid.domain.sourcing.policy import Policy, policy_from_document
from ordergrid.service.ports import PolicyRecord, PolicyVersion

POLICY_VERSION = "policy_version"
P = t.policies
V = t.policy_versions


class ActivePolicyCache:
    """Per-process copy of the active policies, valid while the stored counter matches."""

    def __init__(self) -> None:
        # One tuple, replaced whole: readers on other threads never see half an update.
        self.state: tuple[int | None, list[Policy]] = (None, [])


class SqlPolicies:
    def __init__(self, conn: Connection, cache: ActivePolicyCache, counters: MetaCounters) -> None:
        self.conn, self.cache, self.counters = conn, cache, counters

    def add_version(
        self, policy_id: str, document: dict[str, Any], at: datetime, actor: str | None
    ) -> int:
        current = self.record(policy_id)
        version = 1 if current is None else current.latest_version + 1
        self.conn.execute(
            V.insert().values(
                policy_id=policy_id,
                version=version,
                document=document,
                created_at=at,
                created_by=actor,
            )
        )
        active = None if current is None else current.active_version
        upsert(
            self.conn,
            P,
            [
                {
                    "id": policy_id,
                    "latest_version": version,
                    "active_version": active,
                    "updated_at": at,
                }
            ],
            ["id"],
        )
        return version

    def record(self, policy_id: str) -> PolicyRecord | None:
        r = self.conn.execute(select(P).where(P.c.id == policy_id)).first()
        return None if r is None else PolicyRecord(r.id, r.latest_version, r.active_version)

    def records(self) -> list[PolicyRecord]:
        rows = self.conn.execute(select(P).order_by(P.c.id))
        return [PolicyRecord(r.id, r.latest_version, r.active_version) for r in rows]

    def versions(self, policy_id: str) -> list[PolicyVersion]:
        rows = self.conn.execute(select(V).where(V.c.policy_id == policy_id).order_by(V.c.version))
        return [
            PolicyVersion(r.policy_id, r.version, r.document, r.created_at, r.created_by)
            for r in rows
        ]

    def set_active(self, policy_id: str, version: int | None) -> None:
        self.conn.execute(update(P).where(P.c.id == policy_id).values(active_version=version))
        self.counters.bump(POLICY_VERSION)

    def active(self) -> list[Policy]:
        version = self.counters.get(POLICY_VERSION)
        cached_version, policies = self.cache.state
        if cached_version != version:
            rows = self.conn.execute(
                select(V.c.policy_id, V.c.version, V.c.document)
                .join(P, and_(P.c.id == V.c.policy_id, P.c.active_version == V.c.version))
                .order_by(V.c.policy_id)
            )
            policies = [policy_from_document(r.policy_id, r.version, r.document) for r in rows]
            self.cache.state = (version, policies)
        return policies
