"""Gauges computed at scrape time: the access log's state in the database and the breakers."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from adapters.resilience import BreakerState, Resilient
from gateway.access_log.models import CheckpointRow, LogHeadRow
from gateway.ops.metrics import breaker_gauge, log_gauges, source_up_gauge
from gateway.runtime import Runtime
from gateway.sources.models import SourceHealthRow

_HEAD = select(col(LogHeadRow.size)).where(col(LogHeadRow.id) == 1)
_LATEST_CHECKPOINT = (
    select(col(CheckpointRow.size), col(CheckpointRow.at))
    .order_by(col(CheckpointRow.size).desc())
    .limit(1)
)
_SOURCE_UP = select(col(SourceHealthRow.source), col(SourceHealthRow.ok))


def live_metrics(runtime: Runtime) -> Iterator[Metric]:
    """What is true now; two indexed reads and one row per source, so a scrape every few
    seconds costs nothing."""
    try:
        with runtime.engine.connect() as connection:
            size = connection.execute(_HEAD).scalar_one_or_none()
            checkpoint = connection.execute(_LATEST_CHECKPOINT).one_or_none()
            checked: dict[str, bool] = dict(connection.execute(_SOURCE_UP).all())
    except SQLAlchemyError:
        size, checkpoint, checked, up = None, None, {}, 0.0
    else:
        up = 1.0
    yield GaugeMetricFamily("helhed_database_up", "1 when the database answered", value=up)
    if size is not None:
        yield from log_gauges(
            now=runtime.clock.now(),
            size=int(size),
            checkpoint_size=checkpoint.size if checkpoint else 0,
            checkpoint_at=checkpoint.at if checkpoint else None,
        )
    states = {
        name: adapter.breaker.state.value
        for name, adapter in runtime.adapters.items()
        if isinstance(adapter, Resilient)
    }
    yield breaker_gauge(states, [state.value for state in BreakerState])
    # Sources no longer configured keep their last row; only the configured ones are shown.
    yield source_up_gauge({name: checked[name] for name in runtime.adapters if name in checked})
