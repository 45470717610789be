"""The `ordergrid` command line."""

from __future__ import annotations

import os
import secrets
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ordergrid.bootstrap import Application, NotMigrated, bootstrap, connection_limits
from ordergrid.settings import Settings

app = typer.Typer(
    help="ordergrid: order orchestration for omnichannel retail.",
    no_args_is_help=True,
    add_completion=False,
)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
policy_app = typer.Typer(
    help="Manage routing policies kept as YAML or JSON files.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")
import_app = typer.Typer(help="Import feeds from files.", no_args_is_help=True)
app.add_typer(import_app, name="import")
events_app = typer.Typer(help="Manage the event outbox.", no_args_is_help=True)
app.add_typer(events_app, name="events")
console = Console()

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL; default $ORDERGRID_DATABASE_URL or ./ordergrid.db"
    ),
]


def _settings(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


def _wire(settings: Settings) -> Application:
    """The application, or a clear message and exit code 2 for an old schema."""
    try:
        return bootstrap(settings)
    except NotMigrated as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes (PostgreSQL for >1)")] = 1,
    worker: Annotated[
        bool, typer.Option(help="run the event worker inside the API process (default on)")
    ] = True,
    database_url: DatabaseUrl = None,
) -> None:
    """Start the HTTP API (and, unless --no-worker, the worker that relays events).

    An embedded SQLite database is migrated on first start; PostgreSQL must be migrated
    with `ordergrid migrate` first.
    """
    import uvicorn

    from ordergrid.entrypoints.logs import logging_config

    settings = _settings(database_url)
    if database_url:
        os.environ["ORDERGRID_DATABASE_URL"] = database_url  # for the API processes
    os.environ["ORDERGRID_EMBEDDED_WORKER"] = "1" if worker else "0"
    try:
        bootstrap(settings).close()  # check (or, for SQLite, create) the schema once
    except NotMigrated as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if workers > 1 and settings.is_sqlite:
        console.print(
            "[yellow]several API processes on SQLite serialise on one file; "
            "use PostgreSQL for --workers > 1[/yellow]"
        )
    console.print(f"ordergrid API on http://{host}:{port}  (docs at /docs)")
    uvicorn.run(
        "ordergrid.entrypoints.api.main:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logging_config(settings),
        log_level=settings.log_level,
        access_log=False,  # the API writes its own, with the route and the request id
    )


@app.command(name="worker")
def run_worker(database_url: DatabaseUrl = None) -> None:
    """Run the worker alone: timers, outbox relay and webhook deliveries until stopped."""
    from ordergrid.entrypoints.logs import configure_logging
    from ordergrid.entrypoints.runtime import tune_garbage_collector
    from ordergrid.entrypoints.scarcity import ScarcityRefresher
    from ordergrid.entrypoints.worker import Worker

    settings = _settings(database_url)
    configure_logging(settings)
    application = _wire(settings)
    w = Worker(application)
    refresher = ScarcityRefresher(application)
    tune_garbage_collector(application.settings)
    # The handler runs on this thread, inside the relay loop: it only asks the loops to
    # end, and `run` waits for them once its loop is out of the way.
    signal.signal(signal.SIGTERM, lambda *_: w.request_stop())
    console.print("ordergrid worker running; Ctrl+C to stop")
    refresher.start()
    try:
        w.run()
    except KeyboardInterrupt:
        pass  # `run` has stopped its threads on the way out
    finally:
        refresher.stop()
        application.close()


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the database schema to this version (safe to run again)."""
    from ordergrid.adapters.db import migrate as migrations
    from ordergrid.adapters.db.engine import make_engine

    settings = _settings(database_url)
    engine = make_engine(settings.database_url, limits=connection_limits(settings))
    migrations.upgrade(engine)
    current, _ = migrations.pending(engine)
    engine.dispose()
    console.print(f"database at revision {current}")


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    db: Annotated[Path, typer.Option(help="SQLite file for the demo (recreated)")] = Path(
        "ordergrid-demo.db"
    ),
    rate: Annotated[float, typer.Option(min=0.1, help="orders per second")] = 5.0,
    orders: Annotated[
        int, typer.Option(min=0, help="stop after this many (0: run until Ctrl+C)")
    ] = 0,
    stores: Annotated[int, typer.Option(min=1, help="stores in the sample network")] = 160,
    products: Annotated[int, typer.Option(min=1, help="products in the catalogue")] = 300,
    seed: Annotated[int, typer.Option(help="seed of the sample data")] = 7,
) -> None:
    """Seed a sample US network (10 DCs, 160 stores, 300 products) in a fresh SQLite file,
    start the API, and keep orders flowing through sourcing and fulfilment."""
    from ordergrid.demo.sample import build_network
    from ordergrid.entrypoints.cli import demo as runner

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    token = Settings().admin_token or secrets.token_urlsafe(24)
    application = bootstrap(Settings(database_url=f"sqlite:///{db}", admin_token=token))
    network = build_network(seed=seed, stores=stores, products=products)
    runner.load_network(application, network, console)
    console.print(
        f"seeded {len(network.locations)} locations, {len(network.products)} products, "
        f"{len(network.stock)} stock positions"
    )
    server = runner.start_server(application, host, port)
    base_url = f"http://{host}:{port}"
    runner.banner(console, base_url, token, str(db))
    try:
        placed = runner.run_orders(base_url, token, network, rate, orders, console, seed)
        console.print(f"placed {sum(placed.values())} orders: {placed}")
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        server.should_exit = True
        application.close()


@token_app.command("create")
def create_token(
    name: Annotated[str, typer.Option(help="who or what uses the token")],
    role: Annotated[str, typer.Option(help="admin | integrator | associate | viewer")],
    channel: Annotated[
        list[str] | None, typer.Option(help="limit an integrator to channels")
    ] = None,
    location: Annotated[
        list[str] | None, typer.Option(help="limit an associate to locations")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API token and print its secret (shown only once)."""
    from ordergrid.service.commands import CreateToken
    from ordergrid.service.ports import Role

    if role not in {r.value for r in Role}:
        console.print(f"[red]--role must be one of {', '.join(r.value for r in Role)}[/red]")
        raise typer.Exit(2)
    application = _wire(_settings(database_url))
    secret, token = application.bus.handle(
        CreateToken(name, role, frozenset(channel or ()), frozenset(location or ()))
    )
    application.close()
    console.print(f"{token.role.value} token {token.name!r}: {secret}")


