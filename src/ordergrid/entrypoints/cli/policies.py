"""`ordergrid policy apply`: policy documents from files, checked like the API checks them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rich.console import Console

from ordergrid.bootstrap import Application
from ordergrid.entrypoints.api.errors import field_path
from ordergrid.entrypoints.api.schemas_policy import PolicyDocument
from ordergrid.service.commands import PutPolicy


def read_document(file: Path) -> Any:
    text = file.read_text(encoding="utf-8")
    if file.suffix.lower() == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def apply(
    application: Application, file: Path, policy_id: str, activate: bool, console: Console
) -> int:
    """Store the file's policy; returns the exit code (2 when the document is invalid)."""
    try:
        document = PolicyDocument.model_validate(read_document(file))
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        console.print(f"[red]{file}: not valid YAML/JSON: {exc}[/red]")
        return 2
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]{file}: {field_path(error['loc'])}: {error['msg']}[/red]")
        return 2
    record, version = application.bus.handle(PutPolicy(policy_id, document.stored(), activate))
    state = "active" if record.active_version == version.version else "stored, not active"
    console.print(f"policy {policy_id!r} version {version.version} ({state})")
    return 0
