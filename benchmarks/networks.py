"""Generated networks and orders for the sourcing benchmark.

Sites stand at real US cities (the city table shipped with the demo, `load_cities()`):
DCs and dropship vendors spread over the contiguous states, stores in proportion to
population**0.7 like the demo network. Stock is stored compactly, per SKU, as a slice of
two arrays (location index, on-hand), so the 10M store positions of network L are two
numpy arrays, not 10M Python objects. Everything is drawn from seeded numpy Generators:
the same spec and seed give the same network and orders.

Not a benchmark itself (`run_all.py` skips it); `sourcing.py` and the tests import it.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ordergrid.demo.cities import City, load_cities
from ordergrid.domain.network import Address, Capability, Location, LocationStatus, LocationType

DROPSHIP_ONLY = "dropship-only"  # built-in product rule: only from a dropship vendor
NOT_FROM_STORE = "not-from-store"  # built-in product rule: never from a store

_KM_PER_DEG = 111.32
_NOT_CONTIGUOUS = frozenset({"AK", "HI"})
_ZIPF_EXPONENT = 1.0  # as the demo catalogue's popularity
_STORE_EXPONENT = 0.7  # stores per city follow population**0.7, as in the demo network
_STORE_SKEW = 0.3  # a store carries a SKU with probability ~ (popularity rank + 1)**-0.3
_STORE_CARRY_MAX = 0.9
_CHUNK_SKUS = 2048  # SKUs per block of random draws when stocking (memory bound)
_LINES_MEAN = 2.2
_LINES_MAX = 10
_QUANTITIES = (1, 2, 3)
_QUANTITY_SHARES = (0.85, 0.11, 0.04)  # as the demo order stream
_DESTINATION_JITTER_KM = 15.0


@dataclass(frozen=True)
class Spec:
    """The shape of a generated network."""

    name: str
    dcs: int
    stores: int
    vendors: int
    skus: int
    store_share: float = 0.10  # of all SKUs a store carries, on average
    store_max: int = 10  # a carried SKU has 0..store_max units in a store
    dc_share: float = 0.80  # of all SKUs a DC carries, on average
    dc_max: int = 500
    vendor_min: int = 1000  # dropship vendors have plenty: vendor_min..vendor_max units
    vendor_max: int = 5000
    dropship_share: float = 0.10  # of SKUs sold only through a vendor (when there are any)
    not_from_store_share: float = 0.03  # hazmat / oversize: never shipped from a store
    paused_store_share: float = 0.03
    no_ship_store_share: float = 0.05  # pick-up-only stores


NETWORKS = {
    "M": Spec("M", dcs=10, stores=200, vendors=0, skus=20_000),
    "L": Spec("L", dcs=20, stores=1_000, vendors=20, skus=100_000),
}


@dataclass(frozen=True, eq=False)
class Network:
    spec: Spec
    seed: int
    locations: tuple[Location, ...]  # DCs, then stores, then vendors; index = location index
    by_id: dict[str, Location]
    ids: list[str]  # by location index
    skus: list[str]
    tags: list[frozenset[str]]
    popularity: NDArray[np.float64]  # cumulative Zipf weight, by SKU index
    start: NDArray[np.int64]  # SKU s's positions are [start[s], start[s + 1])
    holder: NDArray[np.int16]  # location index of each position, ascending per SKU
    on_hand: NDArray[np.int32]
    cities: tuple[City, ...]

    def stock(self, sku: int) -> tuple[NDArray[np.int16], NDArray[np.int32]]:
        """(location indices, on-hand) of every position of one SKU."""
        a, b = self.start[sku], self.start[sku + 1]
        return self.holder[a:b], self.on_hand[a:b]


@dataclass(frozen=True)
class Order:
    id: str
    skus: tuple[int, ...]  # SKU indices, distinct
    quantities: tuple[int, ...]
    lat: float
    lon: float
    postal_code: str

    @property
    def lines(self) -> int:
        return len(self.skus)


# --------------------------------------------------------------------------- sites


def _jitter(
    rng: np.random.Generator, lat: NDArray[np.float64], lon: NDArray[np.float64], km: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points spread uniformly over a disc of `km` around each (lat, lon)."""
    r = km * np.sqrt(rng.random(len(lat)))
    bearing = rng.random(len(lat)) * 2 * math.pi
    dlat = r * np.cos(bearing) / _KM_PER_DEG
    dlon = r * np.sin(bearing) / (_KM_PER_DEG * np.cos(np.radians(lat)))
    return np.round(lat + dlat, 4), np.round(lon + dlon, 4)


