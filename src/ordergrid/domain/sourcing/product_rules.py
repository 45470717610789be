"""Product rules: which locations may ship which products (hazmat not from stores,
dropship-only items only from their vendor, …)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ordergrid.domain.network import Location


@dataclass(frozen=True, slots=True)
class ProductRule:
    """Applies to products carrying any of `product_tags`; blocks the locations it names."""

    name: str
    product_tags: frozenset[str]
    exclude_location_types: frozenset[str] = frozenset()
    only_location_types: frozenset[str] | None = None
    exclude_location_tags: frozenset[str] = frozenset()

    def blocks(self, product_tags: frozenset[str], location: Location) -> bool:
        if not self.product_tags & product_tags:
            return False
        kind = location.type.value
        return (
            kind in self.exclude_location_types
            or (self.only_location_types is not None and kind not in self.only_location_types)
            or bool(self.exclude_location_tags & location.tags)
        )


#: What these product tags mean in every policy.
BUILT_IN_RULES = (
    ProductRule(
        "dropship-only", frozenset({"dropship-only"}), only_location_types=frozenset({"dropship"})
    ),
    ProductRule(
        "not-from-store",
        frozenset({"not-from-store"}),
        exclude_location_types=frozenset({"store", "dark_store"}),
    ),
)


def blocking_rule(
    product_tags: frozenset[str], location: Location, rules: Iterable[ProductRule]
) -> str | None:
    """The name of the first rule that keeps this product away from this location."""
    if not product_tags:
        return None
    return next((r.name for r in rules if r.blocks(product_tags, location)), None)
