"""`helhed serve --workers 2` as operators run it, in a subprocess: its JSON logs, its metrics."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from demo.sources import source_configs
from demo.systems import SystemsInThread
from gateway.auth.dev_issuer import mint_token
from gateway.settings import load_settings
from tests.builders import consent_body
from tests.conftest import POSTGRES_URL, SAMPLE
from tests.support import wait_until_healthy
from tests.test_ops_metrics import scrape_over, value

REQUIRED = {"time", "level", "logger", "message", "request_id"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    def __init__(self, base_url: str, token: str, log: Path) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.dpo: dict[str, str] = {}
        self.log = log

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def post(self, path: str, body: Any, **headers: str) -> httpx.Response:
        return self.http.post(path, json=body, headers={**self.auth, **headers})

    def log_lines(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


@contextmanager
def served(
    home: Path, database_url: str, systems: SystemsInThread, *, workers: int = 1
) -> Iterator[Served]:
    """`helhed serve --config FILE --workers N` with its stderr in a file; stopped with
    SIGTERM, as systemd does."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "helhed.toml"
    config.write_text(
        tomli_w.dumps(
            {
                "home": str(home),
                "database_url": database_url,
                "sources": source_configs(systems.systems),
                # Until both workers have answered, a loaded machine may send many views to one:
                # the per-user limit must not be what the test meets.
                "views_per_minute": 100_000,
            }
        ),
        encoding="utf-8",
    )
    port, log = _free_port(), home / "stderr.log"
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HELHED_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    command = ["serve", "-c", str(config), "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway", *command],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, server, describe=lambda: log.read_text(encoding="utf-8"))
        token = mint_token(  # the development issuer, its key in the data folder
            load_settings(config),
            subject="mette.kjaer",
            name="Mette Kjær",
            roles=["caseworker"],
            department="children-family",
        )
        dpo = mint_token(load_settings(config), subject="dorte", name="Dorte", roles=["dpo"])
        with Served(base_url, token, log) as gateway:
            gateway.dpo = {"Authorization": f"Bearer {dpo}"}
            yield gateway
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _views_until_two_workers_served(gateway: Served, body: dict[str, Any]) -> int:
    """Views on fresh connections, four at a time, until two worker processes have answered
    some (the access log names each entry's instance); how many were answered."""
    answered: list[int] = []

    def one() -> None:
        with httpx.Client(base_url=str(gateway.http.base_url), timeout=30) as http:
            response = http.post("/v1/views", json=body, headers=gateway.auth)
            assert response.status_code == 200, response.text
            answered.append(response.json()["access_entry"])

    deadline = time.monotonic() + 60
    while True:
        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(one) for _ in range(4)]:
                future.result()
        entries = gateway.http.get(
            "/v1/audit/entries", params={"action": "view", "limit": "1000"}, headers=gateway.dpo
        ).json()["entries"]
        instances = {e["instance"] for e in entries if e["seq"] in answered}
        if len(instances) >= 2:
            return len(answered)
        assert time.monotonic() < deadline, "the views all went to one worker"


def test_serve_with_two_workers_logs_json_with_request_ids_and_sums_their_metrics(
    tmp_path: Path,
    new_database: Callable[[], str],
    systems: SystemsInThread,
    twin_of: Callable[[str], str],
    backend: str,
) -> None:
    """`serve --workers 2`: every log line is JSON with a request id and no CPR; whichever
    worker answers /metrics counts what both did."""
    if backend == "sqlite" and POSTGRES_URL:
        pytest.skip("one run is enough for logs and metrics: on PostgreSQL, as in production")
    citizen = twin_of("Sara Holm")
    view = {"citizen": citizen, "purpose": "coordinated-plan"}
    with served(tmp_path / "home", new_database(), systems, workers=2) as gateway:
        assert gateway.post("/v1/consents", consent_body(citizen)).status_code == 201
        mine = gateway.post("/v1/views", view, **{"X-Request-ID": "ops-test-view-0001"})
        assert mine.status_code == 200
        assert mine.headers["X-Request-ID"] == "ops-test-view-0001"
        # A caller's id that could be a CPR is not taken: it would reach every log.
        replaced = gateway.post("/v1/views", view, **{"X-Request-ID": citizen}).headers[
            "X-Request-ID"
        ]
        assert replaced != citizen
        assert not any(c.isdigit() for c in replaced), "our own ids hold no digits"
        refused = gateway.post("/v1/views", {**view, "purpose": "nothing-of-ours"})
        assert refused.status_code == 422
        assert refused.json()["instance"] == refused.headers["X-Request-ID"]
        views = 2 + _views_until_two_workers_served(gateway, view)
        systems["jobcenter"].behaviour.fail_status = 500
        assert gateway.post("/v1/views", view).status_code == 200
        scrapes = [scrape_over(gateway.http)[0] for _ in range(4)]
    for seen in scrapes:  # answered by either worker, each scrape counts both
        assert value(seen, "helhed_views_total", outcome="success") == views + 1
        assert value(seen, "helhed_views_total", outcome="denied") == 1
        assert value(seen, "helhed_access_log_appends_total", outcome="ok") >= views + 3
        ok = {"route": "/v1/views", "method": "POST", "status": "200"}
        assert value(seen, "helhed_http_requests_total", **ok) == views + 1
        source = {"source": "jobcenter-momentum", "kind": "http_status"}
        assert value(seen, "helhed_source_errors_total", **source) == 1
        assert value(seen, "helhed_access_log_entries") >= views + 3
    assert len(list((tmp_path / "home" / "metrics").glob("*.db"))) >= 2, "a file per worker"

    lines = gateway.log_lines()  # every line parses as JSON, or this raises
    for line in lines:
        assert set(line) >= REQUIRED, line
    request_line = next(
        line
        for line in lines
        if line["request_id"] == "ops-test-view-0001" and line["logger"] == "helhed.http"
    )
    assert request_line["route"] == "/v1/views"
    assert request_line["method"] == "POST"
    assert request_line["status"] == 200
    assert request_line["duration_ms"] > 0
    assert request_line["user"] == "mette.kjaer"
    assert request_line["role"] == "caseworker"
    assert request_line["level"] == "INFO"
    assert any(line["request_id"] == replaced for line in lines)
    assert any(line["logger"] == "uvicorn.error" for line in lines), "uvicorn's own lines too"
    # No INFO line for every scheduled run (the checkpoint job runs each second); its warnings
    # (a run skipped on a busy machine) are kept.
    chatter = [line for line in lines if line["logger"].startswith("apscheduler")]
    assert all(line["level"] != "INFO" for line in chatter), chatter
    text = gateway.log.read_text(encoding="utf-8")
    for cpr in (citizen, *SAMPLE.values()):
        assert cpr not in text
        assert f"{cpr[:6]}-{cpr[6:]}" not in text
