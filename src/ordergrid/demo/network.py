"""The sample network: 10 DCs, stores in the biggest cities and a dropship vendor."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ordergrid.demo.calendars import dc_calendar, dropship_calendar, store_calendar
from ordergrid.demo.catalogue import build_products
from ordergrid.demo.cities import City, load_cities
from ordergrid.demo.geography import DC_STREETS, STREETS, address_body, jitter, street_line
from ordergrid.demo.stock import build_stock

__all__ = ["SampleNetwork", "build_network"]

_STORE_WEIGHT_EXPONENT = 0.7
_STORE_JITTER_KM = 5.0


@dataclass(frozen=True)
class _Hub:
    code: str
    metro: str
    city: str
    postal_code: str
    state: str
    lat: float
    lon: float
    timezone: str


_EAST, _CENTRAL, _PACIFIC = "America/New_York", "America/Chicago", "America/Los_Angeles"
_DC_HUBS = (
    _Hub("ATL", "Atlanta", "McDonough", "30253", "GA", 33.4473, -84.1469, _EAST),
    _Hub("DFW", "Dallas", "Lancaster", "75146", "TX", 32.5921, -96.7561, _CENTRAL),
    _Hub("CHI", "Chicago", "Romeoville", "60446", "IL", 41.6475, -88.0895, _CENTRAL),
    _Hub("CMH", "Columbus", "Groveport", "43125", "OH", 39.8784, -82.8838, _EAST),
    _Hub("RNO", "Reno", "Sparks", "89434", "NV", 39.5538, -119.7160, _PACIFIC),
    _Hub("ONT", "Inland Empire", "Ontario", "91761", "CA", 34.0340, -117.6050, _PACIFIC),
    _Hub("MEM", "Memphis", "Memphis", "38118", "TN", 35.0451, -89.9297, _CENTRAL),
    _Hub("ABE", "Lehigh Valley", "Breinigsville", "18031", "PA", 40.5365, -75.6310, _EAST),
    _Hub("PHX", "Phoenix", "Goodyear", "85338", "AZ", 33.4353, -112.3577, "America/Phoenix"),
    _Hub("MCI", "Kansas City", "Edgerton", "66021", "KS", 38.7645, -95.0080, _CENTRAL),
)
_DROPSHIP_HUB = _Hub(
    "SUMMIT",
    "Indianapolis",
    "Plainfield",
    "46168",
    "IN",
    39.7042,
    -86.3994,
    "America/Indiana/Indianapolis",
)

_STORE_CAPABILITIES = ("ship", "pickup", "same_day", "curbside", "returns")

# Airport-style codes for the biggest metros; other cities get derived codes.
_METRO_CODES: dict[tuple[str, str], str] = {
    ("New York", "NY"): "NYC",
    ("Los Angeles", "CA"): "LAX",
    ("Chicago", "IL"): "CHI",
    ("Houston", "TX"): "HOU",
    ("Phoenix", "AZ"): "PHX",
    ("Philadelphia", "PA"): "PHL",
    ("San Antonio", "TX"): "SAT",
    ("San Diego", "CA"): "SAN",
    ("Dallas", "TX"): "DAL",
    ("San Jose", "CA"): "SJC",
    ("Austin", "TX"): "AUS",
    ("Jacksonville", "FL"): "JAX",
    ("Fort Worth", "TX"): "FTW",
    ("Columbus", "OH"): "CMH",
    ("Indianapolis", "IN"): "IND",
    ("Charlotte", "NC"): "CLT",
    ("San Francisco", "CA"): "SFO",
    ("Seattle", "WA"): "SEA",
    ("Denver", "CO"): "DEN",
    ("Washington", "DC"): "WAS",
    ("Nashville", "TN"): "BNA",
    ("Oklahoma City", "OK"): "OKC",
    ("El Paso", "TX"): "ELP",
    ("Boston", "MA"): "BOS",
    ("Portland", "OR"): "PDX",
    ("Las Vegas", "NV"): "LAS",
    ("Detroit", "MI"): "DTW",
    ("Memphis", "TN"): "MEM",
    ("Louisville", "KY"): "SDF",
    ("Baltimore", "MD"): "BWI",
    ("Milwaukee", "WI"): "MKE",
    ("Albuquerque", "NM"): "ABQ",
    ("Tucson", "AZ"): "TUS",
    ("Fresno", "CA"): "FAT",
    ("Sacramento", "CA"): "SMF",
    ("Kansas City", "MO"): "MCI",
    ("Atlanta", "GA"): "ATL",
    ("Miami", "FL"): "MIA",
    ("Minneapolis", "MN"): "MSP",
    ("New Orleans", "LA"): "MSY",
    ("Honolulu", "HI"): "HNL",
    ("Anchorage", "AK"): "ANC",
}


def _derived_code(name: str) -> str:
    words = ["".join(ch for ch in word if ch.isalpha()) for word in name.replace("-", " ").split()]
    words = [word.upper() for word in words if word]
    if len(words) >= 3:
        return "".join(word[0] for word in words[:3])
    if len(words) == 2:
        return words[0][0] + words[1][:2]
    return words[0][:3]


def _city_codes(cities: Sequence[City]) -> list[str]:
    """One unique short code per city, stable for a given city list order."""
    taken = set(_METRO_CODES.values())
    codes: list[str] = []
    for city in cities:
        fixed = _METRO_CODES.get((city.city, city.state))
        if fixed is not None:
            codes.append(fixed)
            continue
        code = _derived_code(city.city)
        candidates = itertools.chain(
            [code, code + city.state], (f"{code}{n}" for n in itertools.count(2))
        )
        code = next(candidate for candidate in candidates if candidate not in taken)
        taken.add(code)
        codes.append(code)
    return codes


def _allocate_stores(cities: Sequence[City], total: int) -> list[int]:
    """Stores per city by D'Hondt over population**0.7: big metros get several."""
    counts = [0] * len(cities)
    weights = [float(city.population**_STORE_WEIGHT_EXPONENT) for city in cities]
    heap = [(-weight, index) for index, weight in enumerate(weights)]
    heapq.heapify(heap)
    for _ in range(total if cities else 0):
        _, index = heapq.heappop(heap)
        counts[index] += 1
        heapq.heappush(heap, (-weights[index] / (counts[index] + 1), index))
    return counts


