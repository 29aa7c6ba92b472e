"""Source health: a check bounded in time, and the scheduled `source-health` job that checks
every source and records the result in the database, so that every instance behind the load
balancer shows IT operations the same health (issue 11)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from adapters.protocol import Adapter, Health
from gateway.db import is_sqlite, read_session, write_session
from gateway.logging_setup import redacted
from gateway.runtime import Runtime
from gateway.scheduler import ScheduledJob
from gateway.sources.models import SourceHealthRow

_DETAIL_CHARS = 500  # the column's width; a source's error text can be any length


async def check_within(adapter: Adapter, seconds: float) -> Health:
    """The adapter's own health check, cut off after `seconds`; a check that raises or does not
    answer in time is an unhealthy source, never an error of the caller."""
    try:
        return await asyncio.wait_for(adapter.check_health(), seconds)
    except TimeoutError:
        return Health(False, f"no answer to the health check within {seconds:g} s")
    except Exception as error:  # a broken plugin's health check is an unhealthy source
        return Health(False, type(error).__name__)


async def _checked(adapter: Adapter, *, seconds: float, by: str, at: datetime) -> SourceHealthRow:
    started = time.monotonic()
    health = await check_within(adapter, seconds)
    took_ms = round((time.monotonic() - started) * 1000, 1)
    return SourceHealthRow(
        source=adapter.config.name,
        ok=health.healthy,
        # A source's own words may quote a request; no CPR-like number is ever stored.
        detail=str(redacted(health.detail))[:_DETAIL_CHARS],
        latency_ms=health.latency_ms if health.latency_ms is not None else took_ms,
        checked_at=at,
        checked_by=by,
    )


async def check_every_source(*, runtime: Runtime) -> list[SourceHealthRow]:
    """Every configured source's health, all at once, each bounded by its own timeout (the
    one a view gives it), through the resilience layer like any other call."""
    now, by = runtime.clock.now(), runtime.settings.instance
    default = runtime.settings.source_timeout_seconds
    return list(
        await asyncio.gather(
            *(
                _checked(adapter, seconds=adapter.config.timeout or default, by=by, at=now)
                for adapter in runtime.adapters.values()
            )
        )
    )


def record_checks(*, engine: Engine, rows: list[SourceHealthRow]) -> None:
    """One row per source, replaced by each check (an upsert, so two instances checking the
    same source one after the other never collide on its key)."""
    if not rows:
        return
    dialect = sqlite if is_sqlite(engine) else postgresql
    values = [row.model_dump() for row in rows]
    statement = dialect.insert(SourceHealthRow).values(values)
    replaced = {column: statement.excluded[column] for column in values[0] if column != "source"}
    with write_session(engine) as session:
        session.execute(statement.on_conflict_do_update(index_elements=["source"], set_=replaced))


def last_checks(*, engine: Engine) -> dict[str, SourceHealthRow]:
    """The last scheduled check of each source, by name."""
    with read_session(engine) as session:
        return {row.source: row for row in session.exec(select(SourceHealthRow)).all()}


async def run_source_health(runtime: Runtime) -> None:
    rows = await check_every_source(runtime=runtime)
    await run_in_threadpool(record_checks, engine=runtime.engine, rows=rows)


# Once a minute: a source that went down shows as down on every instance within a minute,
# and the check costs each source one small request a minute.
SOURCE_HEALTH = ScheduledJob("source-health", timedelta(seconds=60), run_source_health)
