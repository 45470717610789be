"""The sourcing engine alone (no database, no HTTP) on generated networks M and L.

    python benchmarks/sourcing.py [--quick] [--networks M,L] [--orders N] [--warmup N]
                                  [--sample N] [--seed 7] [--time-limit S]
                                  [--dump-non-optimal FILE]

Per network: generate it (`networks.py`), generate orders, and for each order build the
engine's input as the product does (`sourcing_input.py`: `SourcingRequest`, and a
`SourcingView` of the order's SKUs only, built the fastest public way the engine takes
that decides the same) and call `source(req, view, DEFAULT_POLICY, now)`, timing the view
and the decision apart, in one process pinned to one core; the explanation the service
stores (`decision.as_record()`) is timed apart on a spread of the orders. Then, on a seeded
sample of the orders, solve the same question exactly with a MIP (`oracle.py`, HiGHS)
and compare the engine's plan to the optimum. Prints tables, the targets of issue 3 with
pass/fail, and one `BENCH {json}` line per network and order size, last. Nothing
asserts on timings.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from common import console, print_bench_lines
from networks import NETWORKS, Network, Order, build_network, generate_orders
from oracle import Instance, highs, solve
from ordergrid.domain.sourcing import DEFAULT_POLICY, SourcingRequest, source
from sourcing_input import ViewBuilder, request_for, view_builders
from sourcing_report import bench_records, print_examples, print_notes, print_tables
from sourcing_results import Check, Measured

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
PROBE = 150  # warm-up orders on which the ways to build the view are compared
EXPLAINED = 2000  # timed orders whose explanation is timed too, evenly spread


@dataclass(frozen=True)
class Options:
    quick: bool
    networks: tuple[str, ...]
    orders: int
    warmup: int
    sample: int
    seed: int
    time_limit_s: float
    dump: Path | None


def parse_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: network M, fewer orders")
    p.add_argument("--networks", help="comma-separated, of M, L (default M,L; M with --quick)")
    p.add_argument("--orders", type=int, help="timed orders per network (20000; 2000 quick)")
    p.add_argument("--warmup", type=int, help="untimed orders first (500; 100 quick)")
    p.add_argument("--sample", type=int, help="orders checked by the MIP (1000; 200 quick)")
    p.add_argument("--seed", type=int, default=7, help="seed of networks and orders")
    p.add_argument("--time-limit", type=float, help="stop timing a network after S seconds")
    p.add_argument("--dump-non-optimal", type=Path, help="write non-optimal orders as JSON")
    # run_all.py passes every benchmark the same arguments: ignore the others' options.
    a, ignored = p.parse_known_args(argv)
    if ignored:
        console.print(f"sourcing: ignoring arguments of other benchmarks: {' '.join(ignored)}")
    quick = bool(a.quick)
    networks = tuple(
        n.strip().upper() for n in (a.networks or ("M" if quick else "M,L")).split(",")
    )
    unknown = [n for n in networks if n not in NETWORKS]
    if unknown:
        p.error(f"unknown network(s) {unknown}; known: {sorted(NETWORKS)}")
    return Options(
        quick=quick,
        networks=networks,
        orders=max(1, a.orders or (2000 if quick else 20_000)),
        warmup=max(0, a.warmup if a.warmup is not None else (100 if quick else 500)),
        sample=max(0, a.sample if a.sample is not None else (200 if quick else 1000)),
        seed=a.seed,
        time_limit_s=a.time_limit or (20.0 if quick else 300.0),
        dump=a.dump_non_optimal,
    )


def _progress() -> Progress:
    # Refreshed by hand between timed orders: a refresh thread would steal the pinned core.
    return Progress(
        TextColumn("  {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        auto_refresh=False,
    )


def _idlest_cpu(allowed: set[int], interval_s: float = 0.3) -> int:
    """The CPU that was busy least over a short interval (Linux /proc/stat), else the
    last allowed one: other programs on the machine then perturb the timing least."""

    def busy() -> dict[int, tuple[int, int]]:
        out: dict[int, tuple[int, int]] = {}
        try:
            lines = Path("/proc/stat").read_text(encoding="ascii").splitlines()
        except OSError:
            return out
        for line in lines:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                ticks = [int(f) for f in fields]
                out[int(name[3:])] = (sum(ticks) - ticks[3] - ticks[4], sum(ticks))
        return out

    before = busy()
    time.sleep(interval_s)
    after = busy()
    shares = {
        cpu: (after[cpu][0] - b[0]) / max(1, after[cpu][1] - b[1])
        for cpu, b in before.items()
        if cpu in allowed and cpu in after
    }
    return min(shares, key=lambda c: (shares[c], -c)) if shares else max(allowed)


@contextmanager
def one_core() -> Iterator[int | None]:
    """Pin this process to one CPU (the idlest it may use) while timing."""
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    allowed = os.sched_getaffinity(0)
    cpu = _idlest_cpu(allowed)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, allowed)


def time_orders(
    net: Network,
    orders: list[Order],
    requests: list[SourcingRequest],
    build: ViewBuilder,
    view_name: str,
    opts: Options,
) -> Measured:
    """View and decision of each order, back to back, timed apart."""
    n = len(orders)
    view_ns = np.zeros(n, dtype=np.int64)
    decide_ns = np.zeros(n, dtype=np.int64)
    explain_ns = np.full(n, -1, dtype=np.int64)  # -1: not explained
    explain_every = max(1, n // EXPLAINED)
    shipments = np.zeros(n, dtype=np.int64)
    units = np.zeros(n, dtype=np.int64)
    cost = np.zeros(n)
    outcomes: list[str] = []
    solvers: list[str] = []
    clock = time.perf_counter_ns
    # CPU time of this thread too: unlike the clock, it does not count the time other
    # programs had the CPU, which a shared machine adds to the latencies.
    cpu_clock = time.thread_time_ns
    cpu_ns = np.zeros(n, dtype=np.int64)
    done = n
    with one_core() as cpu, _progress() as progress:
        task = progress.add_task(f"timing {net.spec.name}", total=n)
        started, cpu_started = time.monotonic(), time.process_time()
        for i in range(n):
            c0 = cpu_clock()
            t0 = clock()
            view = build(net, orders[i])
            t1 = clock()
            decision = source(requests[i], view, DEFAULT_POLICY, NOW)
            t2 = clock()
            c2 = cpu_clock()
            view_ns[i], decide_ns[i] = t1 - t0, t2 - t1
            cpu_ns[i] = c2 - c0
            plan = decision.plan
            shipments[i], units[i], cost[i] = len(plan.shipments), plan.units, plan.cost
            outcomes.append(decision.outcome)
            solvers.append(decision.solver)
            del view, decision, plan  # freed here, outside the timed spans
            if i % 250 == 249:
                progress.update(task, completed=i + 1)
                progress.refresh()
                if time.monotonic() - started > opts.time_limit_s:
                    done = i + 1
                    break
        wall_s, cpu_s = time.monotonic() - started, time.process_time() - cpu_started
        # What the service stores with every decision; the engine defers the explanation
        # until it is read, so it is timed on its own, in a pass of its own: its garbage
        # would otherwise make the collector run inside the decisions' timed spans.
        for i in range(0, done, explain_every):
            decision = source(requests[i], build(net, orders[i]), DEFAULT_POLICY, NOW)
            t0 = clock()
            decision.as_record()
            explain_ns[i] = clock() - t0
        progress.update(task, completed=done, total=done)
        progress.refresh()
    return Measured(
        network=net,
        view_builder=view_name,
        lines=np.array([o.lines for o in orders[:done]]),
        view_ns=view_ns[:done],
        decide_ns=decide_ns[:done],
        explain_ns=explain_ns[:done],
        cpu_ns=cpu_ns[:done],
        shipments=shipments[:done],
        units=units[:done],
        cost=cost[:done],
        outcomes=outcomes,
        solvers=solvers,
        cpu=cpu,
        cpu_s=cpu_s,
        cpu_share=cpu_s / wall_s if wall_s else 0.0,
        stopped_early=done < n,
    )


def instance_of(net: Network, order: Order) -> Instance:
    """The oracle's question for an order, from the network's own arrays."""
    return Instance.of_stock(
        net.locations,
        [net.stock(s) for s in order.skus],
        [net.skus[s] for s in order.skus],
        [net.tags[s] for s in order.skus],
        order.quantities,
        (order.lat, order.lon),
    )


def check_sample(
    net: Network,
    orders: list[Order],
    requests: list[SourcingRequest],
    build: ViewBuilder,
    m: Measured,
    opts: Options,
) -> list[Check]:
    """Decide the sampled orders again (untimed) and solve each exactly."""
    rng = np.random.default_rng([opts.seed, ord(net.spec.name[0]), 3])
    count = min(opts.sample, len(m.lines))
    picked = np.sort(rng.choice(len(m.lines), count, replace=False)).tolist()
    costs, limit = DEFAULT_POLICY.costs, DEFAULT_POLICY.constraints.max_shipments
    checks: list[Check] = []
    with _progress() as progress:
        task = progress.add_task(f"MIP oracle {net.spec.name}", total=count)
        for k, i in enumerate(picked):
            order = orders[i]
            decision = source(requests[i], build(net, order), DEFAULT_POLICY, NOW)
            inst = instance_of(net, order)
            checks.append(
                Check.of(order, inst, decision, solve(inst, costs, limit), costs, limit, m, i)
            )
            if k % 20 == 19 or k == count - 1:
                progress.update(task, completed=k + 1)
                progress.refresh()
    return checks


def pick_view(
    net: Network, orders: list[Order], requests: list[SourcingRequest]
) -> tuple[str, ViewBuilder, str]:
    """The fastest public way to build the view whose decisions, explanations included,
    are those of the reference (`Position` objects) on these orders; with a note."""
    builders = view_builders()
    first = next(iter(builders.values()))
    # Untimed first: it warms the engine's caches up for every way alike.
    reference = [
        source(req, first(net, order), DEFAULT_POLICY, NOW).as_dict()
        for order, req in zip(orders, requests, strict=True)
    ]
    per_order: dict[str, float] = {}
    rejected: list[str] = []
    for name, build in builders.items():
        spent, documents = 0, []
        for order, req in zip(orders, requests, strict=True):
            started = time.perf_counter_ns()
            decision = source(req, build(net, order), DEFAULT_POLICY, NOW)
            spent += time.perf_counter_ns() - started
            documents.append(decision.as_dict())
        if documents != reference:
            rejected.append(name)
            continue
        per_order[name] = spent / max(1, len(orders)) / 1e6
    best = min(per_order, key=per_order.__getitem__)
    note = f"of {len(builders)} public way(s), timed on {len(orders)} warm-up orders: " + ", ".join(
        f"{name} {ms:.3f} ms" for name, ms in sorted(per_order.items(), key=lambda kv: kv[1])
    )
    if rejected:
        note += f"; not used, decisions differ from the reference: {', '.join(rejected)}"
    return best, builders[best], note


def run_network(name: str, opts: Options) -> tuple[Measured, list[Check]]:
    spec = NETWORKS[name]
    started = time.perf_counter()
    net = build_network(spec, opts.seed)
    built_s = time.perf_counter() - started
    mb = (net.holder.nbytes + net.on_hand.nbytes + net.start.nbytes) / 1e6
    console.print(
        f"[bold]network {name}[/bold]: {spec.dcs} DCs, {spec.stores} stores, {spec.vendors} "
        f"dropship vendors, {spec.skus:,} SKUs; {len(net.holder):,} positions "
        f"({mb:.0f} MB as arrays), generated in {built_s:.1f} s"
    )
    everything = generate_orders(net, opts.warmup + opts.orders, opts.seed)
    warm, orders = everything[: opts.warmup], everything[opts.warmup :]
    requests = [request_for(net, o) for o in orders]
    probe = warm[:PROBE]
    view_name, build, note = pick_view(net, probe, [request_for(net, o) for o in probe])
    console.print(f"  view built with {view_name} ({note})")
    for order in warm[PROBE:]:
        source(request_for(net, order), build(net, order), DEFAULT_POLICY, NOW)
    gc.collect()
    gc.freeze()  # the network and orders are long-lived, as a service's caches would be
    measured = time_orders(net, orders, requests, build, view_name, opts)
    total_s = float(measured.view_ns.sum() + measured.decide_ns.sum()) / 1e9
    console.print(
        f"  {len(measured.lines):,} orders, {total_s:.1f} s of view + decision"
        + (f" (stopped at the {opts.time_limit_s:g} s limit)" if measured.stopped_early else "")
        + f"; got {100 * measured.cpu_share:.0f}% of CPU {measured.cpu} while timing"
    )
    if measured.cpu_share < 0.9:
        console.print(
            f"  [yellow]other programs used {100 * (1 - measured.cpu_share):.0f}% of that CPU "
            "meanwhile: latencies and decisions/s include waiting for it; the CPU-time "
            "columns leave that out.[/yellow]"
        )
    checks = check_sample(net, orders, requests, build, measured, opts) if opts.sample else []
    gc.unfreeze()
    return measured, checks


def dump(path: Path, results: list[tuple[Measured, list[Check]]]) -> None:
    items = [c.as_dict() for _, checks in results for c in checks if c.flagged]
    path.write_text(json.dumps(items, indent=1), encoding="utf-8")
    console.print(f"{len(items)} flagged order(s) written to {path}")


def main(argv: Sequence[str] | None = None) -> None:
    started = time.monotonic()
    opts = parse_args(argv)
    highs()  # first, so that HiGHS's banner is swallowed whoever uses it next
    console.print(
        f"sourcing benchmark: seed {opts.seed}, networks {', '.join(opts.networks)}, "
        f"{opts.orders:,} timed orders each (+{opts.warmup} warm-up), MIP sample "
        f"{opts.sample:,}" + (", quick mode" if opts.quick else "")
    )
    results = [run_network(n, opts) for n in opts.networks]
    print_tables(results)
    print_examples(results)
    if opts.dump is not None:
        dump(opts.dump, results)
    print_notes(opts.seed, opts.quick)
    console.print(f"total time {time.monotonic() - started:.0f} s")
    records: list[dict[str, Any]] = bench_records(results, opts.seed, opts.quick)
    print_bench_lines(records)


if __name__ == "__main__":
    main()
