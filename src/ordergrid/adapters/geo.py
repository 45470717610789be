"""Offline geocoding of US postal codes from the data bundled with `zipcodes`."""

from __future__ import annotations

import threading

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
