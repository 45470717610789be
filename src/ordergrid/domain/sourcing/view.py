"""What the engine sees: the order's units to place and the network's stock for its SKUs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

import numpy as np

from ordergrid.domain.fulfilments import HANDED_OVER
from ordergrid.domain.inventory import Position
from ordergrid.domain.network import Location
from ordergrid.domain.orders import DeliveryMethod, Order
from ordergrid.domain.sourcing.network_index import BoolArray, IntArray, NetworkIndex, where
from ordergrid.domain.sourcing.selection import OrderFacts
from ordergrid.domain.sourcing.sku_stock import PositionsBySku, SkuStock


@dataclass(frozen=True, slots=True)
class UnitsToPlace:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class SourcingRequest:
    order_id: str
    channel: str
    method: DeliveryMethod
    lines: tuple[UnitsToPlace, ...]
    destination: tuple[float, float] | None  # lat, lon; None for store pick-up
    pickup_location_id: str | None = None
    excluded_locations: frozenset[str] = frozenset()
    #: Locations already shipping part of the order: they count against `max_shipments`.
    used_locations: frozenset[str] = frozenset()
    #: What strategy conditions look at; None: every strategy's conditions hold.
    facts: OrderFacts | None = None
    #: The day the customer was promised delivery by, if the shop showed a promise.
    promised_by: datetime | None = None
    #: `skus`, once asked for: a quote reads it for every store, transfer and screen.
    _skus: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def for_order(cls, order: Order) -> SourcingRequest:
        """The order's units that still need a location (undecided or back-ordered)."""
        wanted = order.to_source()
        address = order.delivery.address
        destination = None
        if address is not None and address.lat is not None and address.lon is not None:
            destination = (address.lat, address.lon)
        return cls(
            order_id=order.id,
            channel=order.channel,
            method=order.delivery.method,
            lines=tuple(
                UnitsToPlace(line.line_id, line.sku, wanted[line.line_id])
                for line in order.lines
                if line.line_id in wanted
            ),
            destination=destination,
            pickup_location_id=order.delivery.pickup_location_id,
            excluded_locations=frozenset(order.excluded_locations),
            facts=OrderFacts.of(order),
            used_locations=frozenset(
                f.location_id for f in order.fulfilments if f.is_open or f.status in HANDED_OVER
            ),
            promised_by=None if order.promise is None else order.promise.latest,
        )

    @property
    def skus(self) -> frozenset[str]:
        found = self._skus
        if found is None:
            found = frozenset(u.sku for u in self.lines)
            object.__setattr__(self, "_skus", found)  # the lines never change
        return found


