"""In-memory locations and products."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import replace

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.catalogue import Product
from ordergrid.domain.network import Location
from ordergrid.service.ports import Page


def _product_copy(p: Product) -> Product:
    return replace(p, attributes=copy.deepcopy(p.attributes))


class InMemoryLocations(_Repo):
    def get(self, location_id: str) -> Location | None:
        return self._t.locations.get(location_id)

    def put(self, location: Location) -> bool:
        created = location.id not in self._t.locations
        self._t.locations[location.id] = location
        return created

    def all(self) -> list[Location]:
        return [self._t.locations[k] for k in sorted(self._t.locations)]

    def by_id(self) -> Mapping[str, Location]:
        # A copy: the table changes in place when a location is put.
        return {k: self._t.locations[k] for k in sorted(self._t.locations)}


class InMemoryProducts(_Repo):
    def get(self, sku: str) -> Product | None:
        p = self._t.products.get(sku)
        return None if p is None else _product_copy(p)

    def put(self, product: Product) -> bool:
        created = product.sku not in self._t.products
        self._t.products[product.sku] = _product_copy(product)
        return created

    def known(self, skus: Iterable[str]) -> set[str]:
        return {sku for sku in skus if sku in self._t.products}

    def tags(self, skus: Iterable[str]) -> dict[str, frozenset[str]]:
        return {sku: self._t.products[sku].tags for sku in set(skus) if sku in self._t.products}

    def page(self, limit: int, cursor: str | None) -> Page[Product]:
        keys = sorted(k for k in self._t.products if cursor is None or k > cursor)
        items = [_product_copy(self._t.products[k]) for k in keys[:limit]]
        return Page(items, items[-1].sku if len(keys) > limit and items else None)
