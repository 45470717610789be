"""Routing policies: versioned documents, activation and roll-back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from ordergrid.domain.errors import NotFound
from ordergrid.domain.sourcing import DEFAULT_POLICY
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api import schemas_policy as sp
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service.commands import ActivatePolicy, Actor, PutPolicy
from ordergrid.service.ports import PolicyRecord, PolicyVersion

router = APIRouter(prefix="/v1/policies", tags=["routing policies"])
PolicyId = Annotated[str, Path(min_length=1, max_length=128, pattern=s.ID_PATTERN)]
Admin = Annotated[Actor, Depends(require(Right.POLICIES))]
Reader = Annotated[Actor, Depends(require(Right.READ))]

#: The built-in policy, shown while no stored policy named "default" replaces it.
BUILTIN = {
    "id": DEFAULT_POLICY.id,
    "name": DEFAULT_POLICY.name,
    "builtin": True,
    "latest_version": DEFAULT_POLICY.version,
    "active_version": DEFAULT_POLICY.version,
    "document": sp.PolicyDocument(name=DEFAULT_POLICY.name).stored(),
}


def _shown(record: PolicyRecord, versions: list[PolicyVersion]) -> dict[str, Any]:
    current = versions[(record.active_version or record.latest_version) - 1]
    return {
        "id": record.id,
        "name": current.document.get("name", record.id),
        "latest_version": record.latest_version,
        "active_version": record.active_version,
        "document": current.document,
    }


def _versions(versions: list[PolicyVersion]) -> list[dict[str, Any]]:
    return [
        {
            "version": v.version,
            "document": v.document,
            "created_at": v.created_at,
            "created_by": v.created_by,
        }
        for v in versions
    ]


def _detail(app: App, policy_id: str) -> dict[str, Any]:
    with app.ctx.uow(readonly=True) as uow:
        record = uow.policies.record(policy_id)
        versions = [] if record is None else uow.policies.versions(policy_id)
    if record is None:
        if policy_id == DEFAULT_POLICY.id:
            return {
                **BUILTIN,
                "versions": [
                    {
                        "version": 1,
                        "document": BUILTIN["document"],
                        "created_at": None,
                        "created_by": None,
                    }
                ],
            }
        raise NotFound("policy", policy_id)
    return {**_shown(record, versions), "versions": _versions(versions)}


@router.put("/{policy_id}", response_model=sp.PolicyDetail, status_code=201)
def put_policy(
    policy_id: PolicyId,
    body: sp.PolicyDocument,
    app: App,
    actor: Admin,
    activate: Annotated[bool, Query(description="activate this version")] = False,
) -> dict[str, Any]:
    """Store a new version of the policy (422 naming the offending field when invalid).
    It decides nothing until activated."""
    app.bus.handle(PutPolicy(policy_id, body.stored(), activate, actor))
    return _detail(app, policy_id)


@router.post("/{policy_id}/activate", response_model=sp.PolicyDetail)
def activate(
    policy_id: PolicyId,
    app: App,
    actor: Admin,
    body: Annotated[sp.ActivateIn | None, Body()] = None,
) -> dict[str, Any]:
    """Activate the latest version, or `{"version": n}` to roll back to an older one."""
    version = body.version if body else None
    app.bus.handle(ActivatePolicy(policy_id, version, True, actor))
    return _detail(app, policy_id)


@router.post("/{policy_id}/deactivate", response_model=sp.PolicyDetail)
def deactivate(policy_id: PolicyId, app: App, actor: Admin) -> dict[str, Any]:
    """Stop using the policy; its versions are kept."""
    app.bus.handle(ActivatePolicy(policy_id, None, False, actor))
    return _detail(app, policy_id)


@router.get("", response_model=sp.PolicyList)
def list_policies(app: App, _: Reader) -> dict[str, Any]:
    """Every policy with its active (else latest) document; the built-in default last."""
    with app.ctx.uow(readonly=True) as uow:
        shown = [_shown(r, uow.policies.versions(r.id)) for r in uow.policies.records()]
    if not any(p["id"] == DEFAULT_POLICY.id for p in shown):
        shown.append(BUILTIN)
    return {"items": shown}


@router.get("/{policy_id}", response_model=sp.PolicyDetail)
def get_policy(policy_id: PolicyId, app: App, _: Reader) -> dict[str, Any]:
    """A policy with every version."""
    return _detail(app, policy_id)
