"""Delivery promise: every option a cart has for a destination, read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ordergrid.domain.errors import Forbidden
from ordergrid.domain.promise.pickup import PickupOption
from ordergrid.domain.promise.quote import ShipOption
from ordergrid.entrypoints.api import schemas_promise as sp
from ordergrid.entrypoints.api.auth import Right, require
from ordergrid.entrypoints.api.routes_network import App
from ordergrid.service.commands import Actor
from ordergrid.service.promise import Destination, PromiseLine, Quote, QuotePromise, quote_promise

router = APIRouter(prefix="/v1/promise", tags=["promise"])
Reader = Annotated[Actor, Depends(require(Right.READ))]


def option_json(o: ShipOption) -> dict[str, Any]:
    return {
        "method": o.method,
        "service_level": o.service_level,
        "available": o.available,
        "earliest": o.earliest,
        "latest": o.latest,
        "cost": o.cost,
        "reason": o.reason,
        "detail": o.detail,
        "policy_id": o.policy_id,
        "shipments": [
            {
                "location_id": s.dates.location_id,
                "units": s.units,
                "distance_km": None if s.distance_km is None else round(s.distance_km, 1),
                "ships_on": s.dates.ships_on,
                "earliest": s.dates.earliest,
                "latest": s.dates.latest,
            }
            for s in o.shipments
        ],
    }


def pickup_json(p: PickupOption, now: datetime) -> dict[str, Any]:
    ready_in = p.ready_in(now)
    return {
        "location_id": p.location_id,
        "name": p.name,
        "method": p.method,
        "available": p.available,
        "ready_by": p.ready_by,
        "ready_in_minutes": None if ready_in is None else round(ready_in.total_seconds() / 60),
        "mode": p.mode,
        "transfer_from": list(p.transfer_from),
        "distance_km": p.distance_km,
        "reason": p.reason,
        "detail": p.detail,
        "policy_id": p.policy_id,
    }


def quote_json(q: Quote) -> dict[str, Any]:
    return {
        "options": [option_json(o) for o in q.options],
        "pickup": [pickup_json(p, q.now) for p in q.pickup],
        "quoted_at": q.now,
        "destination": {"lat": q.destination[0], "lon": q.destination[1]},
    }


@router.post("", response_model=sp.PromiseOut)
def promise(body: sp.PromiseIn, app: App, actor: Reader) -> dict[str, Any]:
    """Delivery options for a cart: each ship / same-day option the matching policies
    offer with earliest and latest delivery (ISO 8601 with offset, in `destination.timezone`
    when given, else in the zone of the location whose shipment arrives last) and cost,
    and pick-up / curbside at nearby stores with `ready_by` in the store's zone.

    Nothing is reserved. 422 `unknown_sku` (field `lines.N.sku`), `unknown_postal_code`
    (field `destination.postal_code`) when there is no lat/lon and the postal code cannot
    be geocoded; a cart the network cannot cover gives options with `available: false`
    and a `reason`."""
    if actor.channels is not None and body.channel not in actor.channels:
        raise Forbidden("this token may not quote for that channel", field="channel")
    d = body.destination
    cmd = QuotePromise(
        channel=body.channel,
        lines=tuple(PromiseLine(x.sku, x.quantity, x.unit_price) for x in body.lines),
        destination=Destination(d.country, d.postal_code, d.lat, d.lon, d.timezone, d.region),
    )
    return quote_json(quote_promise(cmd, app.ctx))
