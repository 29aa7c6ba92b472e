"""Prometheus metrics. Labels name routes, sources and outcomes, never a citizen (rule 5).

Two kinds: counters and histograms that the code moves as things happen (per process), and
gauges read at scrape time from what is true now (the access log's head and checkpoints in
the database, each source's circuit breaker). With several worker processes, set
PROMETHEUS_MULTIPROC_DIR (see `multiprocess_dir`): the counters of every worker are then summed
on each scrape, whichever worker answers it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

# Every access-log append of the process, whichever code path wrote it: module-level, because
# the log's writers (the group committer, audited writes) serve every app of the process.
LOG_APPENDS = Counter(
    "helhed_access_log_appends_total",
    "Access-log appends (entries written, or a write that failed and released nothing)",
    ["outcome"],
    registry=None,
)

UNMATCHED_ROUTE = "<unmatched>"


class Metrics:
    def __init__(self) -> None:
        # A registry per app, so several gateways in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "helhed_http_requests_total",
            "HTTP requests by route template (never the raw path), method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "helhed_http_request_duration_seconds",
            "Time to answer HTTP requests, by route template and method",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.views = Counter(
            "helhed_views_total",
            "Citizen views by outcome: success, denied (refused and logged), log_unavailable",
            ["outcome"],
            registry=self.registry,
        )
        self.source_calls = Counter(
            "helhed_source_calls_total",
            "Calls to department sources by result",
            ["source", "result"],
            registry=self.registry,
        )
        self.source_errors = Counter(
            "helhed_source_errors_total",
            "Failed calls to department sources, by error kind (timeout, circuit_open, ...)",
            ["source", "kind"],
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
        self.job_runs = Counter(
            "helhed_scheduler_runs_total",
            "Scheduled job runs on this instance, by outcome (ok, failed)",
            ["job", "outcome"],
            registry=self.registry,
        )
        self.log_appends = LOG_APPENDS
        self._children: dict[tuple[Counter | Histogram, tuple[str, ...]], Any] = {}

    def child(self, metric: Counter | Histogram, *values: str) -> Any:
        """`metric.labels(*values)`, kept: labels() checks the values and takes a lock on every
        call, some ten times a view, and gives the same child every time. Only for labels of
        bounded variety (sources, route templates, outcomes), as every label must be anyway."""
        key = (metric, values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    def source_failed(self, source: str, kind: str) -> None:
        self.child(self.source_calls, source, kind).inc()
        self.child(self.source_errors, source, kind).inc()


def multiprocess_dir() -> str | None:
    """The folder prometheus_client shares between worker processes, if it is in use."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def prepare_multiprocess_dir(home: Path) -> Path:
    """For `serve --workers N`, before the workers start: PROMETHEUS_MULTIPROC_DIR (the
    operator's, or `<home>/metrics`), emptied of a previous run's files, in the environment
    the workers inherit. prometheus_client decides at import whether values live in memory or
    in files there, so it must be set before a worker imports it."""
    folder = Path(multiprocess_dir() or home / "metrics")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


class _Yields:
    """A collector made of a function: what it yields is collected on every scrape."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self.collect = collect


def scrape_registry(metrics: Metrics, live: Callable[[], Iterable[Metric]]) -> CollectorRegistry:
    """One scrape's registry: this process's (or, in multiprocess mode, every worker's)
    counters and histograms, plus the gauges computed now."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_Yields(metrics.registry.collect))
        registry.register(LOG_APPENDS)
    registry.register(_Yields(live))
    return registry


def log_gauges(
    *, now: datetime, size: int, checkpoint_size: int, checkpoint_at: datetime | None
) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "helhed_access_log_entries", "Entries in the access log (all instances)", value=size
    )
    yield GaugeMetricFamily(
        "helhed_access_log_unsigned_entries",
        "Entries not yet covered by a signed checkpoint",
        value=max(size - checkpoint_size, 0),
    )
    if checkpoint_at is not None:
        yield GaugeMetricFamily(
            "helhed_access_log_checkpoint_age_seconds",
            "Seconds since the latest signed checkpoint",
            value=max((now - checkpoint_at).total_seconds(), 0.0),
        )


def breaker_gauge(states: dict[str, str], all_states: list[str]) -> Metric:
    family = GaugeMetricFamily(
        "helhed_source_breaker_state",
        "1 for each source's current circuit-breaker state (in the answering process)",
        labels=["source", "state"],
    )
    for source, current in states.items():
        for state in all_states:
            family.add_metric([source, state], 1.0 if state == current else 0.0)
    return family


def source_up_gauge(up: dict[str, bool]) -> Metric:
    family = GaugeMetricFamily(
        "helhed_source_up",
        "1 when the last scheduled health check (the source-health job, on any instance) "
        "found the source healthy, 0 when not; absent before its first check",
        labels=["source"],
    )
    for source, healthy in up.items():
        family.add_metric([source], 1.0 if healthy else 0.0)
    return family
