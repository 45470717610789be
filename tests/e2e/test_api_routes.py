"""The routers are included hot paths first (`ROUTERS`): that order must change no answer,
and the documentation keeps its reading order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.routing import compile_path

from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints.api.app import DOCUMENTED_TAGS, create_app
from ordergrid.settings import Settings


@pytest.fixture
def api(sqlite_url: str) -> Iterator[FastAPI]:
    app = bootstrap(Settings(database_url=sqlite_url, auto_migrate=True))
    yield create_app(app)
    app.close()


def routes(router: Any, prefix: str = "", owner: str = "") -> Iterator[tuple[str, set[str], str]]:
    """(path, methods, router module) of every route, through the included routers."""
    for route in router.routes:
        if hasattr(route, "original_router"):
            inner = route.original_router
            name = next((r.endpoint.__module__ for r in inner.routes if hasattr(r, "endpoint")), "")
            yield from routes(inner, prefix + route.include_context.prefix, name)
        elif getattr(route, "methods", None):
            yield prefix + route.path, set(route.methods), owner


def test_no_route_of_one_router_matches_a_path_of_another(api: FastAPI) -> None:
    every = list(routes(api.router))
    assert len(every) > 50
    clashes = []
    for path, methods, owner in every:
        concrete = re.sub(r"\{[^}]+\}", "x9", path)
        for other, other_methods, other_owner in every:
            if other_owner == owner or not methods & other_methods:
                continue
            if compile_path(other)[0].match(concrete):
                clashes.append((path, other))
    assert clashes == []


def test_the_documentation_keeps_its_sections_in_reading_order(api: FastAPI) -> None:
    doc = api.openapi()
    assert [t["name"] for t in doc["tags"]] == list(DOCUMENTED_TAGS)
    used = {t for ops in doc["paths"].values() for op in ops.values() for t in op.get("tags", [])}
    assert used == set(DOCUMENTED_TAGS)
