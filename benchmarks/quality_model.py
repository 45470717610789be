"""The quality benchmark's world: ten US fulfilment centres, demand from the 100 largest
US cities in proportion to population, 20 SKUs, seeded orders, and what a plan costs.

The multi-item fulfilment setting of the research literature (Acimovic & Graves 2015;
Jasin & Sinha 2015): each SKU is stocked at a centre with probability 0.75, with as
many units as the cities nearest that centre (among those stocking the SKU) are expected
to order over the horizon; no replenishment within the horizon. A shipment costs $8.759,
plus $0.423 per unit and $0.000541 per unit-mile; a unit left unfilled costs as much as
shipping it alone from the centre farthest from its customer.

Not a benchmark itself (`run_all.py` skips it): `quality.py` imports it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ordergrid.demo.cities import load_cities
from ordergrid.domain.geo import great_circle_km
from ordergrid.domain.network import Address, Capability, Location, LocationType
from ordergrid.domain.sourcing.policy import Costs

KM_PER_MILE = 1.609344
COSTS = Costs(per_shipment=8.759, per_unit=0.423, per_unit_km=0.000541 / KM_PER_MILE)
N_SKUS = 20
N_CITIES = 100
STOCKED_SHARE = 0.75
ITEMS_PER_ORDER = (1, 10)  # uniform, inclusive
MEAN_ITEMS = sum(ITEMS_PER_ORDER) / 2
ZIPF_EXPONENT = 1.0  # SKU k (1-based) is ordered in proportion to 1 / k**ZIPF_EXPONENT

#: Well-known e-commerce fulfilment centre sites (Amazon FCs), one per US region.
FC_SITES: tuple[tuple[str, str, float, float], ...] = (
    ("SEA", "Kent, WA", 47.3809, -122.2348),
    ("TRA", "Tracy, CA", 37.7397, -121.4252),
    ("PHX", "Phoenix, AZ", 33.4484, -112.0740),
    ("DEN", "Aurora, CO", 39.7294, -104.8319),
    ("DFW", "Coppell, TX", 32.9546, -97.0150),
    ("CHI", "Joliet, IL", 41.5250, -88.0817),
    ("CVG", "Hebron, KY", 39.0659, -84.7013),
    ("BNA", "Lebanon, TN", 36.2081, -86.2911),
    ("JAX", "Jacksonville, FL", 30.3322, -81.6557),
    ("EWR", "Robbinsville, NJ", 40.2143, -74.6199),
)


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    weight: float  # share of the orders


@dataclass(frozen=True)
class Order:
    id: str
    city: int
    lines: tuple[tuple[str, int], ...]  # (SKU, units), SKUs distinct

    @property
    def units(self) -> int:
        return sum(q for _, q in self.lines)


@dataclass(frozen=True)
class World:
    """One replication's network, stock and demand model."""

    seed: int
    horizon_orders: int
    fcs: tuple[Location, ...]
    cities: tuple[City, ...]
    skus: tuple[str, ...]
    popularity: np.ndarray  # per SKU, sums to 1
    km: np.ndarray  # (fc, city)
    stock: Mapping[tuple[str, str], int]  # initial on-hand, (fc id, SKU) -> units
    penalty: np.ndarray  # per city: cost of an unfilled unit
    central: str  # the fixed-DC baseline's centre

    @property
    def locations(self) -> dict[str, Location]:
        return {fc.id: fc for fc in self.fcs}

    @property
    def lost_sale_cost(self) -> float:
        """What an unfilled unit costs on average over the demand (by population)."""
        return float(self.penalty @ np.array([c.weight for c in self.cities]))

    def expected_units(self, city: int, sku: int, orders: float) -> float:
        return orders * self.cities[city].weight * MEAN_ITEMS * float(self.popularity[sku])


def fc_locations() -> tuple[Location, ...]:
    return tuple(
        Location(
            id=code,
            name=f"FC {name}",
            type=LocationType.DC,
            address=Address(city=name.split(",")[0], country="US", lat=lat, lon=lon),
            capabilities=frozenset({Capability.SHIP}),
        )
        for code, name, lat, lon in FC_SITES
    )


def demand_cities() -> tuple[City, ...]:
    biggest = load_cities()[:N_CITIES]
    total = sum(c.population for c in biggest)
    return tuple(City(f"{c.city}, {c.state}", c.lat, c.lon, c.population / total) for c in biggest)


