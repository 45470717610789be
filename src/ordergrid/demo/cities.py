"""The bundled US city list: centre points, central ZIPs, populations and time zones."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["City", "load_cities"]


@dataclass(frozen=True)
class City:
    """A US city from the bundled data: centre point, central ZIP, 2020 population and
    the IANA time zone of that ZIP."""

    city: str
    state: str
    postal_code: str
    lat: float
    lon: float
    population: int
    timezone: str


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
        timezone=row["timezone"],
    )


def load_cities() -> list[City]:
    """Return the bundled ~250 most populous US cities, largest first.

    The file is read once per process; each call returns a fresh list.
    """
    return list(_read_cities())