def _spread_sites(rng: np.random.Generator, cities: list[City], count: int) -> list[City]:
    """`count` contiguous-US cities spread over the country, big ones first: each next
    site maximises sqrt(population) x distance to the nearest site already chosen."""
    pool = [c for c in cities if c.state not in _NOT_CONTIGUOUS]
    lat = np.radians([c.lat for c in pool])
    lon = np.radians([c.lon for c in pool])
    weight = np.sqrt([c.population for c in pool]) * rng.uniform(0.8, 1.2, len(pool))
    nearest = np.full(len(pool), np.inf)
    chosen: list[int] = []
    for _ in range(min(count, len(pool))):
        score = weight * np.minimum(nearest, 1e4)
        score[chosen] = -1.0
        pick = int(np.argmax(score))
        chosen.append(pick)
        h = (
            np.sin((lat - lat[pick]) / 2) ** 2
            + np.cos(lat) * np.cos(lat[pick]) * np.sin((lon - lon[pick]) / 2) ** 2
        )
        nearest = np.minimum(nearest, 2 * 6371.0 * np.arcsin(np.sqrt(np.minimum(h, 1.0))))
    return [pool[i] for i in chosen]


def _stores_per_city(cities: list[City], total: int) -> list[int]:
    """D'Hondt over population**0.7: big metros get several stores."""
    counts = [0] * len(cities)
    weights = [c.population**_STORE_EXPONENT for c in cities]
    heap = [(-w, i) for i, w in enumerate(weights)]
    heapq.heapify(heap)
    for _ in range(total):
        _, i = heapq.heappop(heap)
        counts[i] += 1
        heapq.heappush(heap, (-weights[i] / (counts[i] + 1), i))
    return counts


def _location(
    loc_id: str,
    name: str,
    kind: LocationType,
    city: City,
    at: tuple[float, float],
    handling: float,
    capabilities: frozenset[Capability],
    status: LocationStatus = LocationStatus.ACTIVE,
) -> Location:
    address = Address(
        city=city.city, postal_code=city.postal_code, country="US", lat=at[0], lon=at[1]
    )
    return Location(
        loc_id, name, kind, address, capabilities, status, handling_cost=round(handling, 2)
    )


