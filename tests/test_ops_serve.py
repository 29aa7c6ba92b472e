"""`helhed serve` as operators run it, in a subprocess: its JSON logs and its metrics."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from demo.sources import source_configs
from demo.systems import SystemsInThread
from gateway.auth.dev_issuer import mint_token
from gateway.db import make_engine
from gateway.migrate import upgrade
from gateway.settings import load_settings
from tests.builders import consent_body
from tests.conftest import POSTGRES_URL, SAMPLE
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
    home: Path, database_url: str, systems: SystemsInThread, *, processes: int = 1, **env: str
) -> Iterator[list[Served]]:
    """`helhed serve --config FILE` in `processes` processes on one database, started side by
    side, each with its stderr in a file; stopped with SIGTERM, as systemd does."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "helhed.toml"
    config.write_text(
        tomli_w.dumps(
            {
                "home": str(home),
                "database_url": database_url,
                "sources": source_configs(systems.systems),
            }
        ),
        encoding="utf-8",
    )
    # Migrated first, as a deployment does before it starts several processes: SQLite has no
    # lock that lets processes starting together take turns at migrating.
    engine = make_engine(load_settings(config).sqlalchemy_url)
    upgrade(engine)
    engine.dispose()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HELHED_")}
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for number in range(processes):
            port, log = _free_port(), home / f"stderr-{number}.log"
            with log.open("wb") as stderr:
                command = ["serve", "-c", str(config), "--port", str(port)]
                server = subprocess.Popen(
                    [sys.executable, "-m", "gateway", *command],
                    env={**environment, **env},
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                )
            started.append((server, f"http://127.0.0.1:{port}", log))
        for server, base_url, log in started:
            _wait_until_healthy(server, base_url, log)
        token = mint_token(  # the development issuer, its key in the data folder
            load_settings(config),
            subject="mette.kjaer",
            name="Mette Kjær",
            roles=["caseworker"],
            department="children-family",
        )
        with ExitStack() as clients:
            yield [clients.enter_context(Served(url, token, log)) for _, url, log in started]
    finally:
        for server, _, _ in started:
            server.send_signal(signal.SIGTERM)
        for server, _, _ in started:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_healthy(server: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, log.read_text(encoding="utf-8")
        try:
            if httpx.get(f"{base_url}/health").status_code == 200:
                return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)


def test_two_serve_processes_log_json_with_request_ids_and_sum_their_metrics(
    tmp_path: Path,
    new_database: Callable[[], str],
    systems: SystemsInThread,
    twin_of: Callable[[str], str],
    backend: str,
) -> None:
    """Two processes on one database and one PROMETHEUS_MULTIPROC_DIR, as `serve --workers 2`
    runs them: every log line is JSON with a request id and no CPR; either process's /metrics
    counts what both did."""
    if backend == "sqlite" and POSTGRES_URL:
        pytest.skip("one run is enough for logs and metrics: on PostgreSQL, as in production")
    shared = tmp_path / "prometheus"
    shared.mkdir()
    citizen = twin_of("Sara Holm")
    view = {"citizen": citizen, "purpose": "coordinated-plan"}
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with served(tmp_path / "home", new_database(), systems, processes=2, **env) as (first, second):
        assert first.post("/v1/consents", consent_body(citizen)).status_code == 201
        mine = first.post("/v1/views", view, **{"X-Request-ID": "ops-test-view-0001"})
        assert mine.status_code == 200
        assert mine.headers["X-Request-ID"] == "ops-test-view-0001"
        # A caller's id that could be a CPR is not taken: it would reach every log.
        replaced = first.post("/v1/views", view, **{"X-Request-ID": citizen}).headers[
            "X-Request-ID"
        ]
        assert replaced != citizen
        assert not any(c.isdigit() for c in replaced), "our own ids hold no digits"
        refused = second.post("/v1/views", {**view, "purpose": "nothing-of-ours"})
        assert refused.status_code == 422
        assert refused.json()["instance"] == refused.headers["X-Request-ID"]
        systems["jobcenter"].behaviour.fail_status = 500
        assert second.post("/v1/views", view).status_code == 200
        seen, _ = scrape_over(second.http)
    assert value(seen, "helhed_views_total", outcome="success") == 3
    assert value(seen, "helhed_views_total", outcome="denied") == 1
    assert value(seen, "helhed_access_log_appends_total", outcome="ok") >= 5
    views = {"route": "/v1/views", "method": "POST", "status": "200"}
    assert value(seen, "helhed_http_requests_total", **views) == 3
    assert value(
        seen, "helhed_source_errors_total", source="jobcenter-momentum", kind="http_status"
    )
    assert value(seen, "helhed_access_log_entries") >= 5

    lines = [line for gateway in (first, second) for line in gateway.log_lines()]  # all JSON
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
    assert not [line for line in lines if line["logger"].startswith("apscheduler")], (
        "no line for every scheduled run (the checkpoint job runs each second)"
    )
    for gateway in (first, second):
        text = gateway.log.read_text(encoding="utf-8")
        for cpr in (citizen, *SAMPLE.values()):
            assert cpr not in text
            assert f"{cpr[:6]}-{cpr[6:]}" not in text
