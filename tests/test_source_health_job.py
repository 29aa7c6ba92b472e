"""The scheduled `source-health` job: every source checked on one instance, the result in the
database, and the same health shown by every instance behind the load balancer (issue 11)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from adapters.protocol import FetchRequest, FetchResult, Health, SourceConfig
from adapters.resilience import Resilient
from demo.sources import SOURCE_NAMES, source_configs
from demo.systems import SystemsInThread
from demo.systems.server import DepartmentSystem
from gateway.auth.actor import Actor
from gateway.db import read_session
from gateway.scheduler import period_start
from gateway.scheduler_models import JobRunRow
from gateway.sources.health import check_every_source, last_checks, record_checks
from gateway.sources.models import SourceHealthRow
from tests.oidc import page_session
from tests.support import LiveGateway, live_gateway
from tests.test_ops_metrics import scrape

JOB = "source-health"
STOPPED = "adult-social"  # SOAP; any system would do
# A day: the scheduler's own runs (at each period's start) keep out of the periods run here.
DAY = 86_400


@pytest.fixture(scope="module")
def own_systems() -> Iterator[SystemsInThread]:
    """Systems of this module's own, so that stopping one disturbs no other test."""
    with SystemsInThread() as running:
        yield running


@pytest.fixture(scope="module")
def pair(
    new_database: Callable[[], str],
    own_systems: SystemsInThread,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveGateway, LiveGateway]]:
    """Two gateway instances on one database, as behind a load balancer."""
    database, sources = new_database(), source_configs(own_systems.systems)
    settings: dict[str, Any] = {"scheduler": {"periods": {JOB: DAY}}}
    home = tmp_path_factory.mktemp("home")
    with (
        live_gateway(home, database, sources, instance="gateway-a", **settings) as one,
        live_gateway(home, database, sources, instance="gateway-b", **settings) as other,
    ):
        yield one, other


@contextmanager
def stopped(systems: SystemsInThread, system: DepartmentSystem) -> Iterator[None]:
    """The system is down (its port refuses connections), then back on the same port."""
    port = int(system.base_url.rsplit(":", 1)[1])
    systems.run(system.stop())
    try:
        yield
    finally:
        systems.run(system.start("127.0.0.1", port))


def _sources(gateway: LiveGateway) -> dict[str, dict[str, Any]]:
    assert gateway.http is not None
    response = gateway.http.get("/v1/sources", headers=gateway.headers("itops", None))
    assert response.status_code == 200, response.text
    return {source["name"]: source for source in response.json()["sources"]}


def _checks(gateway: LiveGateway) -> dict[str, SourceHealthRow]:
    """The recorded checks of the configured sources (a test here records other sources)."""
    recorded = last_checks(engine=gateway.runtime.engine)
    return {name: recorded[name] for name in SOURCE_NAMES.values() if name in recorded}


def _up(gateway: LiveGateway) -> dict[str, bool]:
    """helhed_source_up per source, as Prometheus scrapes it."""
    samples, _ = scrape(gateway)
    return {
        dict(labels)["source"]: bool(up)
        for (name, labels), up in samples.items()
        if name == "helhed_source_up"
    }


def _systems_page(gateway: LiveGateway) -> str:
    """IT operations' systems page, in English."""
    itops = Actor(
        subject="web-itops",
        name="Ib Thomsen",
        department=None,
        roles=("itops",),
        issuer="urn:helhed:dev-issuer",
        token_id=None,
    )
    cookies, _csrf = page_session(gateway, itops)
    cookies["helhed_lang"] = "en"
    with httpx.Client(base_url=gateway.base_url, cookies=cookies, timeout=30) as browser:
        page = browser.get("/sources")
    assert page.status_code == 200
    return page.text


def _runs(gateway: LiveGateway) -> list[JobRunRow]:
    with read_session(gateway.runtime.engine) as session:
        return list(session.exec(select(JobRunRow).where(JobRunRow.job == JOB)).all())


