"""Test helpers: a real gateway served by uvicorn on loopback, throwaway databases, a clock."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.auth.dev_issuer import mint_token
from gateway.migrate import upgrade
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings, load_settings, normalize_database_url


class SettableClock:
    """Real time plus an offset the test controls: consents can expire without waiting."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class ThrowawayPostgres:
    """Creates databases on a PostgreSQL server and drops every one of them at the end."""

    admin_url: str
    created: list[str] = field(default_factory=list)

    def new_database(self) -> str:
        name = f"helhed_test_{uuid.uuid4().hex[:12]}"
        engine = create_engine(normalize_database_url(self.admin_url), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return (
            make_url(normalize_database_url(self.admin_url))
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    def drop_all(self) -> None:
        engine = create_engine(normalize_database_url(self.admin_url), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


class LiveGateway:
    """The real app, served by uvicorn in a thread, reached over HTTP on loopback."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = SettableClock()
        self.runtime: Runtime = build_runtime(settings, clock=self.clock)
        upgrade(self.runtime.engine)
        self.app = create_app(self.runtime)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.base_url = ""
        self.http: httpx.Client | None = None

    def start(self) -> LiveGateway:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the gateway did not start")
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.base_url, timeout=30)
        self.import_drops()  # csv_drop sources serve from their first import: have it done
        return self

    def import_drops(self) -> None:
        """Run the csv_drop import job now, as the scheduler would, and wait for it."""
        asyncio.run(self.app.state.jobs.run_once("csv-drop-import"))

    def run_job(self, name: str, *, period: datetime | None = None) -> bool:
        """Run a scheduled job once on the app's own event loop, as its scheduler does: an
        async job calls the adapters, whose HTTP sessions belong to that loop."""
        return self.submit_job(name, period=period).result(timeout=60)

    def submit_job(self, name: str, *, period: datetime | None = None) -> Future[bool]:
        loop = self._server.servers[0].get_loop()
        run = self.app.state.jobs.run_once(name, period=period)
        return asyncio.run_coroutine_threadsafe(run, loop)

    def stop(self) -> None:
        if self.http is not None:
            self.http.close()
        self._server.should_exit = True
        self._thread.join(timeout=20)
        self.runtime.engine.dispose()

    # --- conveniences for tests ------------------------------------------------------------

    def token(
        self,
        role: str = "caseworker",
        department: str | None = "children-family",
        subject: str | None = None,
        **claims: Any,
    ) -> str:
        return mint_token(
            self.settings,
            subject=subject or f"{role}-{department or 'none'}",
            name=f"Test {role}",
            roles=[role],
            department=department,
            extra_claims=claims or None,
        )

    def headers(
        self, role: str = "caseworker", department: str | None = "children-family"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, department)}"}

    def post(
        self, path: str, body: Any, *, as_: str = "children-family", role: str = "caseworker"
    ) -> httpx.Response:
        assert self.http is not None
        return self.http.post(path, json=body, headers=self.headers(role, as_))

    def view(
        self, citizen: str, purpose: str = "coordinated-plan", *, as_: str = "children-family"
    ) -> httpx.Response:
        return self.post("/v1/views", {"citizen": citizen, "purpose": purpose}, as_=as_)

    def audit_entries(self, **filters: str) -> list[dict[str, Any]]:
        assert self.http is not None
        response = self.http.get(
            "/v1/audit/entries",
            params={"limit": "1000", **filters},
            headers=self.headers("dpo", None),
        )
        response.raise_for_status()
        return response.json()["entries"]

    def verify(self) -> dict[str, Any]:
        assert self.http is not None
        response = self.http.get("/v1/audit/verify", headers=self.headers("dpo", None))
        response.raise_for_status()
        return response.json()


@contextmanager
def live_gateway(
    home: Path, database_url: str, sources: list[dict[str, Any]], **overrides: Any
) -> Iterator[LiveGateway]:
    settings = load_settings(
        None,
        home=home,
        database_url=database_url,
        sources=sources,
        **{
            "view_deadline_seconds": 1.5,
            "source_timeout_seconds": 1.5,
            # The suite views thousands of citizens as a handful of users; tests of the abuse
            # limits set their own.
            "views_per_minute": 1_000_000,
            "distinct_citizens_alert": 1_000_000,
            **overrides,
        },
    )
    gateway = LiveGateway(settings).start()
    try:
        yield gateway
    finally:
        gateway.stop()


def wait_until_healthy(
    base_url: str,
    process: subprocess.Popen[Any],
    *,
    seconds: float = 90.0,
    describe: Callable[[], str] = lambda: "",
) -> None:
    """Poll a gateway process's /health until it answers 200; fail at once when the process
    exits, and after `seconds` (`describe` adds, say, the process's log to the failure)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}\n{describe()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base_url} did not become healthy in {seconds:.0f} s\n{describe()}")
