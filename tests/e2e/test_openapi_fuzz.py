"""Property-based fuzzing of every operation in the served OpenAPI document (schemathesis).

For every operation, a bounded, derandomized set of generated requests (valid and invalid)
is sent in-process through the ASGI app with the admin token. Whatever the input:
- never a 5xx (`not_a_server_error`);
- every 4xx answer carries the contract's error envelope
  `{"error": {"code", "message", "details"}}`, and a 422 names a field.
Some examples use the ids of seeded objects (an order, its fulfilment, a location, a
product) instead of random ones, so the handlers behind the 404 are reached too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from tests.e2e.helpers_errors import (
    ADMIN_TOKEN,
    MAX_BODY,
    H,
    assert_envelope,
    ok,
    place,
    seed,
)

from ordergrid.bootstrap import bootstrap, ensure_schema
from ordergrid.entrypoints.api.app import create_app
from ordergrid.settings import Settings

MAX_EXAMPLES = 25

# The schema must exist when pytest collects (one test per operation), so the app is wired
# at import; its SQLite file lives in a directory the `fuzz_world` fixture creates, migrates,
# seeds and removes. Wiring touches no database, and the OpenAPI document needs none.
_DB_DIR = Path(tempfile.gettempdir()) / f"ordergrid-fuzz-{os.getpid()}-{uuid.uuid4().hex[:8]}"
_APP = bootstrap(
    Settings(
        database_url=f"sqlite:///{_DB_DIR}/t.db",
        admin_token=ADMIN_TOKEN,
        max_body_bytes=MAX_BODY,
        auto_migrate=True,
        # Configured, so the Shopify connector answers its own 4xx rather than 503.
        shopify_webhook_secret="fuzz-shopify-secret",
    ),
    check_schema=False,
)
_API = create_app(_APP)
schema = schemathesis.openapi.from_asgi("/openapi.json", _API)
schema.config.seed = 20240601


@pytest.fixture(scope="module")
def fuzz_world() -> Iterator[dict[str, str]]:
    """Seeded objects whose ids some examples use; the database is removed afterwards."""
    _DB_DIR.mkdir(parents=True)
    try:
        ensure_schema(_APP.engine, _APP.settings)
        with TestClient(_API) as client:
            seed(client, dc_stock=1000, s1_stock=1000)
            shipped = place(client)
            pickup = place(client, method="pickup")
            ok(client.post("/v1/tokens", json={"name": "fuzz", "role": "viewer"}, headers=H), 201)
            yield {
                "order_id": shipped["id"],
                "fulfilment_id": shipped["fulfilments"][0]["id"],
                "pickup_order_id": pickup["id"],
                "pickup_fulfilment_id": pickup["fulfilments"][0]["id"],
                "location_id": "S1",
                "sku": "A",
            }
    finally:
        _APP.close()
        shutil.rmtree(_DB_DIR, ignore_errors=True)


def _use_real_ids(case: Any, real: dict[str, str], which: int) -> None:
    """Swap the generated path ids for those of seeded objects."""
    params = case.path_parameters
    if not params:
        return
    pickup = which == 2
    for name in list(params):
        if name == "order_id":
            params[name] = real["pickup_order_id" if pickup else "order_id"]
        elif name == "fulfilment_id":
            params[name] = real["pickup_fulfilment_id" if pickup else "fulfilment_id"]
        elif name in real:
            params[name] = real[name]


@schema.parametrize()
@schema.given(which=st.integers(min_value=0, max_value=2))
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_error_envelope(
    case: Any, which: int, fuzz_world: dict[str, str]
) -> None:
    if which:
        _use_real_ids(case, fuzz_world, which)
    response = case.call(headers=H)
    case.validate_response(response, checks=[not_a_server_error])
    status = response.status_code
    if 400 <= status < 500:
        content_type = (response.headers.get("content-type") or [""])[0]
        assert content_type.startswith("application/json"), (status, response.text)
        err = assert_envelope(response)
        if status == 422:
            assert isinstance(err["details"].get("field"), str), response.text


def test_openapi_document_covers_the_contract() -> None:
    """The fuzzer sees every contract endpoint (a missing one would go unfuzzed)."""
    doc = schema.raw_schema
    paths = doc["paths"]
    for path, method in [
        ("/v1/orders", "post"),
        ("/v1/orders", "get"),
        ("/v1/orders/{order_id}", "get"),
        ("/v1/orders/{order_id}/cancel", "post"),
        ("/v1/orders/{order_id}/hold", "post"),
        ("/v1/orders/{order_id}/release", "post"),
        ("/v1/orders/{order_id}/events", "get"),
        ("/v1/orders/{order_id}/decisions", "get"),
        ("/v1/fulfilments", "get"),
        ("/v1/fulfilments/{fulfilment_id}", "get"),
        ("/v1/fulfilments/{fulfilment_id}/accept", "post"),
        ("/v1/fulfilments/{fulfilment_id}/reject", "post"),
        ("/v1/fulfilments/{fulfilment_id}/pick", "post"),
        ("/v1/fulfilments/{fulfilment_id}/ship", "post"),
        ("/v1/fulfilments/{fulfilment_id}/ready-for-pickup", "post"),
        ("/v1/fulfilments/{fulfilment_id}/collect", "post"),
        ("/v1/fulfilments/{fulfilment_id}/cancel", "post"),
        ("/v1/locations/{location_id}", "put"),
        ("/v1/locations", "get"),
        ("/v1/products/{sku}", "put"),
        ("/v1/products/batch", "post"),
        ("/v1/inventory/adjustments", "post"),
        ("/v1/inventory/snapshots", "post"),
        ("/v1/inventory/{sku}", "get"),
        ("/v1/tokens", "post"),
        ("/v1/connectors/shopify/orders", "post"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing from /openapi.json"
