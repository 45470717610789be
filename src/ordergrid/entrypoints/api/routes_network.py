"""Network and catalogue: locations and products."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from ordergrid.bootstrap import Application
from ordergrid.domain.calendar import calendar_from_document
from ordergrid.domain.network import Address
from ordergrid.entrypoints.api import schemas as s
from ordergrid.entrypoints.api.auth import Right, application, require
from ordergrid.entrypoints.api.checks import require_unique
from ordergrid.entrypoints.api.presenters import location_json, product_json
from ordergrid.service import queries
from ordergrid.service.commands import Actor, ProductInput, PutLocation, PutProducts

router = APIRouter(prefix="/v1", tags=["network and catalogue"])
App = Annotated[Application, Depends(application)]
LocationId = Annotated[str, Path(min_length=1, max_length=128, pattern=s.ID_PATTERN)]
Sku = Annotated[str, Path(min_length=1, max_length=128, pattern=s.ID_PATTERN)]


@router.put(
    "/locations/{location_id}",
    response_model=s.LocationOut,
    responses={201: {"model": s.LocationOut, "description": "created"}},
)
def put_location(
    location_id: LocationId,
    body: s.LocationIn,
    app: App,
    response: Response,
    _: Annotated[Actor, Depends(require(Right.NETWORK))],
) -> dict[str, Any]:
    """Create or replace a location."""
    loc, created = app.bus.handle(
        PutLocation(
            location_id=location_id,
            name=body.name,
            type=body.type,
            address=Address(**body.address.model_dump()),
            capabilities=frozenset(body.capabilities),
            status=body.status,
            handling_cost=body.handling_cost,
            orders_per_day=body.capacity.orders_per_day,
            units_per_day=body.capacity.units_per_day,
            tags=frozenset(body.tags),
            channels=frozenset(body.channels),
            cutoff_utc=body.cutoff_utc,
            calendar=None
            if body.calendar is None
            else calendar_from_document(body.calendar.model_dump(mode="json")),
        )
    )
    response.status_code = 201 if created else 200
    return location_json(loc)


@router.get("/locations", response_model=s.LocationList)
def list_locations(app: App, _: Annotated[Actor, Depends(require(Right.READ))]) -> dict[str, Any]:
    return {"items": [location_json(loc) for loc in queries.locations(app.ctx)]}


@router.get("/locations/{location_id}", response_model=s.LocationOut)
def get_location(
    location_id: LocationId, app: App, _: Annotated[Actor, Depends(require(Right.READ))]
) -> dict[str, Any]:
    return location_json(queries.location(app.ctx, location_id))


def _product_input(sku: str, body: s.ProductIn) -> ProductInput:
    return ProductInput(sku, body.name, body.weight_kg, frozenset(body.tags), body.attributes)


@router.put(
    "/products/{sku}",
    response_model=s.ProductOut,
    responses={201: {"model": s.ProductOut, "description": "created"}},
)
def put_product(
    sku: Sku,
    body: s.ProductIn,
    app: App,
    response: Response,
    _: Annotated[Actor, Depends(require(Right.NETWORK))],
) -> dict[str, Any]:
    """Create or replace a product."""
    [(product, created)] = app.bus.handle(PutProducts((_product_input(sku, body),)))
    response.status_code = 201 if created else 200
    return product_json(product)


@router.post("/products/batch", response_model=s.ProductList)
def put_products(
    body: s.ProductBatchIn, app: App, _: Annotated[Actor, Depends(require(Right.NETWORK))]
) -> dict[str, Any]:
    """Create or replace many products in one transaction."""
    require_unique((p.sku for p in body.products), "products.{}.sku", "SKU", "duplicate_sku")
    items = tuple(_product_input(p.sku, p) for p in body.products)
    saved = app.bus.handle(PutProducts(items))
    return {"items": [product_json(p) for p, _ in saved]}


@router.get("/products", response_model=s.ProductList)
def list_products(
    app: App,
    _: Annotated[Actor, Depends(require(Right.READ))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=128, pattern=s.QUERY_TEXT)] = None,
) -> dict[str, Any]:
    page = queries.products(app.ctx, limit, cursor)
    return {"items": [product_json(p) for p in page.items], "next_cursor": page.next_cursor}


@router.get("/products/{sku}", response_model=s.ProductOut)
def get_product(
    sku: Sku, app: App, _: Annotated[Actor, Depends(require(Right.READ))]
) -> dict[str, Any]:
    return product_json(queries.product(app.ctx, sku))
