"""Safety stock and channel fences as sourcing and channel availability see them, and
`availability.changed` when a watched channel's sellable quantity crosses a threshold."""

from __future__ import annotations

from tests.service.factories import World, line_counts, placed_at

from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.stock_counts import CountRow
from ordergrid.domain.stock_rules import RuleKind, RuleScope, StockRule
from ordergrid.service import stock_rules
from ordergrid.service.availability import AvailabilityQuery, availability, positions_of
from ordergrid.service.ports import StoredEvent
from ordergrid.service.snapshot_import import ImportSnapshot

NYC = (40.75, -73.99)


def safety(world: World, rule_id: str, quantity: int, **scope: str) -> None:
    rule = StockRule(rule_id, RuleKind.SAFETY_STOCK, RuleScope(**scope), quantity)
    stock_rules.put_rule(world.ctx, rule)


def fence(world: World, rule_id: str, quantity: int, channel: str, **scope: str) -> None:
    rule = StockRule(rule_id, RuleKind.CHANNEL_FENCE, RuleScope(channel=channel, **scope), quantity)
    stock_rules.put_rule(world.ctx, rule)


def sellable(world: World, sku: str, channel: str = "web", **options: object) -> int:
    [item] = availability(world.ctx, AvailabilityQuery((sku,), channel, **options))  # type: ignore[arg-type]
    return item.available


def availability_events(world: World) -> list[StoredEvent]:
    with world.ctx.uow(readonly=True) as uow:
        return [e for e in uow.outbox.after((0, 0), 10_000) if e.type == "availability.changed"]


def test_sourcing_leaves_safety_stock_unsold(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    safety(world, "dc-floor", 3, location_type="dc")
    order = world.place(("A", 4))
    assert placed_at(order) == {"DC-ATL": 2}
    assert line_counts(order)["backordered"] == 2
    assert world.position("DC-ATL", "A").reserved == 2


def test_safety_stock_shows_in_positions_and_availability(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    safety(world, "a-floor", 2, sku="A")
    with world.ctx.uow(readonly=True) as uow:
        [p] = positions_of(uow, "A")
    assert (p.safety_stock, p.available) == (2, 3)
    assert sellable(world, "A") == 3


def test_channel_scoped_safety_stock_applies_to_that_channel_only(world: World) -> None:
    world.stock("DC-ATL", "A", 6)
    safety(world, "app-floor", 4, sku="A", channel="app")
    assert sellable(world, "A", "app") == 2
    assert sellable(world, "A", "web") == 6
    order = world.place(("A", 3), channel="app")
    assert line_counts(order)["allocated"] == 2


def test_fence_keeps_units_from_other_channels_only(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    fence(world, "mkt-share", 3, "marketplace", sku="A")
    assert sellable(world, "A", "web") == 2
    assert sellable(world, "A", "marketplace") == 5
    web = world.place(("A", 5))
    assert line_counts(web)["allocated"] == 2
    marketplace = world.place(("A", 3), channel="marketplace")
    assert line_counts(marketplace)["allocated"] == 3
    assert world.position("DC-ATL", "A").reserved == 5


def test_rule_removed_frees_the_units_for_the_next_decision(world: World) -> None:
    world.stock("DC-ATL", "A", 5)
    safety(world, "floor", 5)
    assert line_counts(world.place(("A", 1)))["allocated"] == 0
    stock_rules.remove_rule(world.ctx, "floor")
    assert line_counts(world.place(("A", 1)))["allocated"] == 1


def test_network_availability_counts_only_locations_the_channel_may_use(world: World) -> None:
    world.stock("DC-ATL", "A", 4)
    world.stock("ST-NY1", "A", 2)
    world.stock("ST-NY2", "A", 7)  # paused: never sold from
    [item] = availability(world.ctx, AvailabilityQuery(("A",), "web"))
    assert (item.available, item.locations) == (6, 2)
    assert [(p.location_id, p.available) for p in item.pickup] == [("ST-NY1", 2)]


def test_pickup_stores_within_the_radius_of_the_destination_nearest_first(world: World) -> None:
    world.stock("ST-NY1", "A", 2)
    world.stock("ST-CHI", "A", 3)
    near = availability(world.ctx, AvailabilityQuery(("A",), "web", destination=NYC))[0]
    assert [p.location_id for p in near.pickup] == ["ST-NY1"]
    wide = availability(
        world.ctx, AvailabilityQuery(("A",), "web", destination=NYC, radius_km=2000)
    )[0]
    assert [p.location_id for p in wide.pickup] == ["ST-NY1", "ST-CHI"]
    assert wide.pickup[0].distance_km is not None
    assert wide.pickup[0].distance_km < wide.pickup[1].distance_km  # type: ignore[operator]


def test_thresholds_emit_only_on_a_crossing(world: World) -> None:
    stock_rules.put_channel(world.ctx, ChannelSettings("web", (0, 5)))
    world.stock("DC-ATL", "A", 8)  # band: above 5
    world.place(("A", 1))  # 7: same band, nothing to tell
    world.place(("A", 2))  # 5: at or below 5
    world.place(("A", 5))  # 0: sold out
    told = [
        (e.data["sku"], e.data["available"], e.data["band"]) for e in availability_events(world)
    ]
    assert told == [("A", 8, 2), ("A", 5, 1), ("A", 0, 0)]


def test_unwatched_channels_get_no_availability_events(world: World) -> None:
    world.stock("DC-ATL", "A", 8)
    world.place(("A", 8))
    assert availability_events(world) == []


def test_a_bulk_count_tells_watched_channels_of_crossings(world: World) -> None:
    stock_rules.put_channel(world.ctx, ChannelSettings("web", (0, 5)))
    world.stock("DC-ATL", "A", 8)
    as_of = world.clock.now()
    rows = [CountRow(1, "DC-ATL", "A", 2, as_of), CountRow(2, "DC-ATL", "B", 7, as_of)]
    world.bus.handle(ImportSnapshot(lambda: [rows]))
    told = [(e.data["sku"], e.data["available"]) for e in availability_events(world)]
    assert told == [("A", 8), ("A", 2), ("B", 7)]
