"""JSON documents for aggregates stored whole (orders, locations)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from ordergrid.domain.calendar import calendar_document, calendar_from_document
from ordergrid.domain.fulfilments import Fulfilment, FulfilmentLine, FulfilmentStatus, Parcel
from ordergrid.domain.network import Address, Capability, Location, LocationStatus, LocationType
from ordergrid.domain.orders import (
    Delivery,
    DeliveryMethod,
    DeliveryPromise,
    Order,
    OrderLine,
    OrderStatus,
    ServiceLevel,
)

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _flat(value: Address | FulfilmentLine | Parcel) -> dict[str, Any]:
    """A value of plain fields as a dict: what `asdict` makes of it, without its deep
    copy of each field (a stored order has several; every save writes them)."""
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
    return {name: getattr(value, name) for name in names}


def location_doc(loc: Location) -> dict[str, Any]:
    return {
        "address": _flat(loc.address),
        "capabilities": sorted(c.value for c in loc.capabilities),
        "handling_cost": loc.handling_cost,
        "orders_per_day": loc.orders_per_day,
        "units_per_day": loc.units_per_day,
        "tags": sorted(loc.tags),
        "channels": sorted(loc.channels),
        "cutoff_utc": None if loc.cutoff_utc is None else loc.cutoff_utc.isoformat("minutes"),
        "calendar": None if loc.calendar is None else calendar_document(loc.calendar),
    }


def location_from(row_id: str, name: str, type_: str, status: str, doc: dict[str, Any]) -> Location:
    return Location(
        id=row_id,
        name=name,
        type=LocationType(type_),
        status=LocationStatus(status),
        address=Address(**doc["address"]),
        capabilities=frozenset(Capability(c) for c in doc["capabilities"]),
        handling_cost=doc["handling_cost"],
        orders_per_day=doc["orders_per_day"],
        units_per_day=doc["units_per_day"],
        tags=frozenset(doc["tags"]),
        channels=frozenset(doc.get("channels", ())),
        cutoff_utc=None if doc.get("cutoff_utc") is None else time.fromisoformat(doc["cutoff_utc"]),
        calendar=None if doc.get("calendar") is None else calendar_from_document(doc["calendar"]),
    )


def _fulfilment_doc(f: Fulfilment) -> dict[str, Any]:
    return {
        "id": f.id,
        "location_id": f.location_id,
        "status": f.status.value,
        "created_at": f.created_at.isoformat(),
        "updated_at": f.updated_at.isoformat(),
        "lines": [_flat(fl) for fl in f.lines],
        "parcels": [_flat(p) for p in f.parcels],
        "reason": f.reason,
        "history": f.history,
    }


def order_doc(order: Order) -> dict[str, Any]:
    d = order.delivery
    return {
        "customer": order.customer,
        "delivery": {
            "method": d.method.value,
            "service_level": d.service_level.value,
            "address": None if d.address is None else _flat(d.address),
            "pickup_location_id": d.pickup_location_id,
        },
        "lines": [
            {
                "line_id": x.line_id,
                "sku": x.sku,
                "quantity": x.quantity,
                "unit_price": None if x.unit_price is None else str(x.unit_price),
                "backordered": x.backordered,
                "cancelled": x.cancelled,
            }
            for x in order.lines
        ],
        "fulfilments": [_fulfilment_doc(f) for f in order.fulfilments],
        "on_hold": order.on_hold,
        "tags": sorted(order.tags),
        "excluded_locations": sorted(order.excluded_locations),
        "reallocations": order.reallocations,
        "exception_id": order.exception_id,
        "promise": None if order.promise is None else _promise_doc(order.promise),
        "pickup_ready_by": None
        if order.pickup_ready_by is None
        else order.pickup_ready_by.isoformat(),
    }


def _promise_doc(p: DeliveryPromise) -> dict[str, Any]:
    return {
        "earliest": None if p.earliest is None else p.earliest.isoformat(),
        "latest": p.latest.isoformat(),
    }


def _promise_from(doc: dict[str, Any] | None) -> DeliveryPromise | None:
    if doc is None:
        return None
    earliest = doc.get("earliest")
    return DeliveryPromise(
        datetime.fromisoformat(doc["latest"]),
        None if earliest is None else datetime.fromisoformat(earliest),
    )


def _fulfilment_from(order_id: str, d: dict[str, Any]) -> Fulfilment:
    return Fulfilment(
        id=d["id"],
        order_id=order_id,
        location_id=d["location_id"],
        status=FulfilmentStatus(d["status"]),
        lines=[FulfilmentLine(**fl) for fl in d["lines"]],
        created_at=datetime.fromisoformat(d["created_at"]),
        updated_at=datetime.fromisoformat(d["updated_at"]),
        parcels=[Parcel(**p) for p in d["parcels"]],
        reason=d["reason"],
        history=d["history"],
    )


def order_from(row: Any, doc: dict[str, Any]) -> Order:
    dd = doc["delivery"]
    return Order(
        id=row.id,
        external_id=row.external_id,
        channel=row.channel,
        delivery=Delivery(
            DeliveryMethod(dd["method"]),
            ServiceLevel(dd["service_level"]),
            None if dd["address"] is None else Address(**dd["address"]),
            dd["pickup_location_id"],
        ),
        lines=[
            OrderLine(
                x["line_id"],
                x["sku"],
                x["quantity"],
                None if x["unit_price"] is None else Decimal(x["unit_price"]),
                x["backordered"],
                x["cancelled"],
            )
            for x in doc["lines"]
        ],
        created_at=row.created_at,
        updated_at=row.updated_at,
        customer=doc["customer"],
        tags=frozenset(doc.get("tags", ())),
        fulfilments=[_fulfilment_from(row.id, f) for f in doc["fulfilments"]],
        status=OrderStatus(row.status),
        on_hold=doc["on_hold"],
        excluded_locations=set(doc["excluded_locations"]),
        reallocations=int(doc.get("reallocations", 0)),
        exception_id=doc.get("exception_id"),
        promise=_promise_from(doc.get("promise")),
        pickup_ready_by=None
        if doc.get("pickup_ready_by") is None
        else datetime.fromisoformat(doc["pickup_ready_by"]),
        version=row.version,
    )
