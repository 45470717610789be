"""Stock rules, channel settings and availability bands: the same contract in memory,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from tests.integration.conftest import wire

from ordergrid.adapters.memory.uow import InMemoryStore
from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.inventory import Movement, MovementReason
from ordergrid.domain.stock_rules import RuleKind, RuleScope, StockRule
from ordergrid.service.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[Factory]:
    if request.param == "memory":
        yield InMemoryStore().unit_of_work
        return
    url: str = request.getfixturevalue(
        f"{'sqlite' if request.param == 'sqlite' else 'postgres'}_url"
    )
    application = wire(url)
    yield application.ctx.uow
    application.close()


SAFETY = RuleKind.SAFETY_STOCK


def test_rules_round_trip_replace_and_remove(uow: Factory) -> None:
    tag_rule = StockRule("b-tag", SAFETY, RuleScope(sku_tag="fragile", location_type="store"), 2)
    fence = StockRule(
        "a-fence", RuleKind.CHANNEL_FENCE, RuleScope(channel="mkt", sku="A"), None, 0.25
    )
    with uow() as u:
        assert u.stock_rules.put(tag_rule) is True
        assert u.stock_rules.put(fence) is True
        u.commit()
    with uow() as u:
        assert u.stock_rules.all() == [fence, tag_rule]
        assert u.stock_rules.get("a-fence") == fence
        assert (
            u.stock_rules.put(StockRule("b-tag", SAFETY, RuleScope(sku_tag="fragile"), 5)) is False
        )
        u.commit()
    with uow() as u:
        replaced = u.stock_rules.get("b-tag")
        assert replaced is not None
        assert (replaced.quantity, replaced.scope.location_type) == (5, None)
        assert u.stock_rules.remove("b-tag") is True
        assert u.stock_rules.remove("b-tag") is False
        u.commit()
    with uow() as u:
        assert [r.id for r in u.stock_rules.all()] == ["a-fence"]


def test_covering_returns_rules_of_these_skus_and_those_of_none(uow: Factory) -> None:
    rules = [
        StockRule("for-a", SAFETY, RuleScope(sku="A"), 1),
        StockRule("for-b", SAFETY, RuleScope(sku="B"), 1),
        StockRule("by-tag", SAFETY, RuleScope(sku_tag="x"), 1),
        StockRule("everywhere", SAFETY, RuleScope(location_id="DC1"), 1),
    ]
    with uow() as u:
        for r in rules:
            u.stock_rules.put(r)
        u.commit()
    with uow() as u:
        assert [r.id for r in u.stock_rules.covering(["A", "C"])] == [
            "by-tag",
            "everywhere",
            "for-a",
        ]


def test_channels_and_bands(uow: Factory) -> None:
    with uow() as u:
        assert u.channels.put(ChannelSettings("web", (0, 5))) is True
        assert u.channels.put(ChannelSettings("app")) is True
        u.channels.set_bands("web", {"A": 2, "B": 0})
        u.commit()
    with uow() as u:
        assert [c.channel for c in u.channels.watched()] == ["web"]
        assert u.channels.put(ChannelSettings("web", (0, 5, 20), 10.0)) is False
        u.channels.set_bands("web", {"A": 1})
        u.commit()
    with uow() as u:
        assert u.channels.get("web") == ChannelSettings("web", (0, 5, 20), 10.0)
        assert [c.channel for c in u.channels.all()] == ["app", "web"]
        assert u.channels.bands("web", ["A", "B", "C"]) == {"A": 1, "B": 0}
        assert u.channels.bands("app", ["A"]) == {}


def test_reservation_leaves_what_it_must_keep(uow: Factory) -> None:
    """The check runs on the locked row, so a concurrent writer cannot take kept units."""
    receipt = Movement("DC1", "A", 10, 0, MovementReason.RECEIPT, "r1")
    with uow() as u:
        u.inventory.move(receipt)
        u.commit()
    with uow() as u:
        assert u.inventory.reserve("DC1", "A", 7, keep=4) is None
        held = u.inventory.reserve("DC1", "A", 6, keep=4)
        assert held is not None
        assert held.reserved == 6
        assert u.inventory.reserve("DC1", "A", 1, keep=4) is None
        u.commit()
