"""A process's stock and tag caches filled at start, on SQLite and on PostgreSQL: every
position read ahead, nothing read again at first use, and changes after the warm-up seen
as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.integration.conftest import table_positions, wire
from tests.integration.test_stock_cache import cached, change, receipt, reservation
from tests.integration.test_storage_contract import a_location
from tests.unit.factories import LookupSpy

from ordergrid.adapters.db.stock_cache import SqlStockReads
from ordergrid.adapters.db.uow import SqlUnitOfWork
from ordergrid.bootstrap import Application, bootstrap
from ordergrid.domain.catalogue import Product
from ordergrid.domain.sourcing.network_index import index_of
from ordergrid.entrypoints.api.app import create_app
from ordergrid.service.stock_warmup import warm_stock_cache
from ordergrid.settings import Settings

SKUS = ("A", "B", "C", "D", "E")


def stocked(app: Application) -> None:
    with app.ctx.uow() as uow:
        for sku in SKUS:
            uow.products.put(Product(sku, sku, tags=frozenset({f"tag-{sku}"})))
        uow.commit()
    change(app, *(receipt(loc, sku, 3) for sku in SKUS for loc in ("DC1", "DC2")))


def stocked_before_start(url: str) -> None:
    """Products and stock written by another process before this one starts."""
    writer = wire(url)
    try:
        stocked(writer)
    finally:
        writer.close()


def loads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The SKUs each first read of the stock cache asks the database for."""
    asked: list[list[str]] = []
    load = SqlStockReads._load

    def spy(self: SqlStockReads, skus: list[str]) -> None:
        if skus:
            asked.append(list(skus))
        load(self, skus)

    monkeypatch.setattr(SqlStockReads, "_load", spy)
    return asked


def cache_of(app: Application) -> SqlUnitOfWork:
    uow = app.ctx.uow(readonly=True)
    assert isinstance(uow, SqlUnitOfWork)
    return uow


def test_warming_reads_every_sku_once_so_first_reads_go_to_the_cache(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stocked_before_start(database_url)
    app = wire(database_url)  # a process starting with empty caches
    try:
        asked = loads(monkeypatch)
        assert warm_stock_cache(app.ctx, batch=2) == len(SKUS)
        assert sorted(sku for batch in asked for sku in batch) == list(SKUS)
        assert [len(batch) for batch in asked] == [2, 2, 1]
        asked.clear()
        assert cached(app, *SKUS) == sorted(
            table_positions(app, list(SKUS)), key=lambda p: (p.location_id, p.sku)
        )
        assert asked == []
        uow = cache_of(app)
        assert uow.stock_cache.size == 2 * len(SKUS)
        _, tags = uow.tag_cache.state
        assert {sku: tags[sku] for sku in SKUS} == {s: frozenset({f"tag-{s}"}) for s in SKUS}
    finally:
        app.close()


def test_warming_lays_out_each_sku_for_the_network_so_a_first_quote_does_not(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stocked_before_start(database_url)
    app = wire(database_url)
    try:
        with app.ctx.uow() as uow:
            uow.locations.put(a_location("DC1"))
            uow.locations.put(a_location("DC2"))
            uow.commit()
        warm_stock_cache(app.ctx)
        with app.ctx.uow(readonly=True) as uow:
            index = index_of(uow.locations.by_id())
            stocks = uow.stock_reads.by_sku(SKUS)
        looked_up: list[str] = []
        monkeypatch.setattr(index, "position", LookupSpy(index.position, looked_up))
        laid_out = {sku: stock.columns(index)[1].tolist() for sku, stock in stocks.items()}
        assert laid_out == {sku: [3, 3] for sku in SKUS}
        assert looked_up == []
    finally:
        app.close()


def test_changes_after_the_warm_up_are_seen_at_the_next_read(database_url: str) -> None:
    app, other = wire(database_url), wire(database_url)
    try:
        stocked(app)
        warm_stock_cache(other.ctx)
        change(app, reservation("DC1", "A", 2), receipt("DC3", "B", 4))
        assert [p.available for p in cached(other, "A")] == [1, 3]
        assert [(p.location_id, p.on_hand) for p in cached(other, "B")] == [
            ("DC1", 3),
            ("DC2", 3),
            ("DC3", 4),
        ]
    finally:
        app.close()
        other.close()


def test_a_cache_too_small_for_every_position_is_not_warmed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stocked_before_start(database_url)
    small = bootstrap(Settings(database_url=database_url, stock_cache_positions=9))
    try:
        asked = loads(monkeypatch)
        assert warm_stock_cache(small.ctx) == 0
        assert asked == []
        assert cache_of(small).stock_cache.size == 0
        assert [p.on_hand for p in cached(small, "A")] == [3, 3]  # read at first use
    finally:
        small.close()


def test_the_api_warms_its_caches_before_it_answers(database_url: str) -> None:
    stocked_before_start(database_url)
    app = wire(database_url)
    try:
        with TestClient(create_app(app)) as client:
            assert cache_of(app).stock_cache.size == 2 * len(SKUS)
            assert client.get("/healthz").status_code == 200
    finally:
        app.close()


def test_the_api_leaves_its_caches_cold_when_told_to(database_url: str) -> None:
    stocked_before_start(database_url)
    app = bootstrap(Settings(database_url=database_url, stock_cache_warm=False))
    try:
        with TestClient(create_app(app)):
            assert cache_of(app).stock_cache.size == 0
    finally:
        app.close()


def test_the_api_starts_with_cold_caches_when_the_database_is_down_at_start(
    tmp_path: Path,
) -> None:
    gone = tmp_path / "not-there" / "ordergrid.db"  # no directory: SQLite cannot open it
    app = bootstrap(Settings(database_url=f"sqlite:///{gone}"), check_schema=False)
    try:
        with TestClient(create_app(app)) as client:
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 503
    finally:
        app.close()
