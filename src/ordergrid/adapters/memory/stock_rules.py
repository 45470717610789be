"""In-memory stock rules and channel settings (values are frozen: no copies needed)."""

from __future__ import annotations

from collections.abc import Iterable

from ordergrid.adapters.memory.tables import _Repo
from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.stock_rules import StockRule


class InMemoryStockRules(_Repo):
    def put(self, rule: StockRule) -> bool:
        created = rule.id not in self._t.stock_rules
        self._t.stock_rules[rule.id] = rule
        return created

    def get(self, rule_id: str) -> StockRule | None:
        return self._t.stock_rules.get(rule_id)

    def remove(self, rule_id: str) -> bool:
        return self._t.stock_rules.pop(rule_id, None) is not None

    def all(self) -> list[StockRule]:
        return [self._t.stock_rules[k] for k in sorted(self._t.stock_rules)]

    def covering(self, skus: Iterable[str]) -> list[StockRule]:
        wanted = set(skus)
        return [r for r in self.all() if r.scope.sku is None or r.scope.sku in wanted]


class InMemoryChannels(_Repo):
    def put(self, settings: ChannelSettings) -> bool:
        created = settings.channel not in self._t.channels
        self._t.channels[settings.channel] = settings
        return created

    def get(self, channel: str) -> ChannelSettings | None:
        return self._t.channels.get(channel)

    def all(self) -> list[ChannelSettings]:
        return [self._t.channels[k] for k in sorted(self._t.channels)]

    def watched(self) -> list[ChannelSettings]:
        return [c for c in self.all() if c.availability_thresholds]

    def bands(self, channel: str, skus: Iterable[str]) -> dict[str, int]:
        found = ((sku, self._t.bands.get((channel, sku))) for sku in set(skus))
        return {sku: b for sku, b in found if b is not None}

    def set_bands(self, channel: str, bands: dict[str, int]) -> None:
        for sku, b in bands.items():
            self._t.bands[(channel, sku)] = b
