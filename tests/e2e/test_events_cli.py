"""`ordergrid events prune`: the outbox loses what every consumer has read, and says how
far it was pruned."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select
from tests.e2e.conftest import Api
from tests.e2e.test_cli import run

from ordergrid.adapters.db import tables as t


def event_count(api: Api) -> int:
    with api.app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.events)).scalar_one())


def test_prune_deletes_the_events_every_consumer_read_but_the_newest(
    api: Api, tmp_path: Path
) -> None:
    api.stock("DC-ATL", "A", 5, "adj-1")
    api.stock("DC-ATL", "B", 5, "adj-2")
    api.relay()  # reactions and webhook queueing read everything
    written = event_count(api)
    url = api.app.settings.database_url

    pruned = run(["events", "prune", "--keep-days", "0", "--database-url", url], tmp_path)

    assert pruned.returncode == 0, pruned.stderr
    found = re.search(r"deleted (\d+) events", pruned.stdout)
    assert found is not None, pruned.stdout
    assert int(found.group(1)) == written - 1
    assert "pruned through" in pruned.stdout
    assert event_count(api) == 1
    again = run(["events", "prune", "--keep-days", "0", "--database-url", url], tmp_path)
    assert "deleted 0 events" in again.stdout


def test_prune_needs_exactly_one_cut_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/og.db"
    neither = run(["events", "prune", "--database-url", url], tmp_path)
    both = run(
        ["events", "prune", "--before", "2026-01-01T00:00:00Z", "--keep-days", "3"], tmp_path
    )
    naive = run(["events", "prune", "--before", "2026-01-01T00:00:00"], tmp_path)
    for result in (neither, both):
        assert result.returncode == 2
        assert "either --before or --keep-days" in result.stdout
    assert naive.returncode == 2
    assert "with an offset" in naive.stdout