def build_world(seed: int, horizon_orders: int) -> World:
    """The network and its stock for one replication (the stocking pattern is seeded)."""
    rng = np.random.default_rng([seed, 1])
    fcs, cities = fc_locations(), demand_cities()
    skus = tuple(f"SKU{k + 1:02d}" for k in range(N_SKUS))
    ranks = np.arange(1, N_SKUS + 1, dtype=np.float64)
    popularity = ranks**-ZIPF_EXPONENT / np.sum(ranks**-ZIPF_EXPONENT)
    km = np.array([[great_circle_km(f.lat, f.lon, c.lat, c.lon) for c in cities] for f in fcs])
    weights = np.array([c.weight for c in cities])
    stocked = rng.random((len(fcs), N_SKUS)) < STOCKED_SHARE
    for s in np.flatnonzero(~stocked.any(axis=0)):  # every SKU somewhere
        stocked[rng.integers(len(fcs)), s] = True
    expected: dict[tuple[int, int], float] = defaultdict(float)
    for s in range(N_SKUS):
        holders = np.flatnonzero(stocked[:, s])
        for c in range(len(cities)):
            j = int(holders[int(np.argmin(km[holders, c]))])
            expected[(j, s)] += horizon_orders * weights[c] * MEAN_ITEMS * popularity[s]
    return World(
        seed=seed,
        horizon_orders=horizon_orders,
        fcs=fcs,
        cities=cities,
        skus=skus,
        popularity=popularity,
        km=km,
        stock={
            (fcs[j].id, skus[s]): round(units)
            for (j, s), units in sorted(expected.items())
            if round(units) > 0
        },
        penalty=COSTS.per_shipment + COSTS.per_unit + COSTS.per_unit_km * km.max(axis=0),
        central=fcs[int(np.argmin(km @ weights))].id,
    )


def draw_orders(world: World, count: int, stream: int, prefix: str = "O") -> list[Order]:
    """`count` seeded orders: a city by population, 1-10 items, SKUs by popularity."""
    rng = np.random.default_rng([world.seed, 2, stream])
    weights = np.array([c.weight for c in world.cities])
    cities = rng.choice(len(world.cities), size=count, p=weights)
    sizes = rng.integers(ITEMS_PER_ORDER[0], ITEMS_PER_ORDER[1] + 1, size=count)
    orders = []
    for i in range(count):
        picks = rng.choice(N_SKUS, size=int(sizes[i]), p=world.popularity)
        counts = np.bincount(picks, minlength=N_SKUS)
        lines = tuple((world.skus[s], int(counts[s])) for s in np.flatnonzero(counts))
        orders.append(Order(f"{prefix}{i + 1:06d}", int(cities[i]), lines))
    return orders


# ------------------------------------------------------------------------------ costs


Plan = Mapping[str, Mapping[str, int]]  # fc id -> SKU -> units


@dataclass
class Tally:
    """What a policy did over a horizon."""

    cost: float = 0.0
    orders: int = 0
    shipments: int = 0
    units: int = 0
    unfilled: int = 0
    km_units: float = 0.0
    per_order: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.cost += other.cost
        self.orders += other.orders
        self.shipments += other.shipments
        self.units += other.units
        self.unfilled += other.unfilled
        self.km_units += other.km_units

    @property
    def shipments_per_order(self) -> float:
        return self.shipments / max(1, self.orders)


class Ledger:
    """Stock as it depletes, and the cost of each order's plan."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.stock: dict[tuple[str, str], int] = dict(world.stock)
        self.fc_index = {fc.id: j for j, fc in enumerate(world.fcs)}
        self.tally = Tally()

    def record(self, order: Order, plan: Plan) -> None:
        """Take the plan's units from stock and count its cost (the rest is unfilled)."""
        w, t = self.world, self.tally
        wanted = dict(order.lines)
        cost = 0.0
        for fc, units in plan.items():
            n = 0
            for sku, q in units.items():
                if q <= 0:
                    continue
                left = self.stock.get((fc, sku), 0)
                if q > left or q > wanted.get(sku, 0):
                    raise ValueError(f"{order.id}: plan takes {q} x {sku} from {fc}")
                self.stock[(fc, sku)] = left - q
                wanted[sku] -= q
                n += q
            if n:
                km = float(w.km[self.fc_index[fc], order.city])
                cost += COSTS.per_shipment + n * COSTS.per_unit_at(km)
                t.shipments += 1
                t.units += n
                t.km_units += n * km
        missing = sum(wanted.values())
        cost += missing * float(w.penalty[order.city])
        t.unfilled += missing
        t.orders += 1
        t.cost += cost
        t.per_order.append(cost)


# -------------------------------------------------------------------- simple policies


def fixed_dc_plan(ledger: Ledger, order: Order) -> Plan:
    """Everything from the central centre; what it lacks is unfilled."""
    fc = ledger.world.central
    return {fc: {sku: min(q, ledger.stock.get((fc, sku), 0)) for sku, q in order.lines}}


def greedy_plan(ledger: Ledger, order: Order) -> Plan:
    """Line by line, unit by unit: the nearest centre with stock, spilling outwards."""
    w = ledger.world
    nearest = [w.fcs[j].id for j in np.argsort(w.km[:, order.city], kind="stable")]
    plan: dict[str, dict[str, int]] = defaultdict(dict)
    for sku, q in order.lines:
        need = q
        for fc in nearest:
            take = min(need, ledger.stock.get((fc, sku), 0))
            if take:
                plan[fc][sku] = take
                need -= take
            if not need:
                break
    return plan


def simulate(world: World, orders: Sequence[Order], policy: str) -> Tally:
    ledger = Ledger(world)
    choose = {"fixed_dc": fixed_dc_plan, "greedy": greedy_plan}[policy]
    for order in orders:
        ledger.record(order, choose(ledger, order))
    return ledger.tally
