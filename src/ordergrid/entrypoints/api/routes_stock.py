"""Stock rules (safety stock, channel fences), channel settings and channel availability."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Response

from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.stock_rules import RuleKind, RuleScope, StockRule
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api import schemas_stock as ss
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service import stock_rules
from ordergrid.service.availability import AvailabilityQuery, availability
from ordergrid.service.commands import Actor
from ordergrid.service.orders import check_channel

router = APIRouter(tags=["availability"])
Reader = Annotated[Actor, Depends(require(Right.READ))]
Inventory = Annotated[Actor, Depends(require(Right.INVENTORY))]
RuleId = Annotated[str, Path(min_length=1, max_length=128, pattern=s.ID_PATTERN)]
ChannelName = Annotated[str, Path(min_length=1, max_length=128, pattern=s.ID_PATTERN)]
MAX_SKUS = 500


def rule_json(rule: StockRule) -> dict[str, Any]:
    sc = rule.scope
    return {
        "id": rule.id,
        "kind": rule.kind.value,
        "scope": {
            "channel": sc.channel,
            "location_id": sc.location_id,
            "location_type": sc.location_type,
            "sku": sc.sku,
            "sku_tag": sc.sku_tag,
        },
        "quantity": rule.quantity,
        "share": rule.share,
    }


def channel_json(c: ChannelSettings) -> dict[str, Any]:
    return {
        "channel": c.channel,
        "availability_thresholds": list(c.availability_thresholds),
        "pickup_radius_km": c.pickup_radius_km,
    }


@router.put("/v1/stock-rules/{rule_id}", response_model=ss.StockRuleOut)
def put_rule(
    rule_id: RuleId, body: ss.StockRuleIn, response: Response, app: App, _: Inventory
) -> dict[str, Any]:
    """Create or replace a safety-stock rule or a channel fence. The most specific rule
    covering a position wins: SKU over SKU tag, location over location type, a named
    channel over any; give `quantity` or `share` (of on-hand, rounded up)."""
    sc = body.scope
    rule = StockRule(
        rule_id,
        RuleKind(body.kind),
        RuleScope(sc.channel, sc.location_id, sc.location_type, sc.sku, sc.sku_tag),
        body.quantity,
        body.share,
    )
    response.status_code = 201 if stock_rules.put_rule(app.ctx, rule) else 200
    return rule_json(rule)


@router.get("/v1/stock-rules", response_model=ss.StockRuleList)
def list_rules(app: App, _: Reader) -> dict[str, Any]:
    return {"items": [rule_json(r) for r in stock_rules.rules(app.ctx)]}


@router.get("/v1/stock-rules/{rule_id}", response_model=ss.StockRuleOut)
def get_rule(rule_id: RuleId, app: App, _: Reader) -> dict[str, Any]:
    return rule_json(stock_rules.rule(app.ctx, rule_id))


@router.delete("/v1/stock-rules/{rule_id}", status_code=204, response_class=Response)
def delete_rule(rule_id: RuleId, app: App, _: Inventory) -> Response:
    stock_rules.remove_rule(app.ctx, rule_id)
    return Response(status_code=204)


@router.put("/v1/channels/{channel}", response_model=ss.ChannelOut)
def put_channel(
    channel: ChannelName, body: ss.ChannelIn, response: Response, app: App, _: Inventory
) -> dict[str, Any]:
    """Settings of a channel: the sellable quantities whose crossing emits
    `availability.changed` (so shops sync without polling), the pick-up search radius."""
    settings = ChannelSettings(channel, tuple(body.availability_thresholds), body.pickup_radius_km)
    response.status_code = 201 if stock_rules.put_channel(app.ctx, settings) else 200
    return channel_json(settings)


@router.get("/v1/channels", response_model=ss.ChannelList)
def list_channels(app: App, _: Reader) -> dict[str, Any]:
    return {"items": [channel_json(c) for c in stock_rules.channels(app.ctx)]}


@router.get("/v1/channels/{channel}", response_model=ss.ChannelOut)
def get_channel(channel: ChannelName, app: App, _: Reader) -> dict[str, Any]:
    return channel_json(stock_rules.channel(app.ctx, channel))


def _skus(raw: str) -> tuple[str, ...]:
    skus = tuple(dict.fromkeys(x.strip() for x in raw.split(",") if x.strip()))
    if not skus:
        raise InvalidInput("name at least one SKU", code="skus_required", field="skus")
    if len(skus) > MAX_SKUS:
        raise InvalidInput(
            f"at most {MAX_SKUS} SKUs per request", code="too_many_skus", field="skus"
        )
    return skus


def _destination(
    app: App, country: str | None, postal_code: str | None, lat: float | None, lon: float | None
) -> tuple[float, float] | None:
    if (lat is None) != (lon is None):
        raise InvalidInput("give both lat and lon", code="incomplete_coordinates", field="lat")
    if lat is not None and lon is not None:
        return lat, lon
    if postal_code is None:
        return None
    point = app.ctx.geocoder.locate(country, postal_code)
    if point is None:
        raise InvalidInput(
            f"postal code {postal_code!r} cannot be located; give lat and lon",
            code="unknown_postal_code",
            field="postal_code",
        )
    return point


@router.get("/v1/availability", response_model=ss.AvailabilityOut)
def get_availability(
    app: App,
    actor: Reader,
    skus: Annotated[str, Query(min_length=1, max_length=65_536, pattern=s.QUERY_TEXT)],
    channel: Annotated[str, Query(min_length=1, max_length=128, pattern=s.ID_PATTERN)],
    postal_code: Annotated[str | None, Query(max_length=32, pattern=s.QUERY_TEXT)] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
) -> Response:
    """What the channel may sell, per SKU: network-wide for delivery (locations its ship
    policy may use, less safety stock and other channels' fences; with a destination, the
    locations that may deliver there), and the pick-up stores holding it (within
    `radius_km` of the destination when one is given)."""
    check_channel(actor, channel)
    query = AvailabilityQuery(
        _skus(skus),
        channel,
        country=country,
        postal_code=postal_code,
        destination=_destination(app, country, postal_code, lat, lon),
        radius_km=radius_km,
    )
    items = availability(app.ctx, query)
    answer = {
        "channel": channel,
        "items": [
            {
                "sku": a.sku,
                "available": a.available,
                "locations": a.locations,
                "pickup": [
                    {
                        "location_id": p.location_id,
                        "available": p.available,
                        "distance_km": p.distance_km,
                    }
                    for p in a.pickup
                ],
            }
            for a in items
        ],
    }
    # Written as it is: a network-wide answer lists tens of thousands of pick-up stores,
    # built here from typed results, and checking it against `AvailabilityOut` again
    # took as long as computing it (the model still documents it; tests hold it to it).
    return Response(orjson.dumps(answer), media_type="application/json")
