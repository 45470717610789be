"""The sample product catalogue and its Zipf-like SKU popularity ranking."""

from __future__ import annotations

import itertools
import random
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["build_products", "popularity_order", "zipf_weight"]

_ZIPF_EXPONENT = 1.0


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
    _Kind("beauty", "Eau de Parfum 50ml", (0.2, 0.35), (49, 129), ("hazmat", "fragile")),
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
    _Kind("toys", "RC Stunt Car with Li-ion Battery", (0.8, 1.4), (39, 89), ("hazmat",)),
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
    _Kind("home", "Espresso Machine", (6.0, 9.5), (299, 799), ("ship-alone", "fragile")),
    _Kind("home", "Robot Vacuum", (3.0, 4.2), (199, 599), ("ship-alone",)),
)
_DROPSHIP_KINDS = (
    _Kind("home", "8x10 Area Rug", (12.0, 18.0), (199, 599), ("dropship-only",)),
    _Kind("home", "Ergonomic Office Chair", (15.0, 21.0), (199, 499), ("dropship-only",)),
    _Kind("home", "Memory Foam Mattress Topper", (4.0, 7.0), (79, 199), ("dropship-only",)),
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


def _draw_drafts(rng: random.Random, kinds: Sequence[_Kind], count: int) -> list[_Draft]:
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
        drafts.extend(_Draft(kind, brand, variant, generation) for kind, brand, variant in picked)
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


def build_products(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """``count`` product batch items: special-tag shares first, then regular kinds."""
    drafts: list[_Draft] = []
    for share, kinds in _SPECIAL_POOLS:
        drafts.extend(_draw_drafts(rng, kinds, round(share * count)))
    drafts.extend(_draw_drafts(rng, _REGULAR_KINDS, count - len(drafts)))
    rng.shuffle(drafts)
    return [_product_body(rng, f"SKU-{n:05d}", draft) for n, draft in enumerate(drafts, start=1)]


def popularity_order(products: Iterable[Mapping[str, Any]]) -> list[str]:
    """SKUs from most to least popular (rank 0 is the fastest mover).

    The ranking is a pure function of each product's ``sku`` and ``name``, so
    stock skew (in :func:`build_network`) and order lines (in
    :class:`OrderStream`) agree on it; names differ per seed, so the ranking
    does too.
    """
    keyed = [(zlib.crc32(f"{p['sku']}|{p['name']}".encode()), str(p["sku"])) for p in products]
    return [sku for _, sku in sorted(keyed)]


def zipf_weight(rank: int) -> float:
    """Relative popularity of the SKU at ``rank`` (0 is the fastest mover)."""
    return float((rank + 1) ** -_ZIPF_EXPONENT)
