"""The engine's input for a generated order, built the ways the engine accepts it.

`request_for` makes the `SourcingRequest` the product makes for a new ship-to-home order;
the view builders make its `SourcingView` from the network's arrays: `Position` objects as
the product's `build_view` does (the reference), and, in versions of the engine that take
them, the engine's stock columns.

Not a benchmark itself (`run_all.py` skips it); `sourcing.py` and the tests import it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from ordergrid.domain.inventory import Position
from ordergrid.domain.orders import DeliveryMethod
from ordergrid.domain.sourcing import OrderFacts, SourcingRequest, SourcingView
from ordergrid.domain.sourcing import view as view_module
from ordergrid.domain.sourcing.view import UnitsToPlace

if TYPE_CHECKING:  # only annotations: the tests import this module as benchmarks.*
    from networks import Network, Order

CHANNEL = "web"


def request_for(net: Network, order: Order) -> SourcingRequest:
    """The request the product builds for a new ship-to-home order on channel `web`."""
    facts = OrderFacts(
        channel=CHANNEL,
        method=DeliveryMethod.SHIP.value,
        service_level="standard",
        country="US",
        postal_code=order.postal_code,
        value=Decimal(0),
        destination=(order.lat, order.lon),
    )
    return SourcingRequest(
        order_id=order.id,
        channel=CHANNEL,
        method=DeliveryMethod.SHIP,
        lines=tuple(
            UnitsToPlace(f"{order.id}-{i + 1}", net.skus[s], q)
            for i, (s, q) in enumerate(zip(order.skus, order.quantities, strict=True))
        ),
        destination=(order.lat, order.lon),
        facts=facts,
    )


def view_of_positions(net: Network, order: Order) -> SourcingView:
    """The view as the product's `build_view` makes it: every location, a `Position` per
    (location, SKU) held for the order's SKUs, the SKUs' tags, no load today."""
    ids = net.ids
    positions: dict[tuple[str, str], Position] = {}
    tags: dict[str, frozenset[str]] = {}
    for s in order.skus:
        sku = net.skus[s]
        holder, on_hand = net.stock(s)
        where = [ids[j] for j in holder.tolist()]
        keys = zip(where, repeat(sku))
        positions.update(
            zip(keys, map(Position, where, repeat(sku), on_hand.tolist()), strict=True)
        )
        tags[sku] = net.tags[s]
    return SourcingView(net.by_id, positions, tags, {})


ViewBuilder: TypeAlias = "Callable[[Network, Order], SourcingView]"


def _columns_of(net: Network, order: Order) -> tuple[tuple[str, ...], Any, Any]:
    """The order's stock as the engine's columns: SKUs in name order, the locations
    holding any (on-hand > 0) as positions in the engine's network index (locations in
    id order), and the units each may give per SKU. Scattered into one dense column per
    SKU over the whole network, then the holders' rows taken: a few array operations
    whatever the number of positions."""
    rank = _index_rank(net)
    skus = sorted(order.skus, key=net.skus.__getitem__)
    dense = np.zeros((len(rank), len(skus)), dtype=np.int64, order="F")
    for col, s in enumerate(skus):
        holder, on_hand = net.stock(s)
        dense[rank.take(holder), col] = on_hand
    np.maximum(dense, 0, out=dense)
    holders = np.flatnonzero(dense.any(axis=1))
    return tuple(net.skus[s] for s in skus), holders, dense.take(holders, axis=0)


@lru_cache(maxsize=4)
def _index_rank(net: Network) -> NDArray[np.int64]:
    """Per location index, its position in the engine's network index (id order)."""
    order = sorted(range(len(net.ids)), key=net.ids.__getitem__)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


# The engine's columnar stock type, in versions of the engine that take one.
_STOCK_COLUMNS: Any = (
    getattr(view_module, "StockColumns", None)
    if "columns" in getattr(SourcingView, "__dataclass_fields__", {})
    else None
)


def view_of_columns(net: Network, order: Order) -> SourcingView:
    """The view with the stock as the engine's columns only (no `Position` objects)."""
    skus, holders, available = _columns_of(net, order)
    columns = _STOCK_COLUMNS(skus, holders, available)
    tags = {net.skus[s]: net.tags[s] for s in order.skus}
    return SourcingView(net.by_id, {}, tags, {}, columns=columns)


def view_of_both(net: Network, order: Order) -> SourcingView:
    """The view with the stock both as `Position` objects and as the engine's columns."""
    skus, holders, available = _columns_of(net, order)
    columns = _STOCK_COLUMNS(skus, holders, available)
    by_positions = view_of_positions(net, order)
    return SourcingView(
        net.by_id, by_positions.positions, by_positions.product_tags, {}, columns=columns
    )


REFERENCE_VIEW = "Position objects"


def view_builders() -> dict[str, ViewBuilder]:
    """The public ways this version of the engine offers to build its view; the first,
    `Position` objects as the product's `build_view` makes them, is the reference."""
    builders: dict[str, ViewBuilder] = {REFERENCE_VIEW: view_of_positions}
    if _STOCK_COLUMNS is not None:
        builders["StockColumns"] = view_of_columns
        builders["StockColumns + Position objects"] = view_of_both
    return builders