@dataclass(frozen=True, slots=True, eq=False)
class StockColumns:
    """Stock of some SKUs as columns: the locations holding any (on-hand > 0), in id
    order, and what each may give (available, never below 0) per SKU."""

    skus: tuple[str, ...]
    holders: IntArray  # positions in the network index, ascending
    available: IntArray  # (holders, skus)

    @classmethod
    def of_positions(
        cls, positions: Mapping[tuple[str, str], Position], index: NetworkIndex, skus: Iterable[str]
    ) -> StockColumns:
        return cls.laid_out(positions, index, skus)[0]

    @classmethod
    def laid_out(
        cls, positions: Mapping[tuple[str, str], Position], index: NetworkIndex, skus: Iterable[str]
    ) -> tuple[StockColumns, BoolArray]:
        """The columns, and where each holder has the SKU on hand (holders, skus)."""
        order = tuple(sorted(skus))
        if isinstance(positions, PositionsBySku):
            return cls._of_sku_stock(positions.by_sku, index, order)
        column, row_of = {sku: i for i, sku in enumerate(order)}, index.position
        # Plain fields, the arithmetic in numpy: a large network's SKU has a thousand
        # positions, and a property call per position costs more than the rest.
        cells = chain.from_iterable(
            (row_of.get(loc, -1), column.get(sku, -1), p.on_hand, p.reserved, p.safety_stock)
            for (loc, sku), p in positions.items()
        )
        found = np.fromiter(cells, np.int64, 5 * len(positions)).reshape(len(positions), 5)
        found = found[(found[:, 0] >= 0) & (found[:, 1] >= 0) & (found[:, 2] > 0)]
        # Laid out over the whole network first (a few columns of a few thousand rows at
        # most), then cut to the holders: cheaper than sorting the holders out.
        shape = (len(index), len(order))
        every = np.zeros(shape, dtype=np.int64)
        on_hand: BoolArray = np.zeros(shape, dtype=bool)
        every[found[:, 0], found[:, 1]] = np.maximum(found[:, 2] - found[:, 3] - found[:, 4], 0)
        on_hand[found[:, 0], found[:, 1]] = True
        holders = where(on_hand.sum(axis=1) > 0)
        return cls(order, holders, every[holders]), on_hand[holders]

    @classmethod
    def _of_sku_stock(
        cls, by_sku: Mapping[str, SkuStock], index: NetworkIndex, order: tuple[str, ...]
    ) -> tuple[StockColumns, BoolArray]:
        """`laid_out` from each SKU's arrays (each SKU's column is kept with it): the
        holders marked over the network, then each column placed at its holders' rows."""
        found = [
            (j, stock.columns(index))
            for j, sku in enumerate(order)
            if (stock := by_sku.get(sku)) is not None
        ]
        held_somewhere = np.zeros(len(index), dtype=bool)
        for _, (rows, _available) in found:
            held_somewhere[rows] = True
        holders = where(held_somewhere)
        # Each network row's place among the holders (a running count: cheaper than a
        # binary search per holder of every SKU).
        place = held_somewhere.cumsum()
        place -= 1
        shape = (len(holders), len(order))
        # Column-major, as the engine reads them (see `screen`), each SKU a column.
        every = np.zeros(shape, dtype=np.int64, order="F")
        on_hand: BoolArray = np.zeros(shape, dtype=bool)
        for j, (rows, available) in found:
            at = place.take(rows)
            every[at, j] = available
            on_hand[at, j] = True
        return cls(order, holders, every), on_hand


@dataclass(frozen=True, slots=True)
class SourcingView:
    """Locations (all those that matter) and positions of the request's SKUs."""

    locations: Mapping[str, Location]
    positions: Mapping[tuple[str, str], Position] = field(default_factory=dict)
    product_tags: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Work released today per location: (orders, units).
    load: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    #: Future value of a unit of stock, per (location, SKU): what using it now forgoes
    #: (the prices of an LP over the demand expected until replenishment, `shadow.py`).
    shadow_prices: Mapping[tuple[str, str], float] = field(default_factory=dict)
    #: Product weights (kg), needed when a rate card prices parcels by weight.
    weights: Mapping[str, float] = field(default_factory=dict)
    #: The positions as columns, when the caller has them so (else built from them).
    columns: StockColumns | None = None
    #: Columns already built from these positions, by SKUs: a promise screens the same
    #: cart for every service and store. Shared by copies (`replace`), so each entry
    #: keeps the positions and index it was built from and is used only for those.
    _built: dict[
        frozenset[str], tuple[Mapping[tuple[str, str], Position], NetworkIndex, StockColumns]
    ] = field(default_factory=dict, compare=False, repr=False)

    def with_columns(self, columns: StockColumns) -> SourcingView:
        """The view with its stock prepared as `columns`: `replace`, made directly (a
        quote makes one per set of SKUs it sources, and `replace` reads every field by
        name first)."""
        return SourcingView(
            self.locations,
            self.positions,
            self.product_tags,
            self.load,
            self.shadow_prices,
            self.weights,
            columns,
            self._built,
        )

    def stock_columns(self, index: NetworkIndex, skus: frozenset[str]) -> StockColumns:
        """The stock of these SKUs as columns (prepared by the caller, or built here)."""
        if self.columns is not None and frozenset(self.columns.skus) == skus:
            return self.columns
        built = self._built.get(skus)
        if built is not None and built[0] is self.positions and built[1] is index:
            return built[2]
        columns = StockColumns.of_positions(self.positions, index, skus)
        self._built[skus] = (self.positions, index, columns)
        return columns

    def available(self, location_id: str, sku: str) -> int:
        p = self.positions.get((location_id, sku))
        return 0 if p is None else p.available
