"""A real `helhed serve` process on loopback: started from a configuration file, killed with
SIGKILL when a test says so, and started again on the same data folder and database.

The processes are forked from a zygote (tests/attack/zygote.py) that has done the imports once,
so a restart costs the gateway's own start, not the interpreter's."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from demo.run import write_config_file
from gateway.auth.dev_issuer import mint_token
from gateway.settings import Settings, load_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServedGateway:
    """One gateway process at a time; its stderr (the application log) goes to `log_file`."""

    def __init__(self, home: Path, database_url: str, sources: list[dict[str, Any]]) -> None:
        self.home = home
        values: dict[str, Any] = {
            "home": str(home),
            "database_url": database_url,
            "sources": sources,
            "view_deadline_seconds": 1.5,
            "source_timeout_seconds": 1.5,
            "views_per_minute": 1_000_000,
            "distinct_citizens_alert": 1_000_000,
        }
        self.config = write_config_file(home, values)
        self.settings: Settings = load_settings(self.config)
        self.log_file = home / "gateway.log"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.pid: int | None = None  # the running gateway process, a child of the zygote
        self._zygote: subprocess.Popen[str] | None = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> ServedGateway:
        """Start a gateway process and wait until it answers /ready (the database is reachable)."""
        assert self.pid is None, "one gateway process at a time"
        if self._zygote is None:
            self._zygote = subprocess.Popen(
                [sys.executable, "-m", "tests.attack.zygote"],
                env={**os.environ, "HELHED_HOME": str(self.home)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self._zygote.stdout is not None
            assert self._zygote.stdout.readline().strip() == "ready"
        assert self._zygote.stdin is not None
        assert self._zygote.stdout is not None
        self._zygote.stdin.write(f"serve {self.config} {self.port} {self.log_file}\n")
        self._zygote.stdin.flush()
        self.pid = int(self._zygote.stdout.readline())
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._alive():
                raise RuntimeError(f"the gateway exited: {self.log_file.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base_url}/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError("the gateway did not become ready")

    def _alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        # A zombie (killed, not yet reaped) is dead too.
        with contextlib.suppress(OSError):
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            return state != "Z"
        return False

    def _signal(self, number: signal.Signals, timeout: float = 20.0) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, number)
        deadline = time.monotonic() + timeout
        while self._alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._alive():
            raise RuntimeError(f"gateway process {self.pid} did not end on {number.name}")
        self.pid = None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no last checkpoint, no flushing."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """End the gateway process (gracefully, if it is running) and the zygote."""
        try:
            self._signal(signal.SIGTERM)
        except RuntimeError:
            self.kill()
        if self._zygote is not None:
            assert self._zygote.stdin is not None
            assert self._zygote.stdout is not None
            self._zygote.stdin.close()
            self._zygote.wait(timeout=20)
            self._zygote.stdout.close()
            self._zygote = None

    def headers(
        self, role: str = "caseworker", department: str | None = "children-family"
    ) -> dict[str, str]:
        token = mint_token(
            self.settings,
            subject=f"{role}-{department or 'none'}",
            name=f"Test {role}",
            roles=[role],
            department=department,
        )
        return {"Authorization": f"Bearer {token}"}
