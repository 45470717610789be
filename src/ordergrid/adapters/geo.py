"""Offline geocoding: US postal codes from the data bundled with `zipcodes`, other
countries from a postal-centroid CSV when one is configured."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import zipcodes


class UsZipGeocoder:
    """Looks up ZIP centroids; other countries need lat/lon in the request."""

    def __init__(self) -> None:
        self._index: dict[str, tuple[float, float]] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, tuple[float, float]]:
        with self._lock:
            if self._index is None:
                self._index = {
                    z["zip_code"]: (float(z["lat"]), float(z["long"]))
                    for z in zipcodes.list_all()  # type: ignore[no-untyped-call]
                    if z.get("lat") and z.get("long")
                }
            return self._index

    def locate(self, country: str | None, postal_code: str | None) -> tuple[float, float] | None:
        if not postal_code or (country or "US").upper() != "US":
            return None
        return self._load().get(postal_code.strip()[:5])


class PostalCentroids:
    """Postal-code centroids of any country from a CSV file with the header
    `country,postal_code,lat,lon`, read once on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._index: dict[tuple[str, str], tuple[float, float]] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[tuple[str, str], tuple[float, float]]:
        with self._lock:
            if self._index is None:
                with self.path.open(newline="", encoding="utf-8") as f:
                    self._index = {
                        (row["country"].strip().upper(), row["postal_code"].strip()): (
                            float(row["lat"]),
                            float(row["lon"]),
                        )
                        for row in csv.DictReader(f)
                    }
            return self._index

    def locate(self, country: str | None, postal_code: str | None) -> tuple[float, float] | None:
        if not postal_code or not country:
            return None
        return self._load().get((country.strip().upper(), postal_code.strip()))


class FirstFound:
    """Asks each geocoder in turn; the first that knows the postal code answers."""

    def __init__(self, *geocoders: UsZipGeocoder | PostalCentroids) -> None:
        self.geocoders = geocoders

    def locate(self, country: str | None, postal_code: str | None) -> tuple[float, float] | None:
        for geocoder in self.geocoders:
            point = geocoder.locate(country, postal_code)
            if point is not None:
                return point
        return None
