"""Delivery promise: read-only quotes of every delivery option for a cart.

Nothing is reserved or written: the quote reads the network in one read-only unit of
work and runs the same sourcing as orders on it, so an order placed with a quoted option
is decided by the same policy, view and cost model (and weighs the promised date).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from ordergrid.domain.calendar import zone
from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.promise.pickup import PickupOption, pickup_options
from ordergrid.domain.promise.quote import (
    PROMISE_ORDER_ID,
    Cart,
    PromiseView,
    ShipOption,
    ship_options,
)
from ordergrid.domain.sourcing import Policy, SourcingRequest
from ordergrid.domain.supply import Incoming
from ordergrid.service.context import Context
from ordergrid.service.ports import UnitOfWork
from ordergrid.service.sourcing import build_batch_view

MAX_LINES = 100


@dataclass(frozen=True, slots=True)
class PromiseLine:
    sku: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Destination:
    country: str | None = None
    postal_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    timezone: str | None = None  # IANA; dates are given in it when set
    region: str | None = None  # state or province: its carrier holidays apply


@dataclass(frozen=True, slots=True)
class QuotePromise:
    channel: str
    lines: tuple[PromiseLine, ...]
    destination: Destination


@dataclass(frozen=True, slots=True)
class Quote:
    now: datetime
    destination: tuple[float, float]
    options: list[ShipOption]
    pickup: list[PickupOption]


def _check_lines(lines: tuple[PromiseLine, ...]) -> None:
    if not lines:
        raise InvalidInput("a promise needs at least one line", code="no_lines", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(
            f"a promise takes at most {MAX_LINES} lines", code="too_many_lines", field="lines"
        )
    for i, line in enumerate(lines):
        if line.quantity < 1:
            raise InvalidInput(
                "quantity must be at least 1", code="invalid_quantity", field=f"lines.{i}.quantity"
            )


def locate_destination(ctx: Context, dest: Destination) -> tuple[float, float]:
    """The destination's coordinates: as given, else geocoded from the postal code."""
    if dest.lat is not None and dest.lon is not None:
        return dest.lat, dest.lon
    if not dest.postal_code:
        raise InvalidInput(
            "give lat and lon, or a postal code", code="destination_required", field="destination"
        )
    point = ctx.geocoder.locate(dest.country, dest.postal_code)
    if point is None:
        raise InvalidInput(
            f"postal code {dest.postal_code!r} ({dest.country or 'no country'}) is unknown; "
            "give lat and lon",
            code="unknown_postal_code",
            field="destination.postal_code",
            postal_code=dest.postal_code,
            country=dest.country,
        )
    return point


def _cart(cmd: QuotePromise, point: tuple[float, float]) -> Cart:
    value = sum(((line.unit_price or Decimal(0)) * line.quantity for line in cmd.lines), Decimal(0))
    tz = cmd.destination.timezone
    return Cart(
        channel=cmd.channel,
        lines=tuple((line.sku, line.quantity) for line in cmd.lines),
        destination=point,
        country=cmd.destination.country,
        postal_code=cmd.destination.postal_code,
        timezone=None if tz is None else zone(tz),
        value=value,
        region=cmd.destination.region,
    )


def _incoming(
    uow: UnitOfWork, policies: Sequence[Policy], skus: Iterable[str], now: datetime
) -> dict[str, list[Incoming]]:
    """Free supply on its way for the cart's SKUs, read only when some active policy
    lets orders wait for it (each policy keeps to its own horizon when quoting)."""
    days = [p.future_supply.max_days for p in policies if p.future_supply.allow]
    if not days:
        return {}
    until = now + timedelta(days=max(days))
    return {sku: uow.supply.incoming(sku, until) for sku in sorted(skus)}


def quote_promise(cmd: QuotePromise, ctx: Context) -> Quote:
    """Every option the policies offer for the cart: ship and same-day with earliest and
    latest delivery and cost, and pick-up / curbside per nearby store with `ready_by`.

    Raises `InvalidInput` for no lines (`no_lines`), an unknown SKU (`unknown_sku`,
    field `lines.N.sku`) and a destination that cannot be placed (`unknown_postal_code`).
    """
    _check_lines(cmd.lines)
    point = locate_destination(ctx, cmd.destination)
    cart = _cart(cmd, point)
    now = ctx.clock.now()
    probe = SourcingRequest(
        PROMISE_ORDER_ID, cmd.channel, DeliveryMethod.SHIP, cart.units(), cart.destination
    )
    with ctx.uow(readonly=True) as uow:
        policies = uow.policies.active()
        sourcing = build_batch_view(uow, [probe], now, policies)
        incoming = _incoming(uow, policies, sourcing.product_tags, now)
    # The view's product tags hold every known SKU asked for (and only those).
    for i, line in enumerate(cmd.lines):
        if line.sku not in sourcing.product_tags:
            raise InvalidInput(
                f"unknown SKU {line.sku!r}", code="unknown_sku", field=f"lines.{i}.sku"
            )
    view = PromiseView(
        replace(sourcing, shadow_prices=ctx.scarcity.current()), policies, incoming=incoming
    )
    return Quote(now, point, ship_options(cart, view, now), pickup_options(cart, view, now))
