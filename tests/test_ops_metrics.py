"""GET /metrics over HTTP: the numbers move with what the gateway does, and name no citizen."""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from demo.sources import source_configs
from demo.systems import SystemsInThread
from gateway.logging_setup import looks_like_cpr
from gateway.ops.metrics import prepare_multiprocess_dir
from gateway.scheduler import JobRunner, ScheduledJob
from tests.builders import consent_body
from tests.conftest import SAMPLE
from tests.support import LiveGateway, live_gateway

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape_over(http: httpx.Client) -> tuple[Samples, str]:
    response = http.get("/metrics")  # no token: Prometheus scrapes without one
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return samples, response.text


def scrape(gateway: LiveGateway) -> tuple[Samples, str]:
    assert gateway.http is not None
    return scrape_over(gateway.http)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_views_requests_and_log_appends_are_counted_and_no_cpr_is_shown(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    before, _ = scrape(gateway)
    assert gateway.view(citizen).status_code == 200
    assert gateway.view(citizen).status_code == 200
    assert gateway.view(citizen, purpose="no-such-purpose").status_code == 422
    assert gateway.http is not None
    # A CPR in a path (which the contract never asks for) must not become a label either.
    lookup = gateway.http.get(f"/v1/consents/{citizen}", headers=gateway.headers())
    assert lookup.status_code == 404
    assert gateway.http.get(f"/nowhere/{citizen}").status_code == 404
    after, text = scrape(gateway)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("helhed_views_total", outcome="success") == 2
    assert moved("helhed_views_total", outcome="denied") == 1
    views = {"route": "/v1/views", "method": "POST"}
    assert moved("helhed_http_requests_total", **views, status="200") == 2
    assert moved("helhed_http_requests_total", **views, status="422") == 1
    assert moved("helhed_http_request_duration_seconds_count", **views) == 3
    consent = {"route": "/v1/consents/{consent_id}", "method": "GET", "status": "404"}
    assert moved("helhed_http_requests_total", **consent) == 1
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert moved("helhed_http_requests_total", **unmatched) == 1
    # Two views and the refused one; the lookup of a consent that does not exist is refused too.
    assert moved("helhed_access_log_appends_total", outcome="ok") >= 3
    assert moved("helhed_source_latency_seconds_count", source="jobcenter-momentum") == 2
    assert moved("helhed_source_calls_total", source="jobcenter-momentum", result="ok") == 2
    assert value(after, "helhed_access_log_entries") >= 3
    assert value(after, "helhed_database_up") == 1
    assert value(after, "helhed_source_breaker_state", source="jobcenter-momentum", state="closed")
    for cpr in (citizen, *SAMPLE.values()):
        assert cpr not in text
        assert f"{cpr[:6]}-{cpr[6:]}" not in text
    assert not looks_like_cpr(text), "nothing in /metrics even looks like a CPR"


def test_source_errors_by_kind_and_an_open_breaker_show(
    tmp_path: Path,
    new_database: Callable[[], str],
    systems: SystemsInThread,
    twin_of: Callable[[str], str],
) -> None:
    configs = copy.deepcopy(source_configs(systems.systems))
    jobcenter = next(c for c in configs if c["department"] == "jobcenter")
    jobcenter["resilience"] = {"breaker_failures": 2, "breaker_reset_seconds": 60, "retries": 0}
    citizen = twin_of("Sara Holm")
    with live_gateway(tmp_path, new_database(), configs) as gateway:
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        systems["jobcenter"].behaviour.fail_status = 500
        for _ in range(3):
            assert gateway.view(citizen).status_code == 200, "one source failing fails no view"
        samples, _ = scrape(gateway)
    source = "jobcenter-momentum"
    assert value(samples, "helhed_source_errors_total", source=source, kind="http_status") == 2
    assert value(samples, "helhed_source_errors_total", source=source, kind="circuit_open") == 1
    assert value(samples, "helhed_source_breaker_state", source=source, state="open") == 1
    assert value(samples, "helhed_source_breaker_state", source=source, state="closed") == 0
    assert value(samples, "helhed_views_total", outcome="success") == 3


def test_checkpoint_age_is_computed_when_scraped(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    assert gateway.view(twin_of("Sara Holm")).status_code == 200
    deadline = time.monotonic() + 20
    while (samples := scrape(gateway)[0]) and value(samples, "helhed_access_log_unsigned_entries"):
        assert time.monotonic() < deadline, "the checkpoint job signs new entries within seconds"
        time.sleep(0.2)
    assert value(samples, "helhed_access_log_checkpoint_age_seconds") < 600
    gateway.clock.offset = timedelta(hours=2)  # nothing is appended: no new checkpoint is due
    later, _ = scrape(gateway)
    assert value(later, "helhed_access_log_checkpoint_age_seconds") >= 2 * 3600 - 60
    assert value(later, "helhed_access_log_unsigned_entries") == 0


def test_scheduler_runs_are_counted_by_job_and_outcome(gateway: LiveGateway) -> None:
    before, _ = scrape(gateway)
    gateway.import_drops()  # runs the csv-drop-import job as the scheduler does
    after, _ = scrape(gateway)
    job = {"job": "csv-drop-import", "outcome": "ok"}
    assert value(after, "helhed_scheduler_runs_total", **job) == (
        value(before, "helhed_scheduler_runs_total", **job) + 1
    )


def test_a_failing_job_run_is_counted_as_failed(gateway: LiveGateway) -> None:
    def broken(_runtime: object) -> None:
        raise RuntimeError("disk full")

    runner = JobRunner(
        gateway.runtime, [ScheduledJob("ops-test-broken", timedelta(hours=1), broken)]
    )
    assert asyncio.run(runner.run_once("ops-test-broken"))
    samples, _ = scrape(gateway)
    job = {"job": "ops-test-broken"}
    assert value(samples, "helhed_scheduler_runs_total", **job, outcome="failed") == 1
    assert value(samples, "helhed_scheduler_runs_total", **job, outcome="ok") == 0


def test_workers_get_an_emptied_multiprocess_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    stale = tmp_path / "metrics" / "counter_4242.db"
    stale.parent.mkdir()
    stale.write_bytes(b"a previous run's counts")
    folder = prepare_multiprocess_dir(tmp_path)
    assert folder == tmp_path / "metrics"
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(folder)
    assert not stale.exists(), "a restart does not carry the last run's counts"
