"""Scheduled jobs run once per period across instances, and /v1/keys publishes signing keys."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import KeySet
from sqlmodel import select
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.db import read_session
from gateway.runtime import Runtime
from gateway.scheduler import (
    JobRunner,
    RunClaim,
    ScheduledJob,
    begin_run,
    period_start,
    release_lease,
    take_lease,
)
from gateway.scheduler_models import JobRunRow
from gateway.scheduler_settings import SchedulerSettings
from gateway.settings import ConfigError
from tests.support import LiveGateway

_names = itertools.count()


def _job(run: Any, every: timedelta = timedelta(hours=1)) -> ScheduledJob:
    return ScheduledJob(f"test-job-{next(_names)}-{id(run)}", every, run)


def _with_scheduler(runtime: Runtime, **settings: Any) -> Runtime:
    scheduler = SchedulerSettings(**settings)
    return dataclasses.replace(
        runtime, settings=runtime.settings.model_copy(update={"scheduler": scheduler})
    )


def _runs(runtime: Runtime, job: str) -> list[JobRunRow]:
    with read_session(runtime.engine) as session:
        return list(session.exec(select(JobRunRow).where(JobRunRow.job == job)).all())


def test_one_lease_holder_at_a_time_until_it_lapses_or_is_released(gateway: LiveGateway) -> None:
    engine, now = gateway.runtime.engine, gateway.clock.now()
    lease = timedelta(minutes=1)
    job = f"test-job-{id(now)}"
    assert take_lease(engine=engine, job=job, holder="a", now=now, lease=lease)
    assert not take_lease(engine=engine, job=job, holder="b", now=now, lease=lease)
    assert take_lease(engine=engine, job=job, holder="a", now=now, lease=lease), "holder renews"
    later = now + timedelta(minutes=2)
    assert take_lease(engine=engine, job=job, holder="b", now=later, lease=lease), "lapsed"
    release_lease(engine=engine, job=job, holder="b", now=later)
    assert take_lease(engine=engine, job=job, holder="a", now=later, lease=lease)


def test_a_job_runs_only_on_the_instance_holding_its_lease(gateway: LiveGateway) -> None:
    ran: list[str] = []
    job = ScheduledJob(f"count-{id(ran)}", timedelta(hours=1), lambda _runtime: ran.append("x"))
    runner = JobRunner(gateway.runtime, [job])
    engine, other = gateway.runtime.engine, gateway.runtime.settings.instance + "-other"
    take_lease(
        engine=engine,
        job=job.name,
        holder=other,
        now=gateway.clock.now(),
        lease=timedelta(minutes=5),
    )
    assert asyncio.run(runner.run_once(job.name)) is False
    assert ran == []
    release_lease(engine=engine, job=job.name, holder=other, now=gateway.clock.now())
    assert asyncio.run(runner.run_once(job.name)) is True
    assert ran == ["x"]


def test_a_period_runs_once_however_many_instances_ask(gateway: LiveGateway) -> None:
    ran: list[str] = []
    job = _job(lambda _runtime: ran.append("x"))
    one, other = JobRunner(gateway.runtime, [job]), JobRunner(gateway.runtime, [job])
    period = period_start(gateway.clock.now(), job.every)
    assert asyncio.run(one.run_once(job.name, period=period)) is True
    assert asyncio.run(other.run_once(job.name, period=period)) is False, "the lease is free"
    assert asyncio.run(one.run_once(job.name, period=period)) is False
    assert asyncio.run(other.run_once(job.name, period=period + job.every)) is True
    assert ran == ["x", "x"]
    runs = _runs(gateway.runtime, job.name)
    assert sorted(r.period_start for r in runs) == [period, period + job.every]
    assert {r.outcome for r in runs} == {"ok"}
    assert len({r.instance for r in runs}) == 2, "each runner holds the lease under its own name"


def test_a_job_moves_to_another_instance_when_its_holder_dies(gateway: LiveGateway) -> None:
    ran: list[str] = []
    job = _job(lambda _runtime: ran.append("x"), every=timedelta(seconds=30))
    survivor, now = JobRunner(gateway.runtime, [job]), gateway.clock.now()
    lease = timedelta(seconds=gateway.runtime.settings.scheduler.lease_seconds)
    # An instance took the lease for a period and died mid-run: it never ends the run.
    claim = RunClaim(job.name, period_start(now, job.every), "schedule")
    assert begin_run(
        engine=gateway.runtime.engine, claim=claim, holder="dead", now=now, lease=lease
    )
    next_period = claim.period_start + job.every
    assert asyncio.run(survivor.run_once(job.name, period=next_period)) is False
    gateway.clock.offset = lease + timedelta(seconds=1)  # the dead holder's lease has lapsed
    assert asyncio.run(survivor.run_once(job.name, period=next_period)) is True
    assert ran == ["x"]
    by_period = {r.period_start: r for r in _runs(gateway.runtime, job.name)}
    assert by_period[claim.period_start].outcome == "running", "the cut-off run stays recorded"
    assert by_period[next_period].outcome == "ok"


def test_a_run_longer_than_its_lease_keeps_the_lease(gateway: LiveGateway) -> None:
    runtime = _with_scheduler(gateway.runtime, lease_seconds=0.6)
    job = _job(lambda _runtime: None)

    async def long_run(_runtime: Runtime) -> None:
        await asyncio.sleep(1.5)

    job = dataclasses.replace(job, run=long_run)
    holder, other = JobRunner(runtime, [job]), JobRunner(runtime, [job])
    period = period_start(runtime.clock.now(), job.every)

    async def both() -> tuple[bool, bool]:
        running = asyncio.create_task(holder.run_once(job.name, period=period))
        await asyncio.sleep(1.0)  # past the lease: only the renewal keeps it
        meanwhile = await other.run_once(job.name, period=period + job.every)
        return await running, meanwhile

    assert asyncio.run(both()) == (True, False)


def test_scheduled_jobs_run_at_their_periods(gateway: LiveGateway) -> None:
    """Jobs that do not run at start run at their first period (apscheduler adds a job paused
    when asked to with next_run_time=None: audit-retention never ran before this was fixed)."""
    ran: list[datetime] = []
    job = _job(lambda runtime: ran.append(runtime.clock.now()), every=timedelta(seconds=0.5))
    runner = JobRunner(_with_scheduler(gateway.runtime, periods={job.name: 0.5}), [job])

    async def for_a_while() -> None:
        runner.start()
        await asyncio.sleep(2.2)
        await runner.shutdown()

    asyncio.run(for_a_while())
    assert len(ran) >= 2
    periods = [r.period_start for r in _runs(gateway.runtime, job.name)]
    assert len(periods) == len(set(periods)) == len(ran)
    assert all(p == period_start(p, job.every) for p in periods), "aligned to the epoch"


def test_a_period_for_an_unknown_job_is_a_configuration_error(gateway: LiveGateway) -> None:
    runtime = _with_scheduler(gateway.runtime, periods={"expire-consent": 60})
    with pytest.raises(ConfigError, match="expire-consent"):
        JobRunner(runtime, [_job(lambda _runtime: None)])


def test_serve_refuses_a_period_for_an_unknown_job_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "helhed.toml"
    config.write_text('[scheduler]\nperiods = {"expire-consent" = 60}\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["serve", "--config", str(config)], env={"HELHED_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert str(config) in message
    assert "scheduler.periods: unknown jobs ['expire-consent']" in message


def test_periods_are_aligned_to_the_epoch_so_every_instance_names_them_alike() -> None:
    every = timedelta(minutes=15)
    start = datetime(2026, 12, 2, 14, 45, tzinfo=UTC)
    assert period_start(start + timedelta(minutes=14, seconds=59), every) == start
    assert period_start(start + every, every) == start + every
    assert period_start(
        datetime(2026, 12, 2, 14, 45, 0, 300_000, tzinfo=UTC), timedelta(seconds=1)
    ) == (datetime(2026, 12, 2, 14, 45, tzinfo=UTC))


def test_signing_keys_are_published_as_a_jwks(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    jwks: dict[str, Any] = gateway.http.get("/v1/keys").json()
    assert {key["helhed_use"] for key in jwks["keys"]} == {"receipt", "checkpoint"}
    for key in jwks["keys"]:
        assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
        assert "d" not in key, "never a private key"
    receipt_keys = KeySet.import_key_set(
        {"keys": [k for k in jwks["keys"] if k["helhed_use"] == "receipt"]}
    )
    signer = gateway.runtime.signing_keys.current("receipt")
    token = jws.serialize_compact(
        {"alg": "EdDSA", "kid": signer.kid}, b"hello", signer, algorithms=["EdDSA"]
    )
    verified = jws.deserialize_compact(token, receipt_keys, algorithms=["EdDSA"])
    assert verified.payload == b"hello"


def test_a_stopping_gateway_waits_for_the_job_that_is_running(gateway: LiveGateway) -> None:
    """A blocking job's thread that outlived its gateway used the database after the engine
    was disposed, and left a PostgreSQL connection that no pool would close."""
    finished: list[bool] = []
    began = threading.Event()

    def slow(runtime: Runtime) -> None:
        began.set()
        time.sleep(0.8)
        with read_session(runtime.engine) as session:  # the database, after the stop began
            session.exec(select(JobRunRow).limit(1)).all()
        finished.append(True)

    job = _job(slow, every=timedelta(seconds=0.5))
    runner = JobRunner(_with_scheduler(gateway.runtime, periods={job.name: 0.5}), [job])

    async def start_then_stop() -> None:
        runner.start()
        await asyncio.to_thread(began.wait, 10)
        await runner.shutdown()
        assert finished == [True], "shutdown returned while the job was still running"

    asyncio.run(start_then_stop())
    assert [r.outcome for r in _runs(gateway.runtime, job.name)] == ["ok"]
