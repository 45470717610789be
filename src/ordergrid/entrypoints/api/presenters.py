"""Domain objects to the JSON shapes of the contract."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ordergrid.domain.calendar import calendar_document
from ordergrid.domain.catalogue import Product
from ordergrid.domain.fulfilments import Fulfilment
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Location
from ordergrid.domain.orders import Order
from ordergrid.service.ports import ApiToken


def location_json(loc: Location) -> dict[str, Any]:
    return {
        "id": loc.id,
        "name": loc.name,
        "type": loc.type.value,
        "address": {k: v for k, v in asdict(loc.address).items() if v is not None},
        "capabilities": sorted(c.value for c in loc.capabilities),
        "capacity": {"orders_per_day": loc.orders_per_day, "units_per_day": loc.units_per_day},
        "status": loc.status.value,
        "handling_cost": loc.handling_cost,
        "tags": sorted(loc.tags),
        "channels": sorted(loc.channels),
        "cutoff_utc": None if loc.cutoff_utc is None else loc.cutoff_utc.isoformat("minutes"),
        "calendar": None if loc.calendar is None else calendar_document(loc.calendar),
    }


def product_json(p: Product) -> dict[str, Any]:
    return {
        "sku": p.sku,
        "name": p.name,
        "weight_kg": p.weight_kg,
        "tags": sorted(p.tags),
        "attributes": p.attributes,
    }


def position_json(p: Position) -> dict[str, Any]:
    return {
        "location_id": p.location_id,
        "sku": p.sku,
        "on_hand": p.on_hand,
        "reserved": p.reserved,
        "safety_stock": p.safety_stock,
        "available": p.available,
    }


def fulfilment_json(f: Fulfilment, method: str) -> dict[str, Any]:
    return {
        "id": f.id,
        "order_id": f.order_id,
        "location_id": f.location_id,
        "status": f.status.value,
        "delivery_method": method,
        "lines": [
            {
                "line_id": x.line_id,
                "sku": x.sku,
                "quantity": x.quantity,
                "short": x.short,
                "cancelled": x.cancelled,
            }
            for x in f.lines
        ],
        "parcels": [
            {"carrier": p.carrier, "tracking_number": p.tracking_number} for p in f.parcels
        ],
        "reason": f.reason,
        "created_at": f.created_at,
        "updated_at": f.updated_at,
    }


def order_json(order: Order) -> dict[str, Any]:
    d = order.delivery
    delivery: dict[str, Any] = {"method": d.method.value, "service_level": d.service_level.value}
    if d.address is not None:
        delivery["address"] = {k: v for k, v in asdict(d.address).items() if v is not None}
    if d.pickup_location_id is not None:
        delivery["pickup_location_id"] = d.pickup_location_id
    if order.promise is not None:
        delivery["promise"] = {"earliest": order.promise.earliest, "latest": order.promise.latest}
    if order.pickup_ready_by is not None:
        delivery["ready_by"] = order.pickup_ready_by
    lines = []
    for line in order.lines:
        c = order.counts(line)
        lines.append(
            {
                "line_id": line.line_id,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "allocated": c.allocated,
                "backordered": c.backordered,
                "shipped": c.shipped,
                "cancelled": c.cancelled,
            }
        )
    return {
        "id": order.id,
        "external_id": order.external_id,
        "channel": order.channel,
        "status": order.status.value,
        "on_hold": order.on_hold,
        "customer": order.customer,
        "tags": sorted(order.tags),
        "delivery": delivery,
        "lines": lines,
        "fulfilments": [fulfilment_json(f, d.method.value) for f in order.fulfilments],
        "exception_id": order.exception_id,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def token_json(token: ApiToken, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role.value,
        "channels": sorted(token.channels),
        "locations": sorted(token.locations),
        "created_at": token.created_at,
        "token": secret,
    }
