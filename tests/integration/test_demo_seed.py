"""The demo's sample network seeded through the service layer: its locations keep their
calendars, so promises follow each store's hours and time zone."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from ordergrid.adapters.memory import FixedClock
from ordergrid.bootstrap import bootstrap
from ordergrid.demo.sample import build_network
from ordergrid.entrypoints.cli.demo import load_network
from ordergrid.service.promise import Destination, PromiseLine, QuotePromise, quote_promise
from ordergrid.settings import Settings

NEW_YORK = ZoneInfo("America/New_York")
#: Friday 27 November 2026, 23:00 in New York: every store there is closed.
FRIDAY_NIGHT = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


def test_a_promise_asked_at_night_has_the_store_ready_after_it_opens(tmp_path: Path) -> None:
    network = build_network(stores=8, products=40)
    app = bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", auto_migrate=True),
        clock=FixedClock(FRIDAY_NIGHT),
    )
    try:
        load_network(app, network, Console(file=io.StringIO()))
        store_id, body = next(
            (i, b)
            for i, b in network.locations
            if i.startswith("ST-NYC") and b["status"] == "active" and "pickup" in b["capabilities"]
        )
        sku = next(a["sku"] for a in network.stock if a["location_id"] == store_id)
        with app.ctx.uow(readonly=True) as uow:
            store = uow.locations.get(store_id)
        assert store is not None
        assert store.calendar is not None
        assert store.calendar.timezone == "America/New_York"
        cmd = QuotePromise(
            "web", (PromiseLine(sku, 1),), Destination("US", body["address"]["postal_code"])
        )
        quote = quote_promise(cmd, app.ctx)
        there = next(p for p in quote.pickup if p.location_id == store_id and p.method == "pickup")
        assert there.available
        assert there.mode == "now"
        assert there.ready_by is not None
        ready = there.ready_by.astimezone(NEW_YORK)
        [(opens, closes)] = store.calendar.windows(ready.date())
        assert ready.date().isoformat() == "2026-11-28"  # Saturday, not overnight
        assert opens < ready <= closes
    finally:
        app.close()