def test_the_job_records_every_source_and_every_instance_shows_it(
    pair: tuple[LiveGateway, LiveGateway], own_systems: SystemsInThread
) -> None:
    one, other = pair
    assert one.run_job(JOB) is True
    checks = _checks(one)
    assert set(checks) == set(SOURCE_NAMES.values())
    assert all(check.ok and check.checked_by == "gateway-a" for check in checks.values()), checks

    down = SOURCE_NAMES[STOPPED]
    with stopped(own_systems, own_systems[STOPPED]):
        assert other.run_job(JOB) is True
        checks = _checks(one)
        assert not checks[down].ok
        assert checks[down].detail, "says why it is down"
        assert {name for name, check in checks.items() if check.ok} == set(
            SOURCE_NAMES.values()
        ) - {down}
        assert {check.checked_by for check in checks.values()} == {"gateway-b"}

        # The instance that did not run the check shows it, exactly as the one that did.
        seen_by_one, seen_by_other = _sources(one), _sources(other)
        for name in SOURCE_NAMES.values():
            assert seen_by_one[name]["last_check"] == seen_by_other[name]["last_check"]
            assert seen_by_one[name]["last_checked_at"] == seen_by_other[name]["last_checked_at"]
        assert seen_by_one[down]["last_check"]["healthy"] is False
        assert seen_by_one[down]["health"]["healthy"] is False, "health asked now, as before"
        jobcenter = seen_by_one[SOURCE_NAMES["jobcenter"]]
        assert jobcenter["last_check"]["healthy"] is True
        assert jobcenter["last_check"]["checked_by"] == "gateway-b"
        assert jobcenter["last_check"]["latency_ms"] >= 0
        assert _up(one) == {name: name != down for name in SOURCE_NAMES.values()}
        page = _systems_page(one)
        assert page.count("gateway-b") == len(SOURCE_NAMES), "each row names who checked"
        assert '<span class="bad">down</span>: ' in page

    assert one.run_job(JOB) is True, "back up"
    assert _checks(one)[down].ok
    assert _up(other) == dict.fromkeys(SOURCE_NAMES.values(), True)


def test_two_instances_on_one_database_run_each_period_once(
    pair: tuple[LiveGateway, LiveGateway],
) -> None:
    one, other = pair
    period = period_start(one.clock.now(), timedelta(seconds=DAY))
    # Both instances' schedulers fire for the period at once.
    asked = [one.submit_job(JOB, period=period), other.submit_job(JOB, period=period)]
    assert sorted(future.result(timeout=60) for future in asked) == [False, True]
    assert one.run_job(JOB, period=period) is False
    assert other.run_job(JOB, period=period) is False
    runs = [run for run in _runs(one) if run.period_start == period]
    assert len(runs) == 1
    assert runs[0].outcome == "ok"
    winner = runs[0].instance.split("/")[0]
    checked_by = {check.checked_by for check in _checks(one).values()}
    assert checked_by == {winner}

    following = period + timedelta(seconds=DAY)
    assert other.run_job(JOB, period=following) is True, "the next period is anyone's"
    scheduled = sorted(r.period_start for r in _runs(one) if r.trigger == "schedule")
    assert scheduled == [period, following]


class _ThirdPartyKind:
    """A plugin's adapter whose health check hangs, or answers in words that quote a CPR."""

    def __init__(self, name: str, *, hangs: bool, timeout: float | None = None) -> None:
        self.config = SourceConfig(
            name=name, kind="plugin", department="health", categories=["health"], timeout=timeout
        )
        self._hangs = hangs

    async def fetch(self, request: FetchRequest) -> FetchResult:
        raise AssertionError("a health check fetches nothing")

    async def check_health(self) -> Health:
        if self._hangs:
            await asyncio.sleep(3600)
        return Health(False, "HTTP 500: no case for 010190-1234 (0101901234)")

    async def aclose(self) -> None:
        return None


def test_a_hanging_check_is_cut_off_at_the_source_timeout_and_no_cpr_is_stored(
    pair: tuple[LiveGateway, LiveGateway],
) -> None:
    one, _ = pair
    adapters = {
        "plugin-hangs": Resilient(_ThirdPartyKind("plugin-hangs", hangs=True, timeout=0.3)),
        "plugin-quotes": Resilient(_ThirdPartyKind("plugin-quotes", hangs=False)),
    }
    runtime = dataclasses.replace(one.runtime, adapters=adapters)
    started = time.monotonic()
    rows = asyncio.run(check_every_source(runtime=runtime))
    assert time.monotonic() - started < 10, "bounded by the source's timeout, not the job's"
    record_checks(engine=runtime.engine, rows=rows)
    checks = last_checks(engine=runtime.engine)
    hangs, quotes = checks["plugin-hangs"], checks["plugin-quotes"]
    assert not hangs.ok
    assert hangs.detail == "no answer to the health check within 0.3 s"
    assert not quotes.ok
    assert quotes.detail == "HTTP 500: no case for [CPR] ([CPR])"
    assert "1234" not in repr(quotes)


def test_without_the_recorded_checks_the_sources_still_show_their_health_now(
    pair: tuple[LiveGateway, LiveGateway],
) -> None:
    one, _ = pair
    engine = one.runtime.engine
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE source_health RENAME TO source_health_away"))
    try:
        listed = _sources(one)
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE source_health_away RENAME TO source_health"))
    assert set(listed) == set(SOURCE_NAMES.values())
    assert all(source["last_check"] is None for source in listed.values())
    assert all(source["health"]["healthy"] for source in listed.values())
