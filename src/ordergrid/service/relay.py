"""Internal reactions to outbox events, read from a durable consumer position."""

from __future__ import annotations

from collections import defaultdict

from ordergrid.service.bus import MessageBus
from ordergrid.service.commands import SourceBackorders
from ordergrid.service.ports import StoredEvent

CONSUMER = "reactions"
BATCH = 500


def _new_stock(bus: MessageBus, events: list[StoredEvent]) -> SourceBackorders | None:
    """SKUs whose stock became sellable, and where: availability rose, or a location
    started serving."""
    rose: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e.type == "inventory.changed" and int(e.data.get("available", 0)) > 0:
            rose[str(e.data["sku"])].add(str(e.data["location_id"]))
    opened = [
        str(e.data["location_id"])
        for e in events
        if e.type == "location.status_changed" and e.data.get("status") == "active"
    ]
    if opened:
        with bus.ctx.uow(readonly=True) as uow:
            for location_id in opened:
                for sku in uow.inventory.skus_available_at(location_id):
                    rose[sku].add(location_id)
    if not rose:
        return None
    return SourceBackorders(frozenset(rose), {sku: frozenset(at) for sku, at in rose.items()})


def relay_once(bus: MessageBus, batch: int = BATCH) -> int:
    """Handle the next batch of events; returns how many were read.

    Reading is read-only (it never waits for the write lock); only moving the position
    writes. Reactions are idempotent (re-sourcing back-orders places only what is still
    waiting), so a crash between handling and moving the position repeats work but
    loses nothing.
    """
    with bus.ctx.uow(readonly=True) as uow:
        position = uow.outbox.consumer_position(CONSUMER)
        events = uow.outbox.after(position, batch)
    if not events:
        return 0
    wake = _new_stock(bus, events)
    if wake is not None:
        bus.handle(wake)
    with bus.ctx.uow() as uow:
        uow.outbox.set_consumer_position(CONSUMER, events[-1].cursor)
        uow.commit()
    return len(events)
