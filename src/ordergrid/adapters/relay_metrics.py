"""Prometheus figures of the event-stream relay: lag, events published, failures."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ordergrid.service.nats_relay import StreamRelay


class RelayCollector(Collector):
    """Read at each scrape: the lag from the database (whichever process relays), the
    counters from this process's relay."""

    def __init__(self, relay: StreamRelay) -> None:
        self.relay = relay

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        health = self.relay.health
        try:
            lag: float = self.relay.lag()
        except Exception:  # a scrape must answer while the database is down
            lag = float("nan")
        yield GaugeMetricFamily(
            "ordergrid_nats_relay_lag_events", "Outbox events not yet confirmed by NATS", lag
        )
        yield CounterMetricFamily(
            "ordergrid_nats_relay_published",
            "Events this process published to NATS",
            health.published,
        )
        yield CounterMetricFamily(
            "ordergrid_nats_relay_failures",
            "Failed publish rounds of this process",
            health.failures,
        )
        yield GaugeMetricFamily(
            "ordergrid_nats_relay_consecutive_failures",
            "Failed publish rounds since the last success (0: healthy)",
            health.consecutive_failures,
        )
