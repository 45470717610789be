"""Points, distances and street addresses for the sample network and its orders."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

__all__ = [
    "DC_STREETS",
    "STREETS",
    "address_body",
    "distance_km",
    "jitter",
    "street_line",
]

_KM_PER_DEG_LAT = 111.32
_EARTH_RADIUS_KM = 6371.0

STREETS = (
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
DC_STREETS = ("Logistics Pkwy", "Commerce Dr", "Industrial Blvd", "Distribution Way")


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two points, in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def jitter(rng: random.Random, lat: float, lon: float, max_km: float) -> tuple[float, float]:
    """A point uniformly spread over a disc of ``max_km`` around (lat, lon)."""
    km = max_km * math.sqrt(rng.random())
    bearing = rng.uniform(0.0, 2 * math.pi)
    dlat = km * math.cos(bearing) / _KM_PER_DEG_LAT
    dlon = km * math.sin(bearing) / (_KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    return round(lat + dlat, 4), round(lon + dlon, 4)


def address_body(line1: str, city: str, postal_code: str, lat: float, lon: float) -> dict[str, Any]:
    """A US address block as the HTTP API expects it."""
    return {
        "line1": line1,
        "city": city,
        "postal_code": postal_code,
        "country": "US",
        "lat": lat,
        "lon": lon,
    }


def street_line(rng: random.Random, streets: Sequence[str]) -> str:
    """A random house number on one of ``streets``."""
    return f"{rng.randint(100, 9899)} {rng.choice(streets)}"
