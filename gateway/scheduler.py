"""Scheduled jobs: thin, declared in one list, and run by one gateway instance at a time.

A job names its period and calls one service function (STYLE.md §8). Every instance schedules
every job, at the same moments (periods are aligned to the Unix epoch). A run first takes the
job's lease (a row in `job_lease`) and records its period in `job_run` in the same transaction;
the unique (job, period start) there means a period runs once however many instances ask. The
running instance renews the lease while the job runs; if it dies, the lease lapses and the next
period runs elsewhere.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from gateway.db import write_session
from gateway.runtime import Runtime
from gateway.scheduler_models import JobLeaseRow, JobRunRow
from gateway.settings import ConfigError

logger = logging.getLogger("helhed.scheduler")
SHUTDOWN_WAIT_SECONDS = 30.0  # a stopping gateway waits this long for the jobs running

# Job runs are kept this long (the audit checkpoint alone records one a second).
KEEP_RUNS = timedelta(days=2)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every: timedelta
    run: Callable[[Runtime], Awaitable[None] | None]
    run_at_start: bool = False
    # A coroutine job still running after this long is cancelled, so that a hung run (a source
    # that never answers, say) does not keep every later period from running. A blocking job
    # cannot be stopped from outside its thread; it gets no limit, and no second thread.
    time_limit: timedelta = timedelta(minutes=10)


def period_start(now: datetime, every: timedelta) -> datetime:
    """The start of the period `now` falls in; the same on every instance (clocks in NTP sync)."""
    seconds = every.total_seconds()
    start = math.floor(round(now.timestamp(), 6) / seconds) * seconds
    return datetime.fromtimestamp(round(start, 6), UTC)


def _lease_in(session: Session, *, job: str, holder: str, now: datetime, lease: timedelta) -> bool:
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
    # The first run of this job anywhere; a concurrent first run makes this an IntegrityError.
    session.execute(insert(JobLeaseRow).values(name=job, holder=holder, expires_at=now + lease))
    return True


def take_lease(*, engine: Engine, job: str, holder: str, now: datetime, lease: timedelta) -> bool:
    """True when this holder may run the job now (or keeps it: renewal); the lease lapses by
    itself if the holder dies."""
    try:
        with write_session(engine) as session:
            return _lease_in(session, job=job, holder=holder, now=now, lease=lease)
    except IntegrityError:
        return False  # another instance created the lease first


def release_lease(*, engine: Engine, job: str, holder: str, now: datetime) -> None:
    with write_session(engine) as session:
        _release_in(session, job=job, holder=holder, now=now)


def _release_in(session: Session, *, job: str, holder: str, now: datetime) -> None:
    session.execute(
        update(JobLeaseRow)
        .where(JobLeaseRow.name == job)
        .where(JobLeaseRow.holder == holder)
        .values(expires_at=now)
    )


class _NotThisTime(Exception):
    """Rolls back a lease taken for a period that has run already."""


@dataclass(frozen=True)
class RunClaim:
    job: str
    period_start: datetime
    trigger: str  # "schedule": the period's run; "manual": run now, outside the periods


def begin_run(
    *, engine: Engine, claim: RunClaim, holder: str, now: datetime, lease: timedelta
) -> int | None:
    """Take the lease and record the run, in one transaction; the run's id, or None when
    another instance holds the lease or this period has run already."""
    try:
        with write_session(engine) as session:
            if not _lease_in(session, job=claim.job, holder=holder, now=now, lease=lease):
                raise _NotThisTime
            ran = session.execute(
                select(JobRunRow.id)
                .where(JobRunRow.job == claim.job)
                .where(JobRunRow.period_start == claim.period_start)
            ).first()
            if ran is not None:
                raise _NotThisTime
            row = JobRunRow(
                job=claim.job,
                period_start=claim.period_start,
                trigger=claim.trigger,
                instance=holder,
                started_at=now,
                outcome="running",
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id
    except (_NotThisTime, IntegrityError):  # IntegrityError: a concurrent claim won the race
        return None


def end_run(
    *, engine: Engine, run_id: int, job: str, holder: str, outcome: str, now: datetime
) -> None:
    """Record how the run ended, hand the lease back and forget runs older than KEEP_RUNS."""
    with write_session(engine) as session:
        session.execute(
            update(JobRunRow).where(JobRunRow.id == run_id).values(finished_at=now, outcome=outcome)
        )
        _release_in(session, job=job, holder=holder, now=now)
        session.execute(
            delete(JobRunRow)
            .where(JobRunRow.job == job)
            .where(JobRunRow.period_start < now - KEEP_RUNS)
        )


def configured_jobs(runtime: Runtime, jobs: list[ScheduledJob]) -> dict[str, ScheduledJob]:
    """The jobs with the periods `[scheduler] periods` sets instead of their own."""
    periods = runtime.settings.scheduler.periods
    names = {job.name for job in jobs}
    unknown = sorted(set(periods) - names)
    if unknown:
        raise ConfigError(f"scheduler.periods: unknown jobs {unknown}; jobs are {sorted(names)}")
    return {
        job.name: replace(job, every=timedelta(seconds=periods[job.name]))
        if job.name in periods
        else job
        for job in jobs
    }


def _offset(job: ScheduledJob) -> timedelta:
    """Every instance fires a moment after each period starts, not at its very start, so that
    a little clock skew between instances does not make one of them name the period before."""
    return min(job.every * 0.1, timedelta(seconds=1))


class JobRunner:
    """Runs the jobs on the gateway's own event loop."""

    def __init__(self, runtime: Runtime, jobs: list[ScheduledJob]) -> None:
        self._runtime = runtime
        self._jobs = configured_jobs(runtime, jobs)
        self._lease = timedelta(seconds=runtime.settings.scheduler.lease_seconds)
        # The lease holder is this runner, not just the instance name: two processes given the
        # same name (`--workers`, a copied HELHED_INSTANCE) still never share a lease.
        self._holder = f"{runtime.settings.instance}/{uuid.uuid4().hex[:12]}"
        self._scheduler: AsyncIOScheduler | None = None
        self._in_flight: set[asyncio.Future[bool]] = set()

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        now = datetime.now(UTC)
        for job in self._jobs.values():
            # apscheduler adds a job paused when given next_run_time=None: give it only to
            # jobs that start at once, so that the others run at their first period.
            first_run = {"next_run_time": now} if job.run_at_start else {}
            self._scheduler.add_job(
                self._tick,
                IntervalTrigger(
                    seconds=job.every.total_seconds(),
                    start_date=period_start(now, job.every) + _offset(job),
                ),
                args=[job.name],
                id=job.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,  # a busy event loop runs a late tick, never drops it
                **first_run,
            )
        self._scheduler.start()

    async def shutdown(self) -> None:
        """Schedule nothing more, then let the runs in flight end (bounded): a blocking job's
        thread that outlived the gateway would use its database after the engine is disposed,
        and leave a connection no pool closes."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=SHUTDOWN_WAIT_SECONDS)

    async def _tick(self, name: str) -> None:
        job = self._jobs[name]
        # The period this tick was scheduled for, even when a busy event loop runs it late.
        fired_for = self._runtime.clock.now() - _offset(job)
        run = asyncio.ensure_future(self.run_once(name, period=period_start(fired_for, job.every)))
        self._in_flight.add(run)
        run.add_done_callback(self._in_flight.discard)
        # apscheduler's shutdown cancels the ticks it started; the run itself must go on to its
        # end (a blocking job's thread cannot be stopped anyway), and shutdown() waits for it.
        await asyncio.shield(run)

    async def run_once(self, name: str, *, period: datetime | None = None) -> bool:
        """Run one job now if this instance gets its lease (and, for a period, if the period
        has not run); False when not. Without a period it is a manual run (tests, operators)."""
        job, runtime = self._jobs[name], self._runtime
        engine, holder, now = runtime.engine, self._holder, runtime.clock.now()
        claim = RunClaim(name, period or now, "schedule" if period else "manual")
        run_id = await run_in_threadpool(
            begin_run, engine=engine, claim=claim, holder=holder, now=now, lease=self._lease
        )
        if run_id is None:
            return False
        outcome = "failed"
        try:
            outcome = await self._run_renewing_lease(job)
        finally:
            runtime.metrics.job_runs.labels(name, outcome).inc()
            await run_in_threadpool(
                end_run,
                engine=engine,
                run_id=run_id,
                job=name,
                holder=holder,
                outcome=outcome,
                now=runtime.clock.now(),
            )
        return True

    async def _run_renewing_lease(self, job: ScheduledJob) -> str:
        renewing = asyncio.create_task(self._renew(job.name))
        try:
            if inspect.iscoroutinefunction(job.run):
                await asyncio.wait_for(job.run(self._runtime), job.time_limit.total_seconds())
            else:  # a blocking job must not stall the requests on this event loop
                result = await run_in_threadpool(job.run, self._runtime)
                if inspect.isawaitable(result):
                    await result
            return "ok"
        except TimeoutError:
            logger.error(
                "scheduled job %s ran past its %s limit and was stopped", job.name, job.time_limit
            )
            return "failed"
        except Exception:
            logger.exception("scheduled job %s failed", job.name)
            return "failed"
        finally:
            # Wait for a renewal in flight, so that it cannot take the lease back after the
            # run has handed it back.
            renewing.cancel()
            with suppress(asyncio.CancelledError):
                await renewing

    async def _renew(self, name: str) -> None:
        runtime = self._runtime
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                kept = await run_in_threadpool(
                    take_lease,
                    engine=runtime.engine,
                    job=name,
                    holder=self._holder,
                    now=runtime.clock.now(),
                    lease=self._lease,
                )
            except SQLAlchemyError as error:
                kept = False
                logger.warning("could not renew the lease of %s: %s", name, type(error).__name__)
            if not kept:
                # Another instance may start the next period; this one's period stays its own.
                logger.warning("scheduled job %s outlived its lease", name)
