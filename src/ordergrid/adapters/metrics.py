"""Prometheus metrics: HTTP requests, sourcing decisions and orders by status."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _OrdersByStatus(Collector):
    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self.count = count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("ordergrid_orders", "Orders by status", labels=["status"])
        for status, n in sorted(self.count().items()):
            family.add_metric([status], n)
        yield family


class Metrics:
    """One registry per application (no global state shared between test apps)."""

    def __init__(self, orders_by_status: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ordergrid_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ordergrid_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "ordergrid_sourcing_decisions",
            "Sourcing decisions by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.decision_seconds = Histogram(
            "ordergrid_sourcing_decision_seconds",
            "Time the engine took per decision",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_OrdersByStatus(orders_by_status))

    def decision_made(self, outcome: str, elapsed_ms: float) -> None:
        self.decisions.labels(outcome).inc()
        self.decision_seconds.observe(elapsed_ms / 1000)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