@policy_app.command("apply")
def apply_policy(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML or JSON file")],
    policy_id: Annotated[
        str | None, typer.Option("--id", help="policy id; default: file name")
    ] = None,
    activate: Annotated[bool, typer.Option(help="activate the new version at once")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Validate a policy document and store it as the policy's next version."""
    from ordergrid.entrypoints.cli.policies import apply

    application = _wire(_settings(database_url))
    try:
        code = apply(application, file, policy_id or file.stem, activate, console)
    finally:
        application.close()
    raise typer.Exit(code)


@import_app.command("inventory")
def import_inventory(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the counts")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv | json | ndjson; default: from the file name"),
    ] = None,
    mode: Annotated[
        str, typer.Option(help="partial: only the listed SKUs; full: each location's full count")
    ] = "partial",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO 8601 count time for rows that give none")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Apply stock counts (CSV `location_id,sku,on_hand[,as_of]`, NDJSON or JSON) in one
    transaction: every row, or none when one is wrong. Prints rows/s at the end."""
    from ordergrid.domain.errors import InvalidInput
    from ordergrid.domain.stock_counts import SnapshotMode
    from ordergrid.entrypoints.cli import inventory_import as feed
    from ordergrid.entrypoints.snapshot_feeds import FeedFormat, parse_time

    try:
        fmt_ = feed.feed_format(file, None if fmt is None else FeedFormat(fmt))
        mode_ = SnapshotMode(mode)
        when = None if as_of is None else parse_time(as_of, "--as-of")
    except (ValueError, InvalidInput) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    application = _wire(_settings(database_url))
    try:
        code = feed.run(application, file, fmt_, mode_, when, console)
    finally:
        application.close()
    raise typer.Exit(code)


def _prune_cutoff(before: str | None, keep_days: float | None) -> datetime:
    if (before is None) == (keep_days is None):
        raise ValueError("give either --before or --keep-days")
    if keep_days is not None:
        return datetime.now(UTC) - timedelta(days=keep_days)
    assert before is not None
    try:
        cutoff = datetime.fromisoformat(before)
    except ValueError:
        cutoff = None
    if cutoff is None or cutoff.tzinfo is None:
        raise ValueError("--before must be an ISO 8601 time with an offset")
    return cutoff


@events_app.command("prune")
def prune_events(
    before: Annotated[
        str | None, typer.Option("--before", help="ISO 8601 time: prune events written before")
    ] = None,
    keep_days: Annotated[
        float | None, typer.Option("--keep-days", min=0, help="keep this many days of events")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Delete events written before a time that every consumer (reactions, webhooks, the
    NATS relay) has read, in short batches. Order timelines lose those events; webhook
    replays from before the pruned time are refused (409 `events_pruned`)."""
    from ordergrid.service.outbox_pruning import prune_events as prune

    try:
        cutoff = _prune_cutoff(before, keep_days)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    application = _wire(_settings(database_url))
    try:
        deleted = prune(application.ctx, cutoff)
        with application.ctx.uow(readonly=True) as uow:
            mark = uow.outbox.pruned()
    finally:
        application.close()
    through = "nothing pruned yet" if mark is None else f"pruned through {mark.at.isoformat()}"
    console.print(f"deleted {deleted} events written before {cutoff.isoformat()}; {through}")


if __name__ == "__main__":
    app()
