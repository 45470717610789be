"""A process's stock and tag caches filled before it answers: right after a start (a
deploy, a restart at peak) every first read of a SKU would otherwise go to the database
(about 0.3 ms a SKU on network M, where a warm quote takes about 1.2 ms)."""

from __future__ import annotations

from ordergrid.domain.sourcing.network_index import index_of
from ordergrid.service.context import Context

#: SKUs read per unit of work: short transactions, so writers and other readers carry on.
BATCH = 1_000


def warm_stock_cache(ctx: Context, batch: int = BATCH) -> int:
    """Every SKU's positions and tags read into the process's caches, each SKU laid out
    as the engine's column over the current network, when the stock cache can hold
    every position; the SKUs read (0: nothing to warm)."""
    after: str | None = None
    read = 0
    while True:
        with ctx.uow(readonly=True) as uow:
            skus = uow.stock_reads.warm(after, batch)
            if skus:
                uow.products.tags(skus)
                index = index_of(uow.locations.by_id())
                for stock in uow.stock_reads.by_sku(skus).values():
                    stock.columns(index)
        if not skus:
            return read
        read += len(skus)
        after = skus[-1]
