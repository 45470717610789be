"""Routing policies: versioned documents, activation and roll-back."""

from __future__ import annotations

from ordergrid.domain.errors import InvalidInput, NotFound
from ordergrid.domain.events import Event
from ordergrid.domain.sourcing import policy_from_document
from ordergrid.service.commands import ActivatePolicy, PutPolicy
from ordergrid.service.context import Context
from ordergrid.service.ports import PolicyRecord, PolicyVersion, UnitOfWork


def put_policy(cmd: PutPolicy, ctx: Context) -> tuple[PolicyRecord, PolicyVersion]:
    """Store the document as the policy's next version (and activate it when asked)."""
    try:
        policy_from_document(cmd.policy_id, 0, cmd.document)
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidInput(
            f"the policy document cannot be used: {exc}", code="invalid_policy", field="body"
        ) from exc
    now = ctx.clock.now()
    with ctx.uow() as uow:
        version = uow.policies.add_version(cmd.policy_id, cmd.document, now, cmd.actor.name)
        events = [
            Event(
                "policy.version_created",
                {"policy_id": cmd.policy_id, "version": version},
                actor=cmd.actor.name,
            )
        ]
        if cmd.activate:
            uow.policies.set_active(cmd.policy_id, version)
            events.append(_activated(cmd.policy_id, version, cmd.actor.name))
        uow.outbox.append(events, now)
        record, stored = _read(uow, cmd.policy_id, version)
        uow.commit()
    return record, stored


def activate_policy(cmd: ActivatePolicy, ctx: Context) -> PolicyRecord:
    """Activate a version (roll back by naming an older one), or switch the policy off."""
    with ctx.uow() as uow:
        record = uow.policies.record(cmd.policy_id)
        if record is None:
            raise NotFound("policy", cmd.policy_id)
        version = cmd.version or record.latest_version
        if not 1 <= version <= record.latest_version:
            raise InvalidInput(
                f"policy {cmd.policy_id!r} has no version {version}",
                code="unknown_policy_version",
                field="version",
                latest_version=record.latest_version,
            )
        target = version if cmd.active else None
        uow.policies.set_active(cmd.policy_id, target)
        event = (
            _activated(cmd.policy_id, version, cmd.actor.name)
            if cmd.active
            else Event("policy.deactivated", {"policy_id": cmd.policy_id}, actor=cmd.actor.name)
        )
        uow.outbox.append([event], ctx.clock.now())
        updated = uow.policies.record(cmd.policy_id)
        assert updated is not None
        uow.commit()
    return updated


def _activated(policy_id: str, version: int, actor: str) -> Event:
    return Event("policy.activated", {"policy_id": policy_id, "version": version}, actor=actor)


def _read(uow: UnitOfWork, policy_id: str, version: int) -> tuple[PolicyRecord, PolicyVersion]:
    record = uow.policies.record(policy_id)
    assert record is not None
    return record, uow.policies.versions(policy_id)[version - 1]
