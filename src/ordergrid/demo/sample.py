"""Deterministic sample US retail network and order stream for demos.

Everything here is pure and seeded: the same arguments always give the same
bodies, built only from the bundled ``data/us_cities.csv``. The bodies follow
the HTTP API contract, so a demo can send them unchanged:

* ``SampleNetwork.locations`` -> ``PUT /v1/locations/{id}`` bodies,
* ``SampleNetwork.products`` -> product batch items,
* ``SampleNetwork.stock`` -> stock adjustment items (ids stable per seed),
* ``OrderStream.next_order()`` -> ``POST /v1/orders`` bodies.

SKU popularity follows a Zipf-like law over the ranking returned by
:func:`popularity_order`; stock quantities and order lines share that ranking,
so a few SKUs are fast movers everywhere.
"""

from __future__ import annotations

import bisect
import csv
import heapq
import itertools
import math
import random
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "City",
    "OrderStream",
    "SampleNetwork",
    "build_network",
    "load_cities",
    "popularity_order",
]

_KM_PER_DEG_LAT = 111.32
_EARTH_RADIUS_KM = 6371.0
_ZIPF_EXPONENT = 1.0
_STORE_WEIGHT_EXPONENT = 0.7
_STORE_JITTER_KM = 5.0
_DESTINATION_JITTER_KM = 15.0
_METRO_RADIUS_KM = 40.0
_FALLBACK_PICKUP_STORES = 3

_STREETS = (
    "Main St",
    "Oak Ave",
    "Market St",
    "Park Blvd",
    "Elm St",
    "Washington Ave",
    "Maple Dr",
    "Lakeview Rd",
    "Broadway",
    "Center St",
)
_DC_STREETS = ("Logistics Pkwy", "Commerce Dr", "Industrial Blvd", "Distribution Way")


# --------------------------------------------------------------------------- cities


@dataclass(frozen=True)
class City:
    """A US city from the bundled data: centre point, central ZIP, 2020 population."""

    city: str
    state: str
    postal_code: str
    lat: float
    lon: float
    population: int


@lru_cache(maxsize=1)
def _read_cities() -> tuple[City, ...]:
    source = resources.files("ordergrid.demo") / "data" / "us_cities.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    return tuple(_city_from_row(row) for row in csv.DictReader(lines))


def _city_from_row(row: Mapping[str, str]) -> City:
    return City(
        city=row["city"],
        state=row["state"],
        postal_code=row["postal_code"],
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        population=int(row["population"]),
    )


def load_cities() -> list[City]:
    """Return the bundled ~250 most populous US cities, largest first.

    The file is read once per process; each call returns a fresh list.
    """
    return list(_read_cities())