def _location_body(
    *,
    name: str,
    kind: str,
    address: dict[str, Any],
    capabilities: Sequence[str],
    orders_per_day: int,
    handling_cost: float,
    calendar: dict[str, Any],
    status: str = "active",
    tags: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "address": address,
        "capabilities": list(capabilities),
        "capacity": {"orders_per_day": orders_per_day},
        "status": status,
        "handling_cost": handling_cost,
        "tags": list(tags),
        "calendar": calendar,
    }


def _dc_locations(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    locations: list[tuple[str, dict[str, Any]]] = []
    for hub in _DC_HUBS:
        body = _location_body(
            name=f"{hub.metro} DC ({hub.city}, {hub.state})",
            kind="dc",
            address=address_body(
                street_line(rng, DC_STREETS),
                hub.city,
                hub.postal_code,
                hub.lat,
                hub.lon,
            ),
            capabilities=("ship", "returns"),
            orders_per_day=rng.randint(8, 24) * 500,
            handling_cost=round(rng.uniform(1.0, 1.5), 2),
            calendar=dc_calendar(hub.timezone),
        )
        locations.append((f"DC-{hub.code}", body))
    return locations


def _dropship_location(rng: random.Random) -> tuple[str, dict[str, Any]]:
    hub = _DROPSHIP_HUB
    body = _location_body(
        name="Summit Home Direct (dropship vendor)",
        kind="dropship",
        address=address_body(
            street_line(rng, DC_STREETS), hub.city, hub.postal_code, hub.lat, hub.lon
        ),
        capabilities=("ship",),
        orders_per_day=2500,
        handling_cost=round(rng.uniform(5.0, 6.5), 2),
        tags=("vendor",),
        calendar=dropship_calendar(hub.timezone),
    )
    return f"DS-{hub.code}", body


@dataclass(frozen=True)
class _StoreSlot:
    city: City
    code: str
    number: int
    city_store_count: int


def _store_slots(cities: Sequence[City], total: int) -> list[_StoreSlot]:
    codes = _city_codes(cities)
    counts = _allocate_stores(cities, total)
    return [
        _StoreSlot(city, code, number, count)
        for city, code, count in zip(cities, codes, counts, strict=True)
        for number in range(1, count + 1)
    ]


def _store_flags(rng: random.Random, slots: Sequence[_StoreSlot]) -> tuple[set[int], set[int]]:
    """Indices of no-ecom (~5%) and paused (~3%) stores; flagships are never either."""
    ordinary = [i for i, slot in enumerate(slots) if not _is_flagship(slot)]
    no_ecom = set(rng.sample(ordinary, min(len(ordinary), round(0.05 * len(slots)))))
    rest = [i for i in ordinary if i not in no_ecom]
    paused = set(rng.sample(rest, min(len(rest), round(0.03 * len(slots)))))
    return no_ecom, paused


def _is_flagship(slot: _StoreSlot) -> bool:
    return slot.number == 1 and slot.city_store_count >= 3


def _store_tags(rng: random.Random, slot: _StoreSlot, no_ecom: bool) -> list[str]:
    tags = ["flagship"] if _is_flagship(slot) else []
    if rng.random() < 0.25:
        tags.append("mall")
    if not tags and rng.random() < 0.08:
        tags.append("outlet")
    if no_ecom:
        tags.append("no-ecom")
    return tags


def _store_capabilities(rng: random.Random, slot: _StoreSlot, offers_same_day: bool) -> list[str]:
    same_day_share = 0.6 if slot.city_store_count >= 2 else 0.2
    same_day = offers_same_day and rng.random() < same_day_share
    return [cap for cap in _STORE_CAPABILITIES if cap != "same_day" or same_day]


def _store_location(
    rng: random.Random, slot: _StoreSlot, *, no_ecom: bool, paused: bool
) -> tuple[str, dict[str, Any]]:
    city = slot.city
    lat, lon = jitter(rng, city.lat, city.lon, _STORE_JITTER_KM)
    body = _location_body(
        name=f"Store {city.city} {slot.number:02d}",
        kind="store",
        address=address_body(street_line(rng, STREETS), city.city, city.postal_code, lat, lon),
        capabilities=_store_capabilities(rng, slot, offers_same_day=not (no_ecom or paused)),
        orders_per_day=rng.randint(8, 30) * 10,
        handling_cost=round(rng.uniform(2.5, 4.0), 2),
        status="paused" if paused else "active",
        tags=_store_tags(rng, slot, no_ecom),
        calendar={},  # by the store's kind, once its tags are drawn
    )
    body["calendar"] = store_calendar(city.timezone, body["tags"])
    return f"ST-{slot.code}-{slot.number:02d}", body


def _store_locations(
    rng: random.Random, cities: Sequence[City], total: int
) -> list[tuple[str, dict[str, Any]]]:
    slots = _store_slots(cities, total)
    no_ecom, paused = _store_flags(rng, slots)
    return [
        _store_location(rng, slot, no_ecom=i in no_ecom, paused=i in paused)
        for i, slot in enumerate(slots)
    ]


@dataclass(frozen=True)
class SampleNetwork:
    """A seeded network ready to load through the API.

    ``locations`` holds ``(location_id, PUT body)`` pairs (DCs, then stores,
    then the dropship vendor); ``products`` holds product batch items;
    ``stock`` holds stock adjustment items with deterministic ids
    (``seed-{location_id}-{sku}``) so reloading is idempotent; ``cities`` is
    the city list the network was built from.
    """

    locations: list[tuple[str, dict[str, Any]]]
    products: list[dict[str, Any]]
    stock: list[dict[str, Any]]
    cities: list[City]


def build_network(seed: int = 7, stores: int = 160, products: int = 300) -> SampleNetwork:
    """Build the sample network: 10 DCs, ``stores`` stores, 1 dropship vendor.

    Stores go to the most populous cities (several in the biggest metros);
    about 5% are tagged ``no-ecom`` and 3% are ``paused``. Products carry
    hazmat/oversize/ship-alone/dropship-only tags in fixed shares; stores
    never stock oversize or dropship-only SKUs, and only the dropship vendor
    stocks dropship-only SKUs. Same seed, same result.

    Raises ValueError if ``stores`` is negative or ``products`` is below 1.
    """
    if stores < 0:
        raise ValueError("stores must be >= 0")
    if products < 1:
        raise ValueError("products must be >= 1")
    cities = load_cities()
    locations = [
        *_dc_locations(random.Random(f"{seed}:dcs")),
        *_store_locations(random.Random(f"{seed}:stores"), cities, stores),
        _dropship_location(random.Random(f"{seed}:dropship")),
    ]
    catalog = build_products(random.Random(f"{seed}:products"), products)
    stock = build_stock(random.Random(f"{seed}:stock"), locations, catalog)
    return SampleNetwork(locations=locations, products=catalog, stock=stock, cities=cities)