def _sites(rng: np.random.Generator, spec: Spec, cities: list[City]) -> list[Location]:
    ship = frozenset({Capability.SHIP, Capability.RETURNS})
    out: list[Location] = []
    dc_cities = _spread_sites(rng, cities, spec.dcs)
    lat, lon = _jitter(rng, *_coords(dc_cities), 25.0)
    handling = rng.uniform(1.0, 1.5, len(dc_cities))
    for i, city in enumerate(dc_cities):
        at = (float(lat[i]), float(lon[i]))
        out.append(
            _location(
                f"DC-{i + 1:02d}", f"{city.city} DC", LocationType.DC, city, at, handling[i], ship
            )
        )
    store_cities = [
        c
        for c, n in zip(cities, _stores_per_city(cities, spec.stores), strict=True)
        for _ in range(n)
    ]
    lat, lon = _jitter(rng, *_coords(store_cities), 5.0)
    handling = rng.uniform(2.5, 4.0, len(store_cities))
    flag = rng.random(len(store_cities))
    paused = flag < spec.paused_store_share
    no_ship = (flag >= spec.paused_store_share) & (
        flag < spec.paused_store_share + spec.no_ship_store_share
    )
    store_caps = frozenset({Capability.SHIP, Capability.PICKUP, Capability.RETURNS})
    pickup_only = frozenset({Capability.PICKUP, Capability.RETURNS})
    for i, city in enumerate(store_cities):
        out.append(
            _location(
                f"ST-{i + 1:04d}",
                f"Store {city.city}",
                LocationType.STORE,
                city,
                (float(lat[i]), float(lon[i])),
                handling[i],
                pickup_only if no_ship[i] else store_caps,
                LocationStatus.PAUSED if paused[i] else LocationStatus.ACTIVE,
            )
        )
    if spec.vendors:
        pool = [c for c in cities if c.state not in _NOT_CONTIGUOUS]
        weight = np.array([c.population for c in pool], dtype=float)
        picks = rng.choice(len(pool), spec.vendors, replace=False, p=weight / weight.sum())
        vendor_cities = [pool[i] for i in picks]
        lat, lon = _jitter(rng, *_coords(vendor_cities), 30.0)
        handling = rng.uniform(5.0, 6.5, spec.vendors)
        for i, city in enumerate(vendor_cities):
            at = (float(lat[i]), float(lon[i]))
            name = f"Vendor {i + 1} ({city.city})"
            out.append(
                _location(
                    f"DS-{i + 1:02d}", name, LocationType.DROPSHIP, city, at, handling[i], ship
                )
            )
    return out


