"""Prometheus metrics. Labels name sources and outcomes, never a citizen."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        # A registry per app, so several gateways in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.views = Counter(
            "helhed_views_total", "Citizen views answered", ["outcome"], registry=self.registry
        )
        self.source_calls = Counter(
            "helhed_source_calls_total",
            "Calls to department sources by result",
            ["source", "result"],
            registry=self.registry,
        )
        self.source_latency = Histogram(
            "helhed_source_latency_seconds",
            "Latency of calls to department sources",
            ["source"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5),
        )
        self.fragments_dropped = Counter(
            "helhed_fragments_dropped_total",
            "Fragments a source returned that the gateway refused to pass on",
            ["source", "reason"],
            registry=self.registry,
        )
        self.log_appends = Counter(
            "helhed_access_log_appends_total",
            "Access-log entries written, by result",
            ["result"],
            registry=self.registry,
        )
