"""The latest shadow prices of stock, shared by a process's decisions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

Prices = Mapping[tuple[str, str], float]


class ScarcityBook:
    """Replaced whole by each refresh (`scarcity.refresh_scarcity`); read by every
    decision of the process. Empty until the first refresh, or when it is off."""

    def __init__(self) -> None:
        self._prices: Prices = {}
        self.computed_at: datetime | None = None

    def current(self) -> Prices:
        return self._prices

    def publish(self, prices: Prices, at: datetime) -> None:
        self._prices, self.computed_at = dict(prices), at