# ------------------------------------------------------------------------ geometry


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _jitter(
    rng: random.Random, lat: float, lon: float, max_km: float
) -> tuple[float, float]:
    """A point uniformly spread over a disc of ``max_km`` around (lat, lon)."""
    km = max_km * math.sqrt(rng.random())
    bearing = rng.uniform(0.0, 2 * math.pi)
    dlat = km * math.cos(bearing) / _KM_PER_DEG_LAT
    dlon = km * math.sin(bearing) / (_KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    return round(lat + dlat, 4), round(lon + dlon, 4)


def _address(
    line1: str, city: str, postal_code: str, lat: float, lon: float
) -> dict[str, Any]:
    return {
        "line1": line1,
        "city": city,
        "postal_code": postal_code,
        "country": "US",
        "lat": lat,
        "lon": lon,
    }


def _street_line(rng: random.Random, streets: Sequence[str]) -> str:
    return f"{rng.randint(100, 9899)} {rng.choice(streets)}"


# ----------------------------------------------------------------------- locations


@dataclass(frozen=True)
class _Hub:
    code: str
    metro: str
    city: str
    postal_code: str
    state: str
    lat: float
    lon: float


_DC_HUBS = (
    _Hub("ATL", "Atlanta", "McDonough", "30253", "GA", 33.4473, -84.1469),
    _Hub("DFW", "Dallas", "Lancaster", "75146", "TX", 32.5921, -96.7561),
    _Hub("CHI", "Chicago", "Romeoville", "60446", "IL", 41.6475, -88.0895),
    _Hub("CMH", "Columbus", "Groveport", "43125", "OH", 39.8784, -82.8838),
    _Hub("RNO", "Reno", "Sparks", "89434", "NV", 39.5538, -119.7160),
    _Hub("ONT", "Inland Empire", "Ontario", "91761", "CA", 34.0340, -117.6050),
    _Hub("MEM", "Memphis", "Memphis", "38118", "TN", 35.0451, -89.9297),
    _Hub("ABE", "Lehigh Valley", "Breinigsville", "18031", "PA", 40.5365, -75.6310),
    _Hub("PHX", "Phoenix", "Goodyear", "85338", "AZ", 33.4353, -112.3577),
    _Hub("MCI", "Kansas City", "Edgerton", "66021", "KS", 38.7645, -95.0080),
)
_DROPSHIP_HUB = _Hub(
    "SUMMIT", "Indianapolis", "Plainfield", "46168", "IN", 39.7042, -86.3994
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
    words = [
        "".join(ch for ch in word if ch.isalpha())
        for word in name.replace("-", " ").split()
    ]
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
    }


def _dc_locations(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    locations: list[tuple[str, dict[str, Any]]] = []
    for hub in _DC_HUBS:
        body = _location_body(
            name=f"{hub.metro} DC ({hub.city}, {hub.state})",
            kind="dc",
            address=_address(
                _street_line(rng, _DC_STREETS),
                hub.city,
                hub.postal_code,
                hub.lat,
                hub.lon,
            ),
            capabilities=("ship", "returns"),
            orders_per_day=rng.randint(8, 24) * 500,
            handling_cost=round(rng.uniform(1.0, 1.5), 2),
        )
        locations.append((f"DC-{hub.code}", body))
    return locations


def _dropship_location(rng: random.Random) -> tuple[str, dict[str, Any]]:
    hub = _DROPSHIP_HUB
    body = _location_body(
        name="Summit Home Direct (dropship vendor)",
        kind="dropship",
        address=_address(
            _street_line(rng, _DC_STREETS), hub.city, hub.postal_code, hub.lat, hub.lon
        ),
        capabilities=("ship",),
        orders_per_day=2500,
        handling_cost=round(rng.uniform(5.0, 6.5), 2),
        tags=("vendor",),
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


def _store_flags(
    rng: random.Random, slots: Sequence[_StoreSlot]
) -> tuple[set[int], set[int]]:
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


def _store_capabilities(
    rng: random.Random, slot: _StoreSlot, offers_same_day: bool
) -> list[str]:
    same_day_share = 0.6 if slot.city_store_count >= 2 else 0.2
    same_day = offers_same_day and rng.random() < same_day_share
    return [cap for cap in _STORE_CAPABILITIES if cap != "same_day" or same_day]


def _store_location(
    rng: random.Random, slot: _StoreSlot, *, no_ecom: bool, paused: bool
) -> tuple[str, dict[str, Any]]:
    city = slot.city
    lat, lon = _jitter(rng, city.lat, city.lon, _STORE_JITTER_KM)
    body = _location_body(
        name=f"Store {city.city} {slot.number:02d}",
        kind="store",
        address=_address(
            _street_line(rng, _STREETS), city.city, city.postal_code, lat, lon
        ),
        capabilities=_store_capabilities(
            rng, slot, offers_same_day=not (no_ecom or paused)
        ),
        orders_per_day=rng.randint(8, 30) * 10,
        handling_cost=round(rng.uniform(2.5, 4.0), 2),
        status="paused" if paused else "active",
        tags=_store_tags(rng, slot, no_ecom),
    )
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


# ------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class _Kind:
    category: str
    noun: str
    weight_kg: tuple[float, float]
    price: tuple[int, int]
    tags: tuple[str, ...] = ()


_BRANDS: dict[str, tuple[str, ...]] = {
    "apparel": ("Harbor & Pine", "Northline", "Urban Thread", "Kestrel"),
    "footwear": ("Stridewell", "Trailhead", "Apex Run", "Cobble & Co."),
    "home": ("Hearth & Oak", "Casa Linea", "Marlow Home", "Brightnest"),
    "electronics": ("Voltra", "Lumen", "Sonique", "Pixelcraft"),
    "outdoor": ("Ridgeline", "Cascade Gear", "Summit Trail", "Bear Creek"),
    "beauty": ("Lumiere", "Pure Botanica", "Glow Theory", "Verdant"),
    "toys": ("Brickworks", "Tiny Tinker", "Playfield", "Wonderkin"),
}
_VARIANTS: dict[str, tuple[str, ...]] = {
    "apparel": ("Navy", "Black", "Heather Gray", "Olive", "White", "Burgundy"),
    "footwear": ("Black", "White", "Gray/Blue", "Tan", "Navy"),
    "home": ("Natural", "Charcoal", "Ivory", "Sage", "Walnut"),
    "electronics": ("Black", "White", "Silver", "Midnight"),
    "outdoor": ("Forest Green", "Orange", "Slate", "Sand"),
    "beauty": ("Unscented", "Lavender", "Citrus", "Rose"),
    "toys": ("Classic", "Deluxe", "Junior", "Explorer"),
}

_REGULAR_KINDS = (
    _Kind("apparel", "Crewneck Sweater", (0.35, 0.6), (29, 79)),
    _Kind("apparel", "Oxford Shirt", (0.25, 0.35), (24, 59)),
    _Kind("apparel", "Slim Chinos", (0.45, 0.6), (34, 69)),
    _Kind("apparel", "Puffer Jacket", (0.7, 1.2), (79, 199)),
    _Kind("apparel", "Graphic Tee", (0.15, 0.25), (12, 29)),
    _Kind("apparel", "Fleece Hoodie", (0.5, 0.8), (34, 79)),
    _Kind("apparel", "Rain Shell", (0.3, 0.5), (59, 149)),
    _Kind("apparel", "Merino Socks 3-Pack", (0.15, 0.25), (14, 29)),
    _Kind("apparel", "Denim Jeans", (0.6, 0.85), (39, 98)),
    _Kind("apparel", "Performance Leggings", (0.2, 0.3), (24, 64)),
    _Kind("apparel", "Knit Beanie", (0.08, 0.15), (12, 29)),
    _Kind("footwear", "Running Shoes", (0.55, 0.9), (69, 159)),
    _Kind("footwear", "Trail Runners", (0.65, 1.0), (79, 169)),
    _Kind("footwear", "Leather Chelsea Boots", (1.3, 1.9), (119, 229)),
    _Kind("footwear", "Canvas Sneakers", (0.5, 0.8), (39, 79)),
    _Kind("footwear", "Slide Sandals", (0.25, 0.45), (19, 49)),
    _Kind("footwear", "Waterproof Hiking Boots", (1.2, 1.8), (119, 219)),
    _Kind("footwear", "Kids' Light-Up Sneakers", (0.3, 0.5), (29, 59)),
    _Kind("footwear", "Shearling Slippers", (0.3, 0.6), (29, 89)),
    _Kind("home", "Bath Towel Set", (1.2, 2.2), (29, 79)),
    _Kind("home", "Throw Blanket", (0.8, 1.6), (24, 79)),
    _Kind("home", "Queen Sheet Set", (1.4, 2.2), (39, 129)),
    _Kind("home", "Ceramic Table Lamp", (1.8, 3.2), (39, 119), ("fragile",)),
    _Kind("home", "Stoneware Dinnerware Set", (5.0, 8.5), (59, 149), ("fragile",)),
    _Kind("home", "Wine Glasses Set of 4", (1.2, 1.9), (24, 59), ("fragile",)),
    _Kind("home", "Nonstick Frying Pan", (0.9, 1.6), (24, 69)),
    _Kind("home", "Cast Iron Skillet", (2.4, 3.6), (24, 59)),
    _Kind("home", "Storage Bins 3-Pack", (1.0, 2.0), (19, 44)),
    _Kind("home", "Soy Candle", (0.4, 0.9), (14, 39)),
    _Kind("home", "Glass Vase", (0.8, 1.6), (19, 59), ("fragile",)),
    _Kind("home", "Round Wall Mirror", (4.0, 7.5), (59, 179), ("fragile",)),
    _Kind("electronics", "Wireless Earbuds", (0.1, 0.2), (49, 179)),
    _Kind("electronics", "Bluetooth Speaker", (0.4, 1.2), (39, 149)),
    _Kind("electronics", "USB-C Fast Charger", (0.1, 0.2), (19, 39)),
    _Kind("electronics", "HDMI Cable 6ft", (0.08, 0.15), (9, 24)),
    _Kind("electronics", "Smart Plug 2-Pack", (0.2, 0.3), (19, 34)),
    _Kind("electronics", "Wireless Mouse", (0.08, 0.15), (19, 59)),
    _Kind("electronics", "Mechanical Keyboard", (0.8, 1.2), (69, 169)),
    _Kind("electronics", "27-inch Monitor", (5.0, 7.0), (179, 399), ("fragile",)),
    _Kind("electronics", "Streaming Stick", (0.1, 0.2), (29, 59)),
    _Kind("electronics", "Noise-Cancelling Headphones", (0.25, 0.35), (149, 349)),
    _Kind("outdoor", "2-Person Backpacking Tent", (1.8, 3.0), (129, 299)),
    _Kind("outdoor", "Down Sleeping Bag", (1.0, 2.0), (99, 249)),
    _Kind("outdoor", "Trekking Poles", (0.45, 0.7), (39, 119)),
    _Kind("outdoor", "Hydration Pack", (0.5, 0.9), (49, 119)),
    _Kind("outdoor", "Insulated Water Bottle", (0.35, 0.5), (24, 44)),
    _Kind("outdoor", "Folding Camp Chair", (2.0, 3.2), (29, 79)),
    _Kind("outdoor", "LED Headlamp", (0.08, 0.15), (19, 49)),
    _Kind("outdoor", "20-Quart Cooler", (3.5, 5.0), (79, 229)),
    _Kind("outdoor", "28L Daypack", (0.6, 1.0), (49, 129)),
    _Kind("beauty", "Gentle Facial Cleanser", (0.2, 0.3), (12, 29)),
    _Kind("beauty", "Daily Moisturizer", (0.1, 0.25), (16, 48)),
    _Kind("beauty", "Repair Shampoo", (0.4, 0.6), (9, 28)),
    _Kind("beauty", "Hydrating Conditioner", (0.4, 0.6), (9, 28)),
    _Kind("beauty", "Lip Balm 3-Pack", (0.03, 0.06), (6, 14)),
    _Kind("beauty", "Body Lotion", (0.4, 0.6), (9, 26)),
    _Kind("beauty", "Mineral Sunscreen SPF 50", (0.15, 0.25), (12, 34)),
    _Kind("beauty", "Makeup Brush Set", (0.2, 0.4), (19, 59)),
    _Kind("toys", "Building Blocks Set", (0.5, 1.6), (19, 99)),
    _Kind("toys", "Plush Bear", (0.2, 0.5), (14, 39)),
    _Kind("toys", "1000-Piece Puzzle", (0.6, 0.9), (14, 29)),
    _Kind("toys", "Family Board Game", (0.8, 1.5), (19, 49)),
    _Kind("toys", "Art & Craft Kit", (0.5, 1.0), (19, 44)),
    _Kind("toys", "Die-Cast Car Set", (0.3, 0.6), (12, 34)),
    _Kind("toys", "STEM Science Kit", (0.7, 1.2), (24, 59)),
    _Kind("toys", "Wooden Train Set", (1.5, 3.0), (39, 119)),
)
_HAZMAT_KINDS = (
    _Kind("beauty", "Dry Shampoo Aerosol", (0.15, 0.25), (8, 24), ("hazmat",)),
    _Kind("beauty", "Extra-Hold Hairspray Aerosol", (0.25, 0.4), (8, 22), ("hazmat",)),
    _Kind(
        "beauty", "Eau de Parfum 50ml", (0.2, 0.35), (49, 129), ("hazmat", "fragile")
    ),
    _Kind("electronics", "20000mAh Power Bank", (0.35, 0.5), (29, 69), ("hazmat",)),
    _Kind(
        "electronics",
        "Lithium AA Batteries 8-Pack",
        (0.12, 0.18),
        (14, 24),
        ("hazmat",),
    ),
    _Kind("outdoor", "Isobutane Fuel Canister", (0.35, 0.45), (6, 12), ("hazmat",)),
    _Kind("outdoor", "Bear Deterrent Spray", (0.3, 0.45), (39, 54), ("hazmat",)),
    _Kind(
        "toys", "RC Stunt Car with Li-ion Battery", (0.8, 1.4), (39, 89), ("hazmat",)
    ),
)
_OVERSIZE_KINDS = (
    _Kind("home", "3-Seat Sofa", (40.0, 70.0), (599, 1499), ("oversize",)),
    _Kind("home", "Queen Platform Bed Frame", (30.0, 50.0), (299, 899), ("oversize",)),
    _Kind("home", "5-Shelf Bookcase", (20.0, 35.0), (129, 349), ("oversize",)),
    _Kind("outdoor", "Mountain Bike", (13.0, 16.0), (499, 1299), ("oversize",)),
    _Kind("outdoor", "Sit-on-Top Kayak", (20.0, 28.0), (399, 899), ("oversize",)),
    _Kind("outdoor", "Patio Dining Set", (35.0, 60.0), (499, 1299), ("oversize",)),
    _Kind("outdoor", "Propane Gas Grill", (40.0, 60.0), (299, 799), ("oversize",)),
    _Kind("toys", "12ft Trampoline", (45.0, 60.0), (249, 499), ("oversize",)),
    _Kind(
        "electronics",
        "75-inch 4K TV",
        (28.0, 38.0),
        (799, 1799),
        ("oversize", "fragile"),
    ),
)
_SHIP_ALONE_KINDS = (
    _Kind("electronics", "Gaming Console", (3.5, 4.6), (399, 549), ("ship-alone",)),
    _Kind("electronics", "14-inch Laptop", (1.3, 1.8), (699, 1499), ("ship-alone",)),
    _Kind(
        "home", "Espresso Machine", (6.0, 9.5), (299, 799), ("ship-alone", "fragile")
    ),
    _Kind("home", "Robot Vacuum", (3.0, 4.2), (199, 599), ("ship-alone",)),
)
_DROPSHIP_KINDS = (
    _Kind("home", "8x10 Area Rug", (12.0, 18.0), (199, 599), ("dropship-only",)),
    _Kind(
        "home", "Ergonomic Office Chair", (15.0, 21.0), (199, 499), ("dropship-only",)
    ),
    _Kind(
        "home", "Memory Foam Mattress Topper", (4.0, 7.0), (79, 199), ("dropship-only",)
    ),
    _Kind("outdoor", "9ft Patio Umbrella", (8.0, 12.0), (99, 249), ("dropship-only",)),
    _Kind("toys", "Kids' Art Easel", (5.0, 8.0), (59, 129), ("dropship-only",)),
)
# (share of the catalog, kinds); the regular kinds fill the remainder.
_SPECIAL_POOLS = (
    (0.03, _HAZMAT_KINDS),
    (0.04, _OVERSIZE_KINDS),
    (0.02, _SHIP_ALONE_KINDS),
    (0.02, _DROPSHIP_KINDS),
)


@dataclass(frozen=True)
class _Draft:
    kind: _Kind
    brand: str
    variant: str
    generation: int


def _draw_drafts(
    rng: random.Random, kinds: Sequence[_Kind], count: int
) -> list[_Draft]:
    """``count`` distinct (kind, brand, variant) combos; repeats become new generations."""
    combos = [
        (kind, brand, variant)
        for kind in kinds
        for brand in _BRANDS[kind.category]
        for variant in _VARIANTS[kind.category]
    ]
    drafts: list[_Draft] = []
    for generation in itertools.count(1):
        if len(drafts) >= count:
            break
        picked = rng.sample(combos, min(len(combos), count - len(drafts)))
        drafts.extend(
            _Draft(kind, brand, variant, generation) for kind, brand, variant in picked
        )
    return drafts


def _product_body(rng: random.Random, sku: str, draft: _Draft) -> dict[str, Any]:
    kind = draft.kind
    suffix = f" Gen {draft.generation}" if draft.generation > 1 else ""
    weight = max(0.01, round(rng.uniform(*kind.weight_kg), 2))
    price = round(rng.randint(*kind.price) - 0.01, 2)
    return {
        "sku": sku,
        "name": f"{draft.brand} {kind.noun}{suffix}, {draft.variant}",
        "weight_kg": weight,
        "tags": list(kind.tags),
        "attributes": {"category": kind.category, "brand": draft.brand, "price": price},
    }


def _build_products(rng: random.Random, count: int) -> list[dict[str, Any]]:
    drafts: list[_Draft] = []
    for share, kinds in _SPECIAL_POOLS:
        drafts.extend(_draw_drafts(rng, kinds, round(share * count)))
    drafts.extend(_draw_drafts(rng, _REGULAR_KINDS, count - len(drafts)))
    rng.shuffle(drafts)
    return [
        _product_body(rng, f"SKU-{n:05d}", draft)
        for n, draft in enumerate(drafts, start=1)
    ]


def popularity_order(products: Iterable[Mapping[str, Any]]) -> list[str]:
    """SKUs from most to least popular (rank 0 is the fastest mover).

    The ranking is a pure function of each product's ``sku`` and ``name``, so
    stock skew (in :func:`build_network`) and order lines (in
    :class:`OrderStream`) agree on it; names differ per seed, so the ranking
    does too.
    """
    keyed = [
        (zlib.crc32(f"{p['sku']}|{p['name']}".encode()), str(p["sku"]))
        for p in products
    ]
    return [sku for _, sku in sorted(keyed)]


def _zipf_weight(rank: int) -> float:
    return float((rank + 1) ** -_ZIPF_EXPONENT)


# --------------------------------------------------------------------------- stock


def _dc_quantity(rng: random.Random, tags: Sequence[str], score: float) -> int:
    if "dropship-only" in tags or rng.random() >= 0.85:
        return 0
    return min(400, max(20, round(20 + 380 * math.sqrt(score) * rng.uniform(0.7, 1.0))))


def _store_quantity(rng: random.Random, tags: Sequence[str], score: float) -> int:
    if "oversize" in tags or "dropship-only" in tags or rng.random() >= 0.35:
        return 0
    return rng.randint(1, 3 + round(9 * score))


def _dropship_quantity(rng: random.Random, tags: Sequence[str], score: float) -> int:
    if "dropship-only" in tags:
        return round(1000 + 4000 * math.sqrt(score) * rng.uniform(0.7, 1.0))
    if rng.random() >= 0.10:
        return 0
    return round(500 + 2500 * math.sqrt(score) * rng.uniform(0.7, 1.0))


_QUANTITY_BY_TYPE = {
    "dc": _dc_quantity,
    "store": _store_quantity,
    "dropship": _dropship_quantity,
}


def _adjustment(location_id: str, sku: str, quantity: int) -> dict[str, Any]:
    return {
        "id": f"seed-{location_id}-{sku}",
        "location_id": location_id,
        "sku": sku,
        "delta": quantity,
        "reason": "receipt",
    }


def _build_stock(
    rng: random.Random,
    locations: Sequence[tuple[str, dict[str, Any]]],
    products: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Opening stock; popularity score 1/(rank+1) scales each quantity."""
    scores = {
        sku: _zipf_weight(rank) for rank, sku in enumerate(popularity_order(products))
    }
    items: list[dict[str, Any]] = []
    for location_id, body in locations:
        quantity_for = _QUANTITY_BY_TYPE[body["type"]]
        for product in products:
            quantity = quantity_for(rng, product["tags"], scores[product["sku"]])
            if quantity > 0:
                items.append(_adjustment(location_id, product["sku"], quantity))
    return items


# ------------------------------------------------------------------------- network


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


def build_network(
    seed: int = 7, stores: int = 160, products: int = 300
) -> SampleNetwork:
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
    catalog = _build_products(random.Random(f"{seed}:products"), products)
    stock = _build_stock(random.Random(f"{seed}:stock"), locations, catalog)
    return SampleNetwork(
        locations=locations, products=catalog, stock=stock, cities=cities
    )


# -------------------------------------------------------------------------- orders

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
        weights = itertools.accumulate(_zipf_weight(rank[sku]) for sku in ordered)
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
        raise ValueError(
            f"unknown channels {unknown}; known: {sorted(_CHANNEL_PREFIXES)}"
        )
    if (
        any(weight < 0 for weight in channel_mix.values())
        or sum(channel_mix.values()) <= 0
    ):
        raise ValueError("channel_mix weights must be >= 0 with a positive total")
    return [(channel, weight) for channel, weight in channel_mix.items() if weight > 0]


def _order_ready_stores(network: SampleNetwork) -> list[_Store]:
    """Active, e-commerce-enabled stores (no ``no-ecom`` tag)."""
    stores: list[_Store] = []
    for location_id, body in network.locations:
        if (
            body["type"] != "store"
            or body["status"] != "active"
            or "no-ecom" in body["tags"]
        ):
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
        self._prices = {
            str(p["sku"]): p["attributes"]["price"] for p in network.products
        }
        self._rank = {
            sku: rank for rank, sku in enumerate(popularity_order(network.products))
        }
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
        lat, lon = _jitter(self._rng, city.lat, city.lon, _DESTINATION_JITTER_KM)
        line1 = f"{self._rng.randint(1, 9999)} {self._rng.choice(_STREETS)}"
        return _address(line1, city.city, city.postal_code, lat, lon)

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

    def _pickup(
        self, city: City
    ) -> tuple[dict[str, Any], _Pool, Mapping[str, int]] | None:
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
            (_distance_km(city.lat, city.lon, s.lat, s.lon), s.id, s)
            for s in self._stores
            if method in s.capabilities
        )
        nearby = [store for km, _, store in ranked if km <= _METRO_RADIUS_KM]
        return nearby or [store for _, _, store in ranked[:_FALLBACK_PICKUP_STORES]]

    def _store_pool(self, store_id: str) -> _Pool | None:
        if store_id not in self._store_pools:
            stocked = [
                sku for sku, qty in self._on_hand.get(store_id, {}).items() if qty > 0
            ]
            self._store_pools[store_id] = (
                _Pool.of(stocked, self._rank) if stocked else None
            )
        return self._store_pools[store_id]

    def _same_day_cities(self) -> list[tuple[City, _Pool]]:
        """Cities with an active same-day store, with the SKUs those stores hold."""
        cities: list[tuple[City, _Pool]] = []
        for city in self._cities:
            stocked = {
                sku
                for store in self._stores
                if store.postal_code == city.postal_code
                and "same_day" in store.capabilities
                for sku, qty in self._on_hand.get(store.id, {}).items()
                if qty > 0
            }
            if stocked:
                cities.append((city, _Pool.of(stocked, self._rank)))
        return cities

    def _lines(
        self, pool: _Pool, caps: Mapping[str, int] | None
    ) -> list[dict[str, Any]]:
        wanted = min(int(_pick(self._rng, _LINE_COUNTS)), len(pool.skus))
        skus: list[str] = []
        for _ in range(wanted * 20):
            if len(skus) == wanted:
                break
            sku = pool.draw(self._rng)
            if sku not in skus:
                skus.append(sku)
        return [self._line(n, sku, caps) for n, sku in enumerate(skus, start=1)]

    def _line(
        self, number: int, sku: str, caps: Mapping[str, int] | None
    ) -> dict[str, Any]:
        quantity = int(_pick(self._rng, _QUANTITIES))
        if caps is not None:
            quantity = max(1, min(quantity, caps[sku]))
        return {
            "line_id": str(number),
            "sku": sku,
            "quantity": quantity,
            "unit_price": self._prices[sku],
        }