def _coords(cities: list[City]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return np.array([c.lat for c in cities]), np.array([c.lon for c in cities])


# --------------------------------------------------------------------------- stock


def _store_carry(
    rank: NDArray[np.int64], share: float, allowed: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Per SKU, the chance a store carries it: popular SKUs in most stores, `share` of
    all SKUs on average (none of those it may not carry)."""
    base = (rank + 1.0) ** -_STORE_SKEW
    p = np.zeros(len(rank))
    scale = share / base.mean()
    for _ in range(6):  # clipping the top SKUs lowers the mean: rescale until it holds
        p = np.where(allowed, np.minimum(_STORE_CARRY_MAX, scale * base), 0.0)
        scale *= share / p.mean()
    return p


def _stock(
    rng: np.random.Generator,
    spec: Spec,
    kinds: NDArray[np.int8],
    p_store: NDArray[np.float64],
    p_dc: NDArray[np.float64],
    vendor_of: NDArray[np.int32],
) -> tuple[NDArray[np.int64], NDArray[np.int16], NDArray[np.int32]]:
    """Positions by SKU, in blocks of SKUs: (start, holder, on_hand)."""
    is_store = kinds == 1
    is_dc = kinds == 0
    vendor_loc = np.flatnonzero(kinds == 2)
    low = np.where(kinds == 2, spec.vendor_min, 0)
    high = np.where(is_store, spec.store_max, np.where(is_dc, spec.dc_max, spec.vendor_max))
    counts = np.zeros(spec.skus, dtype=np.int64)
    holders: list[NDArray[np.int16]] = []
    on_hand: list[NDArray[np.int32]] = []
    for a in range(0, spec.skus, _CHUNK_SKUS):
        b = min(a + _CHUNK_SKUS, spec.skus)
        p = np.where(is_store, p_store[a:b, None], np.where(is_dc, p_dc[a:b, None], 0.0))
        hit = rng.random(p.shape, dtype=np.float32) < p
        rows = np.flatnonzero(vendor_of[a:b] >= 0)
        hit[rows, vendor_loc[vendor_of[a:b][rows]]] = True
        sku, loc = np.nonzero(hit)  # row-major: by SKU, then location index
        counts[a:b] = np.bincount(sku, minlength=b - a)
        holders.append(loc.astype(np.int16))
        on_hand.append(rng.integers(low[loc], high[loc] + 1).astype(np.int32))
    start = np.zeros(spec.skus + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return start, np.concatenate(holders), np.concatenate(on_hand)


def build_network(spec: Spec, seed: int) -> Network:
    """The network `spec` describes, drawn from `seed`."""
    rng = np.random.default_rng([seed, ord(spec.name[0]), 1])
    cities = load_cities()
    locations = _sites(rng, spec, cities)
    kind_code = {LocationType.DC: 0, LocationType.STORE: 1, LocationType.DROPSHIP: 2}
    kinds = np.array([kind_code[loc.type] for loc in locations], dtype=np.int8)
    rank = rng.permutation(spec.skus).astype(np.int64)
    popularity = np.cumsum((rank + 1.0) ** -_ZIPF_EXPONENT)
    vendor_of = np.full(spec.skus, -1, dtype=np.int32)
    if spec.vendors:
        dropship = rng.random(spec.skus) < spec.dropship_share
        vendor_of[dropship] = rng.integers(0, spec.vendors, int(dropship.sum()))
    not_from_store = (vendor_of < 0) & (rng.random(spec.skus) < spec.not_from_store_share)
    allowed = vendor_of < 0
    p_store = _store_carry(rank, spec.store_share, allowed)
    # Shares are of all SKUs: DCs carry more of those they may carry.
    p_dc = np.where(allowed, min(1.0, spec.dc_share / allowed.mean()), 0.0)
    start, holder, on_hand = _stock(rng, spec, kinds, p_store, p_dc, vendor_of)
    none, ds, nfs = frozenset[str](), frozenset({DROPSHIP_ONLY}), frozenset({NOT_FROM_STORE})
    tags = [
        ds if v >= 0 else (nfs if n else none)
        for v, n in zip(vendor_of.tolist(), not_from_store.tolist(), strict=True)
    ]
    return Network(
        spec=spec,
        seed=seed,
        locations=tuple(locations),
        by_id={loc.id: loc for loc in locations},
        ids=[loc.id for loc in locations],
        skus=[f"SKU-{i:06d}" for i in range(spec.skus)],
        tags=tags,
        popularity=popularity,
        start=start,
        holder=holder,
        on_hand=on_hand,
        cities=tuple(cities),
    )


# --------------------------------------------------------------------------- orders


def generate_orders(net: Network, count: int, seed: int) -> list[Order]:
    """`count` orders: 1-10 lines (1 + geometric, mean ~2.2), distinct SKUs drawn by Zipf
    popularity, quantities mostly 1, destinations by city population within 15 km."""
    rng = np.random.default_rng([seed, ord(net.spec.name[0]), 2])
    lines = np.minimum(rng.geometric(1 / _LINES_MEAN, count), _LINES_MAX)
    population = np.array([c.population for c in net.cities], dtype=float)
    city = rng.choice(len(net.cities), count, p=population / population.sum())
    lat, lon = _jitter(rng, *_coords([net.cities[i] for i in city]), _DESTINATION_JITTER_KM)
    quantity = rng.choice(_QUANTITIES, int(lines.sum()), p=_QUANTITY_SHARES).tolist()
    draws = _zipf_draws(rng, net, 2 * int(lines.sum()) + 64)
    orders: list[Order] = []
    used = 0
    for i in range(count):
        skus: list[int] = []
        while len(skus) < lines[i]:
            if not draws:
                draws = _zipf_draws(rng, net, 1024)
            sku = draws.pop()
            if sku not in skus:
                skus.append(sku)
        n = len(skus)
        orders.append(
            Order(
                f"{net.spec.name}-{i + 1:06d}",
                tuple(skus),
                tuple(quantity[used : used + n]),
                float(lat[i]),
                float(lon[i]),
                net.cities[city[i]].postal_code,
            )
        )
        used += n
    return orders


def _zipf_draws(rng: np.random.Generator, net: Network, n: int) -> list[int]:
    point = rng.random(n) * net.popularity[-1]
    drawn: list[int] = np.searchsorted(net.popularity, point, side="right").tolist()
    drawn.reverse()  # popped from the end: keep the order they were drawn in
    return drawn
