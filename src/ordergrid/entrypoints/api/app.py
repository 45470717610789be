"""The FastAPI application for a wired `Application`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ordergrid import __version__
from ordergrid.bootstrap import Application
from ordergrid.domain.errors import Unavailable
from ordergrid.entrypoints.api import (
    errors,
    routes_exceptions,
    routes_fulfilments,
    routes_inventory,
    routes_network,
    routes_orders,
    routes_policies,
    routes_promise,
    routes_reservations,
    routes_shopify,
    routes_snapshot_import,
    routes_stock,
    routes_supply,
    routes_system,
    routes_webhooks,
)
from ordergrid.entrypoints.api.middleware import EdgeMiddleware
from ordergrid.entrypoints.scarcity import ScarcityRefresher
from ordergrid.entrypoints.worker import Worker
from ordergrid.service.ports import ConcurrentUpdate
from ordergrid.service.stock_warmup import warm_stock_cache

log = logging.getLogger("ordergrid.api")

DESCRIPTION = """Order orchestration: where each unit of every order is fulfilled from,
reserved, handed to the location and followed to the customer.

Authenticate with `Authorization: Bearer <token>`. Errors are
`{"error": {"code", "message", "details"}}`."""


#: In the order requests are matched against them: each router's routes are tried in
#: turn, whether or not its prefix fits (about 1.5 µs a route: a promise matched behind
#: 15 other routers spent 168 µs there), so the endpoints called per cart and per order
#: come first. No route of one router matches a path of another's (a test holds it), so
#: the order changes no answer.
ROUTERS = (
    routes_promise,
    routes_orders,
    routes_fulfilments,
    routes_reservations,
    routes_stock,
    routes_inventory,
    routes_snapshot_import,
    routes_system,
    routes_network,
    routes_exceptions,
    routes_policies,
    routes_webhooks,
    routes_supply,
    routes_shopify,
)
#: The sections of the API documentation, in reading order (not the matching order).
DOCUMENTED_TAGS = (
    "operations",
    "tokens",
    "network and catalogue",
    "inventory",
    "orders",
    "fulfilments",
    "exception queue",
    "routing policies",
    "webhooks",
    "availability",
    "reservations",
    "promise",
    "supply",
    "connectors",
)


def _warm(application: Application) -> None:
    started = time.monotonic()
    try:
        skus = warm_stock_cache(application.ctx)
    except (Unavailable, ConcurrentUpdate) as exc:
        # A database down at start is answered 503 until it is back, as at any other
        # time: the caches then fill at first use.
        log.warning("stock cache not warmed: %s", exc)
        return
    if skus:
        log.info("stock cache warmed: %d SKUs in %.1f s", skus, time.monotonic() - started)


def create_app(application: Application, *, embedded_worker: bool = False) -> FastAPI:
    """The API; with `embedded_worker` the outbox relay runs in this process too."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if application.settings.stock_cache_warm:
            await asyncio.to_thread(_warm, application)
        worker = Worker(application) if embedded_worker else None
        refresher = ScarcityRefresher(application)
        if worker is not None:
            worker.start()
        refresher.start()
        try:
            yield
        finally:
            refresher.stop()
            if worker is not None:
                worker.stop()

    api = FastAPI(
        title="ordergrid",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[{"name": tag} for tag in DOCUMENTED_TAGS],
    )
    api.state.ordergrid = application
    errors.install(api)
    for module in ROUTERS:
        api.include_router(module.router)
    api.add_middleware(
        EdgeMiddleware,
        metrics=application.metrics,
        max_body=application.settings.max_body_bytes,
        large_bodies={routes_snapshot_import.PATH: application.settings.max_import_bytes},
        signed_paths=frozenset({routes_shopify.PATH}),
        access_log=application.settings.access_log,
    )
    return api
