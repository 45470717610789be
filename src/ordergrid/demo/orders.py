"""A seeded, endless stream of ``POST /v1/orders`` bodies over a sample network."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ordergrid.demo.catalogue import popularity_order, zipf_weight
from ordergrid.demo.cities import City
from ordergrid.demo.geography import STREETS, address_body, distance_km, jitter
from ordergrid.demo.network import SampleNetwork

__all__ = ["OrderStream"]

_DESTINATION_JITTER_KM = 15.0
_METRO_RADIUS_KM = 40.0
_FALLBACK_PICKUP_STORES = 3

_CHANNEL_PREFIXES = {"web": "WEB", "app": "APP", "marketplace": "MKT", "pos": "POS"}
_DEFAULT_CHANNEL_MIX = {"web": 0.6, "app": 0.3, "marketplace": 0.1}
_SERVICE_LEVELS = (("standard", 0.75), ("express", 0.20), ("next_day", 0.05))
_LINE_COUNTS = ((1, 0.57), (2, 0.29), (3, 0.10), (4, 0.025), (5, 0.015))
_QUANTITIES = ((1, 0.85), (2, 0.11), (3, 0.04))
_SHIP_SHARE = 0.80
_SAME_DAY_SHARE = 0.05
_CURBSIDE_SHARE_OF_PICKUP = 0.3
_FIRST_ORDER_NUMBER = 100001
_CUSTOMER_POOL = 60000


@dataclass(frozen=True)
class _Store:
    id: str
    postal_code: str
    lat: float
    lon: float
    capabilities: frozenset[str]


@dataclass(frozen=True)
class _Pool:
    """SKUs with cumulative Zipf weights, for weighted draws."""

    skus: tuple[str, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, skus: Iterable[str], rank: Mapping[str, int]) -> _Pool:
        ordered = tuple(sorted(skus, key=rank.__getitem__))
        weights = itertools.accumulate(zipf_weight(rank[sku]) for sku in ordered)
        return cls(ordered, tuple(weights))

    def draw(self, rng: random.Random) -> str:
        point = rng.random() * self.cumulative[-1]
        return self.skus[bisect.bisect_right(self.cumulative, point)]


def _pick(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    values = [value for value, _ in table]
    return rng.choices(values, weights=[weight for _, weight in table])[0]


def _checked_mix(channel_mix: Mapping[str, float]) -> list[tuple[str, float]]:
    unknown = sorted(set(channel_mix) - set(_CHANNEL_PREFIXES))
    if unknown:
        raise ValueError(f"unknown channels {unknown}; known: {sorted(_CHANNEL_PREFIXES)}")
    if any(weight < 0 for weight in channel_mix.values()) or sum(channel_mix.values()) <= 0:
        raise ValueError("channel_mix weights must be >= 0 with a positive total")
    return [(channel, weight) for channel, weight in channel_mix.items() if weight > 0]


def _order_ready_stores(network: SampleNetwork) -> list[_Store]:
    """Active, e-commerce-enabled stores (no ``no-ecom`` tag)."""
    stores: list[_Store] = []
    for location_id, body in network.locations:
        if body["type"] != "store" or body["status"] != "active" or "no-ecom" in body["tags"]:
            continue
        address = body["address"]
        stores.append(
            _Store(
                id=location_id,
                postal_code=str(address["postal_code"]),
                lat=float(address["lat"]),
                lon=float(address["lon"]),
                capabilities=frozenset(body["capabilities"]),
            )
        )
    return stores


def _stock_by_location(network: SampleNetwork) -> dict[str, dict[str, int]]:
    on_hand: dict[str, dict[str, int]] = {}
    for item in network.stock:
        skus = on_hand.setdefault(str(item["location_id"]), {})
        skus[str(item["sku"])] = skus.get(str(item["sku"]), 0) + int(item["delta"])
    return on_hand


class OrderStream:
    """Endless, seeded stream of ``POST /v1/orders`` bodies over a network.

    ``channel_mix`` maps channels (web, app, marketplace, pos) to relative
    weights; the default is 60% web, 30% app, 10% marketplace. External ids
    are ``{WEB|APP|MKT|POS}-100001`` upwards per channel, unique within one
    stream and identical for the same seed and network. Same-day orders only
    go to cities with an active same-day store; pickup and curbside orders
    name an active, e-commerce store (within 40 km of the customer's city if
    one exists, else one of the nearest three) and only use SKUs in stock
    there. Raises ValueError for an empty network or a bad ``channel_mix``.
    """

    def __init__(
        self,
        network: SampleNetwork,
        seed: int = 11,
        channel_mix: dict[str, float] | None = None,
    ) -> None:
        if not network.products or not network.cities:
            raise ValueError("network needs at least one product and one city")
        self._rng = random.Random(f"{seed}:orders")
        self._channels = _checked_mix(
            channel_mix if channel_mix is not None else _DEFAULT_CHANNEL_MIX
        )
        self._next_number = dict.fromkeys(_CHANNEL_PREFIXES, _FIRST_ORDER_NUMBER)
        self._cities = list(network.cities)
        self._city_weights = [city.population for city in self._cities]
        self._prices = {str(p["sku"]): p["attributes"]["price"] for p in network.products}
        self._rank = {sku: rank for rank, sku in enumerate(popularity_order(network.products))}
        self._all_skus = _Pool.of(self._rank.keys(), self._rank)
        self._stores = _order_ready_stores(network)
        self._on_hand = _stock_by_location(network)
        self._store_pools: dict[str, _Pool | None] = {}
        self._same_day = self._same_day_cities()
        self._same_day_weights = [city.population for city, _ in self._same_day]

    def next_order(self) -> dict[str, Any]:
        """Return the next order body; successive calls never repeat an external id."""
        channel = _pick(self._rng, self._channels)
        delivery, pool, caps = self._delivery()
        return {
            "external_id": self._external_id(channel),
            "channel": channel,
            "customer": self._customer(),
            "delivery": delivery,
            "lines": self._lines(pool, caps),
        }

    # -- parts of an order

    def _external_id(self, channel: str) -> str:
        number = self._next_number[channel]
        self._next_number[channel] = number + 1
        return f"{_CHANNEL_PREFIXES[channel]}-{number}"

    def _customer(self) -> dict[str, Any]:
        number = self._rng.randint(1, _CUSTOMER_POOL)
        return {"id": f"C-{number}", "email": f"customer{number}@example.com"}

    def _destination(self, city: City) -> dict[str, Any]:
        lat, lon = jitter(self._rng, city.lat, city.lon, _DESTINATION_JITTER_KM)
        line1 = f"{self._rng.randint(1, 9999)} {self._rng.choice(STREETS)}"
        return address_body(line1, city.city, city.postal_code, lat, lon)

    def _delivery(self) -> tuple[dict[str, Any], _Pool, Mapping[str, int] | None]:
        """Delivery block, the SKU pool for its lines, and on-hand caps (pickup).

        The method is drawn first; same-day then picks among same-day cities
        only. When a method cannot be served it falls back to ship.
        """
        roll = self._rng.random()
        if roll >= _SHIP_SHARE + _SAME_DAY_SHARE:
            pickup = self._pickup(self._random_city())
            if pickup is not None:
                return pickup
        elif roll >= _SHIP_SHARE and self._same_day:
            city, pool = self._rng.choices(self._same_day, self._same_day_weights)[0]
            body: dict[str, Any] = {
                "method": "same_day",
                "service_level": "express",
                "address": self._destination(city),
            }
            return body, pool, None
        ship: dict[str, Any] = {
            "method": "ship",
            "service_level": _pick(self._rng, _SERVICE_LEVELS),
            "address": self._destination(self._random_city()),
        }
        return ship, self._all_skus, None

    def _random_city(self) -> City:
        return self._rng.choices(self._cities, weights=self._city_weights)[0]

    def _pickup(self, city: City) -> tuple[dict[str, Any], _Pool, Mapping[str, int]] | None:
        curbside = self._rng.random() < _CURBSIDE_SHARE_OF_PICKUP
        method = "curbside" if curbside else "pickup"
        candidates = self._pickup_candidates(city, method)
        if not candidates:
            return None
        store = self._rng.choice(candidates)
        pool = self._store_pool(store.id)
        if pool is None:
            return None
        body: dict[str, Any] = {
            "method": method,
            "service_level": "standard",
            "pickup_location_id": store.id,
        }
        return body, pool, self._on_hand[store.id]

    def _pickup_candidates(self, city: City, method: str) -> list[_Store]:
        ranked = sorted(
            (distance_km(city.lat, city.lon, s.lat, s.lon), s.id, s)
            for s in self._stores
            if method in s.capabilities
        )
        nearby = [store for km, _, store in ranked if km <= _METRO_RADIUS_KM]
        return nearby or [store for _, _, store in ranked[:_FALLBACK_PICKUP_STORES]]

    def _store_pool(self, store_id: str) -> _Pool | None:
        if store_id not in self._store_pools:
            stocked = [sku for sku, qty in self._on_hand.get(store_id, {}).items() if qty > 0]
            self._store_pools[store_id] = _Pool.of(stocked, self._rank) if stocked else None
        return self._store_pools[store_id]

    def _same_day_cities(self) -> list[tuple[City, _Pool]]:
        """Cities with an active same-day store, with the SKUs those stores hold."""
        cities: list[tuple[City, _Pool]] = []
        for city in self._cities:
            stocked = {
                sku
                for store in self._stores
                if store.postal_code == city.postal_code and "same_day" in store.capabilities
                for sku, qty in self._on_hand.get(store.id, {}).items()
                if qty > 0
            }
            if stocked:
                cities.append((city, _Pool.of(stocked, self._rank)))
        return cities

    def _lines(self, pool: _Pool, caps: Mapping[str, int] | None) -> list[dict[str, Any]]:
        wanted = min(int(_pick(self._rng, _LINE_COUNTS)), len(pool.skus))
        skus: list[str] = []
        for _ in range(wanted * 20):
            if len(skus) == wanted:
                break
            sku = pool.draw(self._rng)
            if sku not in skus:
                skus.append(sku)
        return [self._line(n, sku, caps) for n, sku in enumerate(skus, start=1)]

    def _line(self, number: int, sku: str, caps: Mapping[str, int] | None) -> dict[str, Any]:
        quantity = int(_pick(self._rng, _QUANTITIES))
        if caps is not None:
            quantity = max(1, min(quantity, caps[sku]))
        return {
            "line_id": str(number),
            "sku": sku,
            "quantity": quantity,
            "unit_price": self._prices[sku],
        }
