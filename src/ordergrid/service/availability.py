"""Stock as a channel sees it: safety stock and fences applied, availability by channel,
and `availability.changed` when a watched channel's sellable quantity crosses a threshold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from ordergrid.domain.availability import SkuAvailability, band, for_delivery, for_pickup
from ordergrid.domain.channels import DEFAULT_PICKUP_RADIUS_KM, ChannelSettings
from ordergrid.domain.errors import InvalidInput
from ordergrid.domain.events import Event
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Location
from ordergrid.domain.sourcing import OrderFacts, Policy, SourcingView, select_policy
from ordergrid.domain.sourcing.network_index import index_of
from ordergrid.domain.sourcing.sku_stock import PositionsBySku
from ordergrid.domain.sourcing.view import StockColumns
from ordergrid.domain.stock_rules import StockRules
from ordergrid.service.context import Context
from ordergrid.service.ports import UnitOfWork

Positions = Mapping[tuple[str, str], Position]


def rules_for(uow: UnitOfWork, skus: Iterable[str]) -> StockRules:
    return StockRules(uow.stock_rules.covering(skus))


def as_seen_by(
    positions: Positions,
    rules: StockRules,
    locations: Mapping[str, Location],
    tags: Mapping[str, frozenset[str]],
    channels: Iterable[str | None],
) -> Positions:
    """Positions whose `safety_stock` is what the channels must leave unsold (for several
    channels at once, the most any of them must leave); with no rule, those given."""
    wanted = tuple(channels)
    if not rules:
        return positions
    out: dict[tuple[str, str], Position] = {}
    for key, p in positions.items():
        loc = locations.get(p.location_id)
        if loc is None:
            out[key] = p
            continue
        sku_tags = tags.get(p.sku, frozenset())
        keep = max(rules.keep(p, loc, sku_tags, c) for c in wanted)
        out[key] = p if keep == p.safety_stock else replace(p, safety_stock=keep)
    return out


def held_positions(uow: UnitOfWork, skus: Iterable[str]) -> Positions:
    """The SKUs' positions as this transaction sees them, read through per-SKU arrays:
    the engine lays them out without a call per position, and a position is made only
    where one is looked up. Until the transaction changes stock itself they may come
    from the process's cache; reservations stay conditional updates either way."""
    return PositionsBySku(uow.stock_reads.by_sku(skus))


def with_safety_stock(uow: UnitOfWork, positions: Iterable[Position]) -> list[Position]:
    """The positions with the safety stock every channel keeps (what `GET /v1/inventory`
    and `inventory.changed` show), in the order given."""
    found = list(positions)
    skus = sorted({p.sku for p in found})
    rules = rules_for(uow, skus) if found else StockRules()
    if not rules:
        return found
    locations = {loc.id: loc for loc in uow.locations.all()}
    keyed = {(p.location_id, p.sku): p for p in found}
    seen = as_seen_by(keyed, rules, locations, uow.products.tags(skus), [None])
    return [seen[(p.location_id, p.sku)] for p in found]


def positions_of(uow: UnitOfWork, sku: str) -> list[Position]:
    found = with_safety_stock(uow, uow.inventory.positions([sku]))
    return sorted(found, key=lambda p: p.location_id)


@dataclass(frozen=True, slots=True)
class AvailabilityQuery:
    skus: tuple[str, ...]
    channel: str
    country: str | None = None
    postal_code: str | None = None
    destination: tuple[float, float] | None = None  # lat, lon
    radius_km: float | None = None  # pick-up stores; default: the channel's setting


def _policy(uow: UnitOfWork, q: AvailabilityQuery, method: str) -> Policy:
    facts = OrderFacts(
        channel=q.channel,
        method=method,
        service_level="standard",
        country=None if q.country is None else q.country.upper(),
        postal_code=q.postal_code,
        value=Decimal(0),
        destination=q.destination,
    )
    return select_policy(uow.policies.active(), facts)


def channel_view(uow: UnitOfWork, skus: Iterable[str], channel: str) -> SourcingView:
    """The network and the SKUs' stock as the channel may sell it."""
    wanted = sorted(set(skus))
    locations = {loc.id: loc for loc in uow.locations.all()}
    tags = uow.products.tags(wanted)
    positions = as_seen_by(
        held_positions(uow, wanted), rules_for(uow, wanted), locations, tags, [channel]
    )
    # Built once: delivery and pick-up screen the same SKUs.
    columns = StockColumns.of_positions(positions, index_of(locations), wanted)
    return SourcingView(locations, positions, tags, columns=columns)


def availability(ctx: Context, q: AvailabilityQuery) -> list[SkuAvailability]:
    """Per SKU: what the channel may sell for delivery (to the destination, when given)
    and where its customers may collect it."""
    with ctx.uow(readonly=True) as uow:
        known = uow.products.known(q.skus)
        for index, sku in enumerate(q.skus):
            if sku not in known:
                raise InvalidInput(
                    f"unknown SKU {sku!r}", code="unknown_sku", field=f"skus.{index}"
                )
        view = channel_view(uow, q.skus, q.channel)
        delivery = for_delivery(q.skus, view, _policy(uow, q, "ship"), q.channel, q.destination)
        settings = uow.channels.get(q.channel)
        radius = q.radius_km or (
            settings.pickup_radius_km if settings is not None else DEFAULT_PICKUP_RADIUS_KM
        )
        pickup_policy = _policy(uow, q, "pickup")
        stores = for_pickup(q.skus, view, pickup_policy, q.channel, q.destination, radius)
    return [
        SkuAvailability(sku, *delivery.get(sku, (0, 0)), pickup=stores.get(sku, ()))
        for sku in q.skus
    ]


def watch_availability(uow: UnitOfWork, skus: Iterable[str], actor: str | None) -> list[Event]:
    """`availability.changed` for each watched channel and SKU whose network-wide
    sellable quantity moved to another band of the channel's thresholds."""
    watched = uow.channels.watched()
    wanted = sorted(set(skus))
    if not watched or not wanted:
        return []
    events: list[Event] = []
    for start in range(0, len(wanted), WATCH_CHUNK):
        for settings in watched:
            events += _crossings(uow, settings, wanted[start : start + WATCH_CHUNK], actor)
    return events


#: SKUs whose bands are checked at once (a network-wide count names thousands).
WATCH_CHUNK = 500


def _crossings(
    uow: UnitOfWork, settings: ChannelSettings, wanted: list[str], actor: str | None
) -> list[Event]:
    """The channel's band changes among these SKUs, recorded as told."""
    query = AvailabilityQuery(tuple(wanted), settings.channel)
    view = channel_view(uow, wanted, settings.channel)
    totals = for_delivery(wanted, view, _policy(uow, query, "ship"), settings.channel)
    told = uow.channels.bands(settings.channel, wanted)
    moved: dict[str, int] = {}
    events: list[Event] = []
    for sku in wanted:
        units = totals.get(sku, (0, 0))[0]
        now_band = band(units, settings.availability_thresholds)
        if told.get(sku) == now_band:
            continue
        moved[sku] = now_band
        data = {
            "channel": settings.channel,
            "sku": sku,
            "available": units,
            "band": now_band,
            "previous_band": told.get(sku),
            "thresholds": list(settings.availability_thresholds),
        }
        events.append(Event("availability.changed", data, actor=actor))
    if moved:
        uow.channels.set_bands(settings.channel, moved)
    return events
