"""What a channel may sell: network-wide, per delivery region and per pick-up store.

The same screening as sourcing decides which locations count, so a shop is never told
it can sell units no order of its channel could be given.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.sourcing.policy import Policy
from ordergrid.domain.sourcing.screening import screen
from ordergrid.domain.sourcing.view import SourcingRequest, SourcingView, UnitsToPlace


@dataclass(frozen=True, slots=True)
class PickupStock:
    location_id: str
    available: int
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class SkuAvailability:
    sku: str
    available: int  # sellable for delivery, summed over the locations that may ship it
    locations: int  # how many of those hold some
    pickup: tuple[PickupStock, ...] = ()


def _request(
    skus: Iterable[str],
    channel: str,
    method: DeliveryMethod,
    destination: tuple[float, float] | None,
) -> SourcingRequest:
    lines = tuple(UnitsToPlace(sku, sku, 1) for sku in sorted(set(skus)))
    return SourcingRequest("availability", channel, method, lines, destination)


def for_delivery(
    skus: Iterable[str],
    view: SourcingView,
    policy: Policy,
    channel: str,
    destination: tuple[float, float] | None = None,
) -> dict[str, tuple[int, int]]:
    """(units, locations) per SKU over the locations the ship policy may use; with a
    destination, only those within its distance limit."""
    req = _request(skus, channel, DeliveryMethod.SHIP, destination)
    found = screen(req, view, policy)
    usable = found.available * found.eligible[:, None]
    units = usable.sum(axis=0).tolist()
    holders = (usable > 0).sum(axis=0).tolist()
    return {sku: (int(units[i]), int(holders[i])) for i, sku in enumerate(found.skus)}


def for_pickup(
    skus: Iterable[str],
    view: SourcingView,
    policy: Policy,
    channel: str,
    destination: tuple[float, float] | None = None,
    radius_km: float | None = None,
) -> dict[str, tuple[PickupStock, ...]]:
    """Stores where the channel's customers may collect each SKU now (nearest first when
    a destination is given, within `radius_km` of it)."""
    req = _request(skus, channel, DeliveryMethod.PICKUP, destination)
    found = screen(req, view, policy)
    keep = found.eligible.copy()
    if found.distance is not None and radius_km is not None:
        keep &= found.distance <= radius_km
    rows = np.flatnonzero(keep)
    if found.distance is not None:
        rows = rows[np.argsort(found.distance[rows], kind="stable")]
    # Per SKU, only the stores that hold it: a network-wide answer spans a thousand
    # stores and a hundred SKUs, most of whose cells are empty.
    ids = [found.index.locations[j].id for j in found.candidates[rows].tolist()]
    dists: list[float | None] = (
        [None] * len(ids)
        if found.distance is None
        else [round(d, 1) for d in found.distance[rows].tolist()]
    )
    stock = found.available[rows]
    out: dict[str, tuple[PickupStock, ...]] = {}
    for col, sku in enumerate(found.skus):
        held = np.flatnonzero(stock[:, col] > 0)
        out[sku] = tuple(
            PickupStock(ids[i], units, dists[i])
            for i, units in zip(held.tolist(), stock[held, col].tolist(), strict=True)
        )
    return out


def band(quantity: int, thresholds: Sequence[int]) -> int:
    """How many thresholds (ascending) the quantity is above: a change of band is a
    crossing worth telling a shop about; a change within one is not."""
    return bisect_left(thresholds, quantity)
