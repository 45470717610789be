"""Network M in a database: migrated by the product, then its locations, products and
positions written by bulk inserts (as the promise benchmark loads it), then analysed."""

from __future__ import annotations

import time

from sqlalchemy import text

from api_server import TOKEN
from networks import NETWORKS, Network, build_network
from order_bodies import network_bodies, used_skus
from ordergrid.bootstrap import bootstrap
from ordergrid.settings import Settings
from promise import load

NETWORK = "M"


def network(seed: int) -> Network:
    return build_network(NETWORKS[NETWORK], seed)


def seed_network(url: str, seed: int, orders: int, only_used: bool) -> tuple[float, int, int]:
    """Load network M into the (empty) database at `url`: every SKU, or with `only_used`
    only those the first `orders` orders of the stream use (every location holding them,
    so each placement sees what it would on the full network). (seconds, SKUs, rows)."""
    started = time.perf_counter()
    net = network(seed)
    names = used_skus(network_bodies(net, orders, seed)) if only_used else set(net.skus)
    skus = [i for i, name in enumerate(net.skus) if name in names]
    app = bootstrap(Settings(database_url=url, admin_token=TOKEN, auto_migrate=True))
    try:
        rows = load(app.engine, net, skus)
        with app.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        app.close()
    return time.perf_counter() - started, len(skus), rows
