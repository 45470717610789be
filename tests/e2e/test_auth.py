"""Bearer tokens, roles and scopes: 401 without a valid token, 403 without the right.

Roles (entrypoints/api/auth.py): admin — everything; integrator — read, inventory, orders,
fulfil, optionally scoped to channels; associate — read and fulfil, optionally scoped to
locations; viewer — read only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.e2e.helpers_errors import (
    DC1,
    SHIP_ADDRESS,
    H,
    assert_error,
    ok,
    order_body,
    place,
    running_client,
    seed,
)

#: Where DC1 is: an order shipped here is sourced from DC1, not from the store S1.
NEAR_DC1 = {**SHIP_ADDRESS, "lat": DC1["address"]["lat"], "lon": DC1["address"]["lon"]}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create_token(client: TestClient, **body: Any) -> tuple[dict[str, Any], dict[str, str]]:
    created: dict[str, Any] = ok(client.post("/v1/tokens", json=body, headers=H), 201)
    return created, bearer(created["token"])


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with running_client(tmp_path) as c:
        seed(c)
        yield c


# -- 401 -----------------------------------------------------------------------------------------

PROTECTED = [
    ("GET", "/v1/orders", None),
    ("POST", "/v1/orders", order_body()),
    ("GET", "/v1/orders/anything", None),
    ("GET", "/v1/fulfilments", None),
    ("POST", "/v1/fulfilments/anything/accept", None),
    ("PUT", "/v1/locations/X1", DC1),
    ("GET", "/v1/locations", None),
    ("PUT", "/v1/products/X1", {"name": "x"}),
    ("GET", "/v1/products", None),
    ("POST", "/v1/inventory/adjustments", {"adjustments": []}),
    ("GET", "/v1/inventory/A", None),
    ("POST", "/v1/tokens", {"name": "t", "role": "viewer"}),
    ("GET", "/v1/tokens", None),
]


def _unauthorized(resp: Any) -> None:
    assert_error(resp, 401, "unauthorized")
    assert resp.headers.get("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
def test_no_authorization_header_is_401_with_challenge(
    client: TestClient, method: str, path: str, body: Any
) -> None:
    _unauthorized(client.request(method, path, json=body))


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-secret",
        "Bearer admin-secret2",
        "Basic YWRtaW4tc2VjcmV0",
        "Bearer ",
        "admin-secret",
    ],
    ids=["wrong-token", "admin-prefix", "basic-scheme", "empty-bearer", "no-scheme"],
)
def test_wrong_token_is_401(client: TestClient, authorization: str) -> None:
    _unauthorized(client.get("/v1/orders", headers={"Authorization": authorization}))
    _unauthorized(
        client.post("/v1/orders", json=order_body(), headers={"Authorization": authorization})
    )


def test_authentication_comes_before_validation(client: TestClient) -> None:
    """A bad body without a token is 401, not a 422 describing the API to a stranger."""
    _unauthorized(client.post("/v1/orders", json={"lines": "x"}))
    _unauthorized(client.put("/v1/locations/X1", json={"type": "warehouse"}))
    viewer = create_token(client, name="v", role="viewer")[1]
    resp = client.post("/v1/orders", json={"lines": "x"}, headers=viewer)
    assert_error(resp, 403, "forbidden")


def test_unauthenticated_garbage_body_is_401(client: TestClient) -> None:
    resp = client.post(
        "/v1/orders", content=b"not json", headers={"Content-Type": "application/json"}
    )
    _unauthorized(resp)


def test_nothing_written_without_a_valid_token(client: TestClient) -> None:
    _unauthorized(client.post("/v1/orders", json=order_body(external_id="NOAUTH")))
    _unauthorized(
        client.post("/v1/orders", json=order_body(external_id="NOAUTH"), headers=bearer("x"))
    )
    assert ok(client.get("/v1/orders", headers=H))["items"] == []


# -- operations endpoints are open ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_operations_endpoints_need_no_token(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200, resp.text
    resp = client.get(path, headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 200, resp.text


def test_metrics_is_prometheus_text(client: TestClient) -> None:
    resp = client.get("/metrics")
    assert resp.headers["content-type"].startswith("text/plain")
    assert "ordergrid_http_requests_total" in resp.text


# -- viewer ----------------------------------------------------------------------------------------


def test_viewer_reads_but_cannot_write(client: TestClient) -> None:
    order = place(client)
    fid = order["fulfilments"][0]["id"]
    _, viewer = create_token(client, name="dashboard", role="viewer")

    for path in (
        "/v1/orders",
        f"/v1/orders/{order['id']}",
        f"/v1/orders/{order['id']}/events",
        f"/v1/orders/{order['id']}/decisions",
        "/v1/fulfilments",
        f"/v1/fulfilments/{fid}",
        "/v1/locations",
        "/v1/locations/DC1",
        "/v1/products",
        "/v1/products/A",
        "/v1/inventory/A",
    ):
        assert client.get(path, headers=viewer).status_code == 200, path

    writes = [
        ("POST", "/v1/orders", order_body()),
        ("POST", f"/v1/orders/{order['id']}/cancel", {}),
        ("POST", f"/v1/orders/{order['id']}/hold", {}),
        ("POST", f"/v1/fulfilments/{fid}/accept", None),
        ("PUT", "/v1/locations/X1", DC1),
        ("PUT", "/v1/products/X1", {"name": "x"}),
        ("POST", "/v1/products/batch", {"products": [{"sku": "X1", "name": "x"}]}),
        (
            "POST",
            "/v1/inventory/adjustments",
            {"adjustments": [{"id": "v1", "location_id": "DC1", "sku": "A", "delta": 1}]},
        ),
        ("POST", "/v1/tokens", {"name": "escalate", "role": "admin"}),
        ("GET", "/v1/tokens", None),
    ]
    for method, path, body in writes:
        assert_error(client.request(method, path, json=body, headers=viewer), 403, "forbidden")

    # and none of it happened
    assert len(ok(client.get("/v1/orders", headers=H))["items"]) == 1
    after = ok(client.get(f"/v1/orders/{order['id']}", headers=H))
    assert after["status"] == "allocated"
    assert after["on_hold"] is False
    assert client.get("/v1/locations/X1", headers=H).status_code == 404
    assert client.get("/v1/products/X1", headers=H).status_code == 404


# -- integrator scoped to a channel ------------------------------------------------------------


def test_integrator_scoped_to_web(client: TestClient) -> None:
    pos = place(client, channel="pos")
    _, web = create_token(client, name="shop", role="integrator", channels=["web"])

    resp = client.post("/v1/orders", json=order_body(channel="pos"), headers=web)
    err = assert_error(resp, 403, "forbidden")
    assert err["details"] == {"channel": "pos"}
    own = ok(client.post("/v1/orders", json=order_body(channel="web"), headers=web), 201)

    for path in (
        f"/v1/orders/{pos['id']}",
        f"/v1/orders/{pos['id']}/events",
        f"/v1/orders/{pos['id']}/decisions",
        f"/v1/fulfilments/{pos['fulfilments'][0]['id']}",
    ):
        assert_error(client.get(path, headers=web), 403, "forbidden")
    for path, body in (
        (f"/v1/orders/{pos['id']}/cancel", {}),
        (f"/v1/orders/{pos['id']}/hold", {}),
        (f"/v1/fulfilments/{pos['fulfilments'][0]['id']}/accept", None),
    ):
        assert_error(client.post(path, json=body, headers=web), 403, "forbidden")

    listed = ok(client.get("/v1/orders", headers=web))["items"]
    assert [o["id"] for o in listed] == [own["id"]]
    assert ok(client.get("/v1/orders?channel=pos", headers=web))["items"] == []
    assert ok(client.get(f"/v1/orders/{own['id']}", headers=web))["channel"] == "web"

    # an integrator has no network or admin rights
    assert_error(client.put("/v1/locations/X1", json=DC1, headers=web), 403, "forbidden")
    assert_error(
        client.post("/v1/tokens", json={"name": "t", "role": "admin"}, headers=web),
        403,
        "forbidden",
    )

    # the pos order is untouched
    after = ok(client.get(f"/v1/orders/{pos['id']}", headers=H))
    assert after["status"] == "allocated"
    assert after["fulfilments"][0]["status"] == "released"


def test_integrator_work_queue_hides_other_channels(client: TestClient) -> None:
    place(client, channel="pos")
    own = place(client, channel="web")
    _, web = create_token(client, name="shop", role="integrator", channels=["web"])
    items = ok(client.get("/v1/fulfilments", headers=web))["items"]
    assert {f["order_id"] for f in items} == {own["id"]}


# -- associate scoped to a location ------------------------------------------------------------


def test_associate_scoped_to_s1(client: TestClient) -> None:
    at_s1 = place(client, method="pickup", pickup_location_id="S1")
    at_dc1 = place(client, address=NEAR_DC1)
    s1_fid = at_s1["fulfilments"][0]["id"]
    dc1_fid = at_dc1["fulfilments"][0]["id"]
    assert at_s1["fulfilments"][0]["location_id"] == "S1"
    assert at_dc1["fulfilments"][0]["location_id"] == "DC1"
    _, clerk = create_token(client, name="clerk", role="associate", locations=["S1"])

    accepted = ok(client.post(f"/v1/fulfilments/{s1_fid}/accept", headers=clerk))
    assert accepted["status"] == "accepted"

    err = assert_error(
        client.post(f"/v1/fulfilments/{dc1_fid}/accept", headers=clerk), 403, "forbidden"
    )
    assert err["details"] == {"location_id": "DC1"}
    assert_error(client.get(f"/v1/fulfilments/{dc1_fid}", headers=clerk), 403, "forbidden")
    for action, body in (("reject", {"reason": "other"}), ("cancel", {}), ("pick", {})):
        resp = client.post(f"/v1/fulfilments/{dc1_fid}/{action}", json=body, headers=clerk)
        assert_error(resp, 403, "forbidden")
    assert ok(client.get(f"/v1/fulfilments/{dc1_fid}", headers=H))["status"] == "released"

    # the clerk's queue is S1's
    queue = ok(client.get("/v1/fulfilments", headers=clerk))["items"]
    assert {f["location_id"] for f in queue} == {"S1"}
    asked = ok(client.get("/v1/fulfilments?location_id=DC1", headers=clerk), 200, 403)
    assert "DC1" not in {f["location_id"] for f in asked.get("items", [])}

    # an associate neither places orders, nor moves stock, nor edits the network
    assert_error(client.post("/v1/orders", json=order_body(), headers=clerk), 403, "forbidden")
    adj = {"adjustments": [{"id": "c1", "location_id": "S1", "sku": "A", "delta": 1}]}
    assert_error(
        client.post("/v1/inventory/adjustments", json=adj, headers=clerk), 403, "forbidden"
    )
    assert_error(client.put("/v1/products/X1", json={"name": "x"}, headers=clerk), 403, "forbidden")


# -- token secrets ---------------------------------------------------------------------------------


def test_token_secret_is_shown_once(client: TestClient, tmp_path: Path) -> None:
    created, auth = create_token(client, name="ci", role="integrator", channels=["web"])
    secret = created["token"]
    assert isinstance(secret, str)
    assert len(secret) >= 32
    assert created["role"] == "integrator"
    assert created["channels"] == ["web"]

    # the secret works
    assert client.get("/v1/orders", headers=auth).status_code == 200

    listed = ok(client.get("/v1/tokens", headers=H))
    [entry] = [t for t in listed if t["id"] == created["id"]]
    assert entry["name"] == "ci"
    assert entry.get("token") is None
    assert secret not in client.get("/v1/tokens", headers=H).text

    # and is not kept in clear anywhere in the database files
    for path in tmp_path.glob("t.db*"):
        assert secret.encode() not in path.read_bytes(), path

    # two tokens never share a secret
    other, _ = create_token(client, name="ci", role="integrator", channels=["web"])
    assert other["token"] != secret
    assert other["id"] != created["id"]


def test_only_admin_manages_tokens(client: TestClient) -> None:
    for role, extra in (
        ("integrator", {}),
        ("associate", {"locations": ["S1"]}),
        ("viewer", {}),
    ):
        _, auth = create_token(client, name=role, role=role, **extra)
        assert_error(client.get("/v1/tokens", headers=auth), 403, "forbidden")
        resp = client.post("/v1/tokens", json={"name": "x", "role": "admin"}, headers=auth)
        assert_error(resp, 403, "forbidden")
    _, admin2 = create_token(client, name="admin2", role="admin")
    assert client.get("/v1/tokens", headers=admin2).status_code == 200
