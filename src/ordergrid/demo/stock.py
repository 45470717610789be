"""Opening stock adjustments: per-location quantities skewed by SKU popularity."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from ordergrid.demo.catalogue import popularity_order, zipf_weight

__all__ = ["build_stock"]


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


def build_stock(
    rng: random.Random,
    locations: Sequence[tuple[str, dict[str, Any]]],
    products: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Opening stock; popularity score 1/(rank+1) scales each quantity."""
    scores = {sku: zipf_weight(rank) for rank, sku in enumerate(popularity_order(products))}
    items: list[dict[str, Any]] = []
    for location_id, body in locations:
        quantity_for = _QUANTITY_BY_TYPE[body["type"]]
        for product in products:
            quantity = quantity_for(rng, product["tags"], scores[product["sku"]])
            if quantity > 0:
                items.append(_adjustment(location_id, product["sku"], quantity))
    return items
