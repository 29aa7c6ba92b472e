"""Scheduled jobs: thin, declared in one list, and run by one gateway instance at a time.

A job names its period and calls one service function (STYLE.md §8). Every instance schedules
every job, but a run first takes the job's lease in the database (a row in `job_lease`), so
with many instances on one PostgreSQL database each run happens once.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from gateway.db import write_session
from gateway.runtime import Runtime
from gateway.scheduler_models import JobLeaseRow

logger = logging.getLogger("helhed.scheduler")


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every: timedelta
    run: Callable[[Runtime], Awaitable[None] | None]
    run_at_start: bool = False

    @property
    def lease(self) -> timedelta:
        return max(self.every * 2, timedelta(seconds=60))


def take_lease(*, engine: Engine, job: str, holder: str, now: datetime, lease: timedelta) -> bool:
    """True when this holder may run the job now; the lease lapses by itself if it dies."""
    with write_session(engine) as session:
        taken = session.execute(
            update(JobLeaseRow)
            .where(JobLeaseRow.name == job)
            .where((JobLeaseRow.expires_at <= now) | (JobLeaseRow.holder == holder))
            .values(holder=holder, expires_at=now + lease)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
        exists = session.execute(select(JobLeaseRow.name).where(JobLeaseRow.name == job)).first()
        if exists is not None:
            return False
    try:
        with write_session(engine) as session:
            session.execute(
                insert(JobLeaseRow).values(name=job, holder=holder, expires_at=now + lease)
            )
        return True
    except IntegrityError:
        return False  # another instance created it first


def release_lease(*, engine: Engine, job: str, holder: str, now: datetime) -> None:
    with write_session(engine) as session:
        session.execute(
            update(JobLeaseRow)
            .where(JobLeaseRow.name == job)
            .where(JobLeaseRow.holder == holder)
            .values(expires_at=now)
        )


class JobRunner:
    """Runs the jobs on the gateway's own event loop."""

    def __init__(self, runtime: Runtime, jobs: list[ScheduledJob]) -> None:
        self._runtime = runtime
        self._jobs = {job.name: replace(job, run=runtime.metrics.counted(job)) for job in jobs}
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        for job in self._jobs.values():
            self._scheduler.add_job(
                self.run_once,
                IntervalTrigger(seconds=job.every.total_seconds()),
                args=[job.name],
                id=job.name,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now().astimezone() if job.run_at_start else None,
            )
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def run_once(self, name: str) -> bool:
        """Run one job now if this instance gets its lease; False when another has it."""
        job, runtime = self._jobs[name], self._runtime
        engine, holder, now = runtime.engine, runtime.settings.instance, runtime.clock.now()
        if not await run_in_threadpool(
            take_lease, engine=engine, job=name, holder=holder, now=now, lease=job.lease
        ):
            return False
        try:
            result = job.run(runtime)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("scheduled job %s failed", name)
        finally:
            await run_in_threadpool(
                release_lease,
                engine=engine,
                job=name,
                holder=holder,
                now=runtime.clock.now(),
            )
        return True
