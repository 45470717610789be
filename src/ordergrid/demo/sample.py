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

This module is the public entry point; the work is done in:

* :mod:`ordergrid.demo.cities` - the bundled city list,
* :mod:`ordergrid.demo.geography` - distances, jittered points, street addresses,
* :mod:`ordergrid.demo.network` - DCs, stores, the dropship vendor, ``build_network``,
* :mod:`ordergrid.demo.catalogue` - products and their popularity ranking,
* :mod:`ordergrid.demo.stock` - opening stock adjustments,
* :mod:`ordergrid.demo.orders` - the order stream.
"""

from __future__ import annotations

from ordergrid.demo.catalogue import popularity_order
from ordergrid.demo.cities import City, load_cities
from ordergrid.demo.network import SampleNetwork, build_network
from ordergrid.demo.orders import OrderStream

__all__ = [
    "City",
    "OrderStream",
    "SampleNetwork",
    "build_network",
    "load_cities",
    "popularity_order",
]
