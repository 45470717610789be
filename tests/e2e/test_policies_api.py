"""Routing policies over HTTP: validation, versions, activation, roll-back, effect, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import Api

MARKETPLACE = {
    "name": "marketplace from DCs",
    "priority": 10,
    "selector": {"channels": ["web"], "delivery_methods": ["ship"]},
    "constraints": {"location_types": ["dc"], "max_shipments": 2},
    "fallback": "backorder",
}
EXAMPLES = Path(__file__).parents[2] / "examples" / "policies"


def test_put_activate_and_the_decision_records_the_version(api: Api) -> None:
    # Ten units to New York: distance makes the NYC store cheapest under the default.
    api.stock("ST-NYC", "A", 20, "s1")
    api.stock("DC-RNO", "A", 20, "d1")
    created = api.client.put("/v1/policies/mkt", json=MARKETPLACE, headers=api_headers())
    assert created.status_code == 201
    assert (created.json()["latest_version"], created.json()["active_version"]) == (1, None)
    assert api.order("P-1", [("1", "A", 10)])["fulfilments"][0]["location_id"] == "ST-NYC"
    activated = api.post("/v1/policies/mkt/activate")
    assert activated.json()["active_version"] == 1
    order = api.order("P-2", [("1", "A", 10)])
    assert order["fulfilments"][0]["location_id"] == "DC-RNO"
    [decision] = api.get(f"/v1/orders/{order['id']}/decisions").json()
    assert decision["explanation"]["policy"] == {"id": "mkt", "version": 1}


def test_versions_and_roll_back(api: Api) -> None:
    api.client.put("/v1/policies/mkt", json=MARKETPLACE, headers=api_headers())
    second = {**MARKETPLACE, "constraints": {"max_shipments": 1}}
    r = api.client.put("/v1/policies/mkt?activate=true", json=second, headers=api_headers())
    assert (r.json()["latest_version"], r.json()["active_version"]) == (2, 2)
    back = api.post("/v1/policies/mkt/activate", {"version": 1}).json()
    assert back["active_version"] == 1
    assert back["document"]["constraints"]["location_types"] == ["dc"]
    detail = api.get("/v1/policies/mkt").json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    listed = {p["id"]: p for p in api.get("/v1/policies").json()["items"]}
    assert listed["mkt"]["active_version"] == 1
    assert listed["default"]["builtin"] is True
    off = api.post("/v1/policies/mkt/deactivate").json()
    assert off["active_version"] is None


def test_invalid_documents_name_the_offending_field(api: Api) -> None:
    cases = [
        ({**MARKETPLACE, "constraints": {"max_shipments": 0}}, "constraints.max_shipments"),
        ({**MARKETPLACE, "fallback": "later"}, "fallback"),
        ({**MARKETPLACE, "selector": {"channel": ["web"]}}, "selector.channel"),
        (
            {**MARKETPLACE, "constraints": {"location_types": ["warehouse"]}},
            "constraints.location_types.0",
        ),
        ({**MARKETPLACE, "costs": {"per_unit_km": -1}}, "costs.per_unit_km"),
        ({"priority": 1}, "name"),
        ({**MARKETPLACE, "selector": {"min_order_value": 50, "max_order_value": 10}}, "selector"),
        ({**MARKETPLACE, "costs": {"split_penalty": -2}}, "costs.split_penalty"),
        (
            {**MARKETPLACE, "costs": {"rate_card": _card(rates={"express": [[1]]})}},
            "costs.rate_card",
        ),
        (
            {**MARKETPLACE, "costs": {"rate_card": _card(rates={"standard": [[1, 2]]})}},
            "costs.rate_card",
        ),
        ({**MARKETPLACE, "costs": {"rate_card": _card(zone_max_km=[5, 2])}}, "costs.rate_card"),
        (
            {**MARKETPLACE, "costs": {"rate_card": _card(rates={"standard": [[3], [2]], "x": 1})}},
            "costs.rate_card.rates.x.[key]",
        ),
        (
            {
                **MARKETPLACE,
                "costs": {"transit_days": [{"max_km": 9, "days": 1}, {"max_km": 3, "days": 2}]},
            },
            "costs",
        ),
        ({**MARKETPLACE, "constraints": {"time_budget_ms": 0}}, "constraints.time_budget_ms"),
    ]
    for body, field in cases:
        r = api.client.put("/v1/policies/bad", json=body, headers=api_headers())
        assert r.status_code == 422, body
        assert r.json()["error"]["details"]["field"] == field, body
    assert api.get("/v1/policies/bad").status_code == 404


def _card(**change: object) -> dict[str, object]:
    card: dict[str, object] = {
        "zone_max_km": [100, 500],
        "weight_max_kg": [5],
        "rates": {"standard": [[3], [4]]},
    }
    return {**card, **change}


def test_rate_card_policy_prices_the_parcel_and_explains_the_solver(api: Api) -> None:
    api.stock("ST-NYC", "A", 20, "s1")
    doc = {
        "name": "parcels",
        "selector": {"channels": ["web"]},
        "costs": {"rate_card": _card(), "split_penalty": 1.0},
    }
    r = api.client.put("/v1/policies/parcels?activate=true", json=doc, headers=api_headers())
    assert r.status_code == 201, r.text
    order = api.order("R-1", [("1", "A", 2)])
    [decision] = api.get(f"/v1/orders/{order['id']}/decisions").json()
    explanation = decision["explanation"]
    [shipment] = explanation["plan"]["shipments"]
    assert shipment["cost_parts"]["parcel"] == 3.0
    assert explanation["solver"] in {"enumeration", "highs-mip"}
    assert explanation["optimality_gap"] == 0.0
    assert explanation["elapsed_ms"] >= 0


def test_unknown_policy_and_version_and_rights(api: Api) -> None:
    assert api.post("/v1/policies/none/activate").status_code == 404
    api.client.put("/v1/policies/mkt", json=MARKETPLACE, headers=api_headers())
    r = api.post("/v1/policies/mkt/activate", {"version": 9})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_policy_version")
    token = api.post("/v1/tokens", {"name": "shop", "role": "integrator"}).json()["token"]
    other = {"Authorization": f"Bearer {token}"}
    assert api.client.put("/v1/policies/x", json=MARKETPLACE, headers=other).status_code == 403
    assert api.client.get("/v1/policies", headers=other).status_code == 200


def test_cli_applies_the_example_policies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/og.db"
    for name in ("marketplace-dc-only", "store-ship-local", "parcel-rates"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "ordergrid.entrypoints.cli.main",
                "policy",
                "apply",
                str(EXAMPLES / f"{name}.yaml"),
                "--activate",
                "--database-url",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"policy '{name}' version 1 (active)" in result.stdout


def api_headers() -> dict[str, str]:
    return {"Authorization": "Bearer admin-secret"}


def test_product_rule_keeps_hazmat_out_of_stores(api: Api) -> None:
    api.put("/v1/products/H", {"name": "Aerosol", "tags": ["hazmat"]})
    api.stock("ST-NYC", "H", 20, "h1")
    api.stock("DC-RNO", "H", 20, "h2")
    rule = {
        "name": "hazmat-not-from-stores",
        "product_tags": ["hazmat"],
        "exclude_location_types": ["store"],
    }
    policy = {
        "name": "web",
        "selector": {"channels": ["web"]},
        "constraints": {"product_rules": [rule]},
    }
    assert (
        api.client.put(
            "/v1/policies/web?activate=true", json=policy, headers=api_headers()
        ).status_code
        == 201
    )
    order = api.order("H-1", [("1", "H", 10)])  # the NYC store would be cheapest
    assert order["fulfilments"][0]["location_id"] == "DC-RNO"
    [decision] = api.get(f"/v1/orders/{order['id']}/decisions").json()
    store = next(c for c in decision["explanation"]["candidates"] if c["location_id"] == "ST-NYC")
    assert (store["reason"], store["blocked"]) == ("product_rule", {"H": "hazmat-not-from-stores"})


def test_a_product_rule_that_blocks_nothing_is_refused(api: Api) -> None:
    policy = {
        "name": "web",
        "constraints": {"product_rules": [{"name": "empty", "product_tags": ["hazmat"]}]},
    }
    r = api.client.put("/v1/policies/web", json=policy, headers=api_headers())
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "constraints.product_rules.0"


def test_orders_carry_tags_and_a_segment_that_select_a_policy(api: Api) -> None:
    api.stock("ST-NYC", "A", 20, "s1")
    api.stock("DC-RNO", "A", 20, "d1")
    vip = {
        "name": "vip from DCs",
        "selector": {"customer_segments": ["vip"], "order_tags": ["gift"]},
        "constraints": {"location_types": ["dc"]},
    }
    api.client.put("/v1/policies/vip?activate=true", json=vip, headers=api_headers())
    body = {
        "external_id": "T-1",
        "channel": "web",
        "tags": ["gift"],
        "customer": {"id": "C-1", "segment": "vip"},
        "delivery": {"method": "ship", "address": {"postal_code": "10001", "country": "US"}},
        "lines": [{"line_id": "1", "sku": "A", "quantity": 10}],
    }
    order = api.post("/v1/orders", body).json()
    assert order["tags"] == ["gift"]
    assert order["fulfilments"][0]["location_id"] == "DC-RNO"
    plain = api.post("/v1/orders", {**body, "external_id": "T-2", "tags": []}).json()
    assert plain["fulfilments"][0]["location_id"] == "ST-NYC"


def test_strategies_over_http_are_validated_and_explained(api: Api) -> None:
    api.stock("DC-ATL", "A", 1, "d1")
    api.stock("DC-RNO", "A", 1, "d2")
    policy = {
        "name": "web",
        "strategies": [
            {"name": "one parcel", "constraints": {"max_shipments": 1}},
            {"name": "split", "constraints": {"max_shipments": 2}},
        ],
    }
    r = api.client.put("/v1/policies/web?activate=true", json=policy, headers=api_headers())
    assert r.status_code == 201
    assert r.json()["document"]["strategies"][0] == {
        "name": "one parcel",
        "when": {},
        "constraints": {"max_shipments": 1},
        "costs": {},
    }
    order = api.order("S-1", [("1", "A", 2)])
    assert len(order["fulfilments"]) == 2
    [decision] = api.get(f"/v1/orders/{order['id']}/decisions").json()
    explanation = decision["explanation"]
    assert explanation["strategy"] == "split"
    assert explanation["strategies_tried"] == [
        {"strategy": "one parcel", "result": "incomplete", "detail": "covers 1 of 2 units"}
    ]
    bad = {"name": "web", "strategies": [{"name": "x", "constraints": {"max_shipments": 0}}]}
    r = api.client.put("/v1/policies/web", json=bad, headers=api_headers())
    assert r.json()["error"]["details"]["field"] == "strategies.0.constraints.max_shipments"
