"""Network and catalogue use cases."""

from __future__ import annotations

from dataclasses import replace

from ordergrid.domain.catalogue import Product
from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.events import Event
from ordergrid.domain.network import Address, Capability, Location, LocationStatus, LocationType
from ordergrid.service.commands import PutLocation, PutProducts
from ordergrid.service.context import Context
from ordergrid.service.ports import Timer
from ordergrid.service.timer_kinds import LOCATION_UNAVAILABLE


def locate(ctx: Context, address: Address, field: str) -> Address:
    """Fill in coordinates from the postal code when the caller did not give them."""
    if address.lat is not None and address.lon is not None:
        return address
    point = ctx.geocoder.locate(address.country, address.postal_code)
    if point is None:
        raise InvalidInput(
            "give lat and lon, or a postal code that can be geocoded",
            code="address_not_geocodable",
            field=field,
            postal_code=address.postal_code,
            country=address.country,
        )
    return replace(address, lat=point[0], lon=point[1])


def put_location(cmd: PutLocation, ctx: Context) -> tuple[Location, bool]:
    location = Location(
        id=cmd.location_id,
        name=cmd.name,
        type=LocationType(cmd.type),
        address=locate(ctx, cmd.address, "address.postal_code"),
        capabilities=frozenset(Capability(c) for c in cmd.capabilities),
        status=LocationStatus(cmd.status),
        handling_cost=cmd.handling_cost,
        orders_per_day=cmd.orders_per_day,
        units_per_day=cmd.units_per_day,
        tags=cmd.tags,
        channels=cmd.channels,
        cutoff_utc=cmd.cutoff_utc,
        calendar=cmd.calendar,
    )
    with ctx.uow() as uow:
        before = uow.locations.get(location.id)
        created = uow.locations.put(location)
        previous = None if before is None else before.status.value
        # Work released to a location that stops serving moves elsewhere.
        withdraw = before is not None and before.usable and not location.usable
        if previous != location.status.value:
            # A location that starts serving can fill back-orders (the relay reacts).
            uow.outbox.append(
                [
                    Event(
                        "location.status_changed",
                        {
                            "location_id": location.id,
                            "status": location.status.value,
                            "previous": previous,
                        },
                    )
                ],
                ctx.clock.now(),
            )
            if withdraw:
                # By the worker, durably: its released-but-unpicked work moves elsewhere.
                data = {"location_id": location.id}
                uow.timers.add(
                    Timer(ctx.ids.new_id(), LOCATION_UNAVAILABLE, ctx.clock.now(), data=data)
                )
        uow.commit()
    if withdraw:
        ctx.wake()
    return location, created


def put_products(cmd: PutProducts, ctx: Context) -> list[tuple[Product, bool]]:
    out = []
    with ctx.uow() as uow:
        for p in cmd.products:
            product = Product(p.sku, p.name, p.weight_kg, p.tags, dict(p.attributes))
            out.append((product, uow.products.put(product)))
        uow.commit()
    return out
