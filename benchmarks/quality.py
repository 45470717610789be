"""Fulfilment quality: what the sourcing decisions cost over a horizon, against the
clairvoyant lower bound, in the multi-item setting of the research literature.

    python benchmarks/quality.py [--quick] [--seed 7] [--replications 3] [--orders 2000]
                                 [--history 1000] [--batch-orders N] [--mip-seconds 0]

Ten US fulfilment centres, demand from the 100 largest US cities by population, 20 SKUs
each stocked at a centre with probability 0.75 (as many units as its nearest cities are
expected to order over the horizon), orders of 1-10 items, $8.759 per shipment + $0.423
per unit + $0.000541 per unit-mile, an unfilled unit costing a lone parcel from the
farthest centre (`quality_model.py`). Per seeded replication the same orders are served
by: a single fixed DC; greedy nearest-first per unit; ordergrid's engine alone (myopic:
each order's optimum); the same engine with shadow prices from
`ordergrid.domain.sourcing.shadow` (inventory-aware), re-solved as stock depletes from
the recent orders only, with the transportation LP of Acimovic & Graves and with the
order LP ordergrid uses; and the clairvoyant LP bound (`quality_bound.py`, every order
known in advance). Then the batch window: `source_batch` over 10 and 50 waiting orders
against real time. Prints tables, the target of issue 3 with pass/fail, and one
`BENCH {json}` line, last.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from common import console, print_bench_lines
from quality_bound import clairvoyant
from quality_engine import Scarcity, run_engine
from quality_model import Order, Tally, World, build_world, draw_orders, simulate
from quality_report import (
    BATCH_WINDOWS,
    Options,
    Replication,
    batch_table,
    bench_record,
    print_notes,
    print_replication,
    print_target,
    results_table,
)

#: ordergrid's settings, chosen on replications of seeds 101-104 (never on the seeds
#: reported, 7 and up by default): the order LP's prices at their own weight, re-solved
#: every 100 orders from the last 1,000.
SETTINGS = Scarcity(weight=1.0, resolve_every=100, window=1000, model="orders")
#: The transportation LP of Acimovic & Graves, for comparison, tuned the same way: it
#: sees no parcels, so its prices need a weight above 1 and more frequent solves.
SETTINGS_UNITS = Scarcity(weight=4.0, resolve_every=25, window=1000, model="units")

Tick = Callable[[int], None]


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 1 replication of 1000")
    p.add_argument("--seed", type=int, default=7, help="seed of the first replication")
    p.add_argument("--replications", type=int, help="seeds seed, seed+1, ... (3; 1 quick)")
    p.add_argument("--orders", type=int, help="orders in the horizon (2000; 1000 quick)")
    p.add_argument("--history", type=int, help="orders seen before the horizon (1000)")
    p.add_argument("--batch-orders", type=int, help="orders of the batch runs (all; 100 quick)")
    p.add_argument("--mip-seconds", type=float, default=0.0, help="also try the exact MIP")
    a, ignored = p.parse_known_args(argv)
    if ignored:
        console.print(f"quality: ignoring arguments of other benchmarks: {' '.join(ignored)}")
    orders = max(10, a.orders or (1000 if a.quick else 2000))
    batch = a.batch_orders if a.batch_orders is not None else (100 if a.quick else orders)
    return Options(
        quick=a.quick,
        seed=a.seed,
        replications=max(1, a.replications or (1 if a.quick else 3)),
        orders=orders,
        history=max(1, a.history or SETTINGS.window),
        batch_orders=max(0, batch),
        mip_seconds=max(0.0, a.mip_seconds),
        settings=SETTINGS,
        settings_units=SETTINGS_UNITS,
    )


@dataclass(frozen=True)
class Horizon:
    """One replication's world and orders; each run serves them from fresh stock."""

    world: World
    orders: Sequence[Order]
    history: Sequence[Order]

    def simple(self, policy: str, tick: Tick) -> Tally:
        tally = simulate(self.world, self.orders, policy)
        tick(len(self.orders))
        return tally

    def engine(self, settings: Scarcity | None, rep: Replication, name: str, tick: Tick) -> Tally:
        run = run_engine(self.world, self.orders, self.history, settings, tick=tick)
        rep.solves[name] = (run.solves, run.lp_seconds)
        return run.ledger.tally

    def batch(self, window: int, size: int, tick: Tick) -> Tally:
        first = self.orders[:size]
        run = run_engine(self.world, first, self.history, None, window=window, tick=tick)
        return run.ledger.tally


def replicate(seed: int, opts: Options, progress: Progress) -> Replication:
    world = build_world(seed, opts.orders)
    h = Horizon(
        world,
        draw_orders(world, opts.orders, stream=0),
        draw_orders(world, opts.history, stream=1, prefix="H"),
    )
    rep = Replication(seed, world.central)
    n, size = len(h.orders), min(opts.batch_orders, len(h.orders))
    runs: list[tuple[str, int, Callable[[Tick], Tally]]] = [
        ("fixed_dc", n, partial(h.simple, "fixed_dc")),
        ("greedy", n, partial(h.simple, "greedy")),
        ("myopic", n, partial(h.engine, None, rep, "myopic")),
        ("ordergrid_units", n, partial(h.engine, SETTINGS_UNITS, rep, "ordergrid_units")),
        ("ordergrid", n, partial(h.engine, SETTINGS, rep, "ordergrid")),
    ]
    runs += [(f"batch_{w}", size, partial(h.batch, w, size)) for w in (1, *BATCH_WINDOWS) if size]
    for name, total, run in runs:
        task = progress.add_task(f"seed {seed}: {name}", total=total)
        rep.costs[name] = run(partial(progress.advance, task))
    task = progress.add_task(f"seed {seed}: clairvoyant LP", total=None)
    rep.bound = clairvoyant(world, h.orders)
    if opts.mip_seconds:
        mip = clairvoyant(world, h.orders, mip=True, time_limit_s=opts.mip_seconds)
        if mip.dual_bound > rep.bound.value:
            rep.bound = mip
    progress.update(task, total=1, completed=1)
    print_replication(rep)
    return rep


def main(argv: Sequence[str] | None = None) -> None:
    started = time.monotonic()
    opts = parse_args(argv)
    console.print(
        f"quality benchmark: seed {opts.seed}, {opts.replications} replication(s) of "
        f"{opts.orders} orders" + (", quick mode" if opts.quick else "")
    )
    with Progress(
        TextColumn("  {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        reps = [replicate(opts.seed + r, opts, progress) for r in range(opts.replications)]
    console.print(results_table(reps))
    if opts.batch_orders:
        console.print(batch_table(reps))
    print_target(reps, opts.quick)
    print_notes(reps, opts)
    console.print(f"total time {time.monotonic() - started:.0f} s")
    print_bench_lines([bench_record(reps, opts)])


if __name__ == "__main__":
    main()
