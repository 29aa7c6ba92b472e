"""The processes a benchmark run starts: canned sources, gateways, the bare proxy, the load
generator. Each in its own interpreter, as in production; each stopped when the run ends."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.support import wait_until_healthy

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PIDS: dict[str, int] = {}  # a running server's base URL -> its process id (profilers, CPU)
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user and system) a process has used so far; None where /proc is not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name (which may hold spaces), counted from 3: utime 14, stime 15.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def canned_sources(delay: float = 0.0) -> Iterator[list[dict[str, Any]]]:
    """The demo's systems answering from memory (bench/canned_sources.py); their configs."""
    process = subprocess.Popen(
        [sys.executable, str(BENCH / "canned_sources.py"), "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        _stop(process)


def gateway_env(home: Path, database_url: str, sources: list[dict[str, Any]]) -> dict[str, str]:
    return {
        **os.environ,
        "HELHED_HOME": str(home),
        "HELHED_DATABASE_URL": database_url,
        "HELHED_SOURCES": json.dumps(sources),
        "HELHED_VIEW_DEADLINE_SECONDS": "5",
        # The default abuse limits stay: the load comes from thousands of users (USERS), each
        # well within them, as a municipality's caseworkers would send it.
    }


@contextmanager
def gateways(
    home: Path,
    database_url: str,
    sources: list[dict[str, Any]],
    count: int = 1,
    code: Path = ROOT,
) -> Iterator[list[str]]:
    """`count` gateway processes (`helhed serve`), on one database; their base URLs. `code`:
    the checkout whose gateway runs (`python -m gateway` imports from its working directory),
    for before/after comparisons in one run."""
    with ExitStack() as stack:
        urls = []
        for n in range(count):
            port = free_port()
            env = {**gateway_env(home, database_url, sources), "HELHED_INSTANCE": f"bench-{n}"}
            process = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
                env=env,
                cwd=code,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            stack.callback(_stop, process)
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(url, process, seconds=60)
            PIDS[url] = process.pid
            urls.append(url)
        yield urls


@contextmanager
def _proxy(script: str, sources: list[dict[str, Any]]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(BENCH / script), "--port", str(port)],
        env={**os.environ, "HELHED_SOURCES": json.dumps(sources)},
        cwd=ROOT,
        # Its access log goes where the gateway's goes: nowhere, at the same cost per line.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process, seconds=60)
        PIDS[url] = process.pid
        yield url
    finally:
        _stop(process)


def bare_proxy(sources: list[dict[str, Any]]) -> AbstractContextManager[str]:
    """bench/bare_proxy.py: the sources' records passed through (the headline's yardstick)."""
    return _proxy("bare_proxy.py", sources)


def typed_proxy(sources: list[dict[str, Any]]) -> AbstractContextManager[str]:
    """bench/typed_proxy.py: the gateway's own mapping and insights, no consent and no log."""
    return _proxy("typed_proxy.py", sources)


def sign_in(urls: list[str], *, body: dict[str, Any], tokens: Path) -> None:
    """One view as each user in `tokens`, on each of `urls`, before a measured run: a gateway
    checks a token in full on first sight (some 200 us for ES256) and then from its cache until
    the token expires, so a caseworker pays it once per token (minutes), not once per view. A
    short run of thousands of users would otherwise measure mostly first sights."""
    for url in urls:  # each process has its own cache
        load([url], body=body, headers={}, tokens=tokens, each_token_once=True,
             seconds=3600, concurrency=16, warmup=0)  # fmt: skip


def load(
    urls: list[str],
    *,
    body: dict[str, Any],
    headers: dict[str, str],
    seconds: float,
    concurrency: int,
    warmup: float = 1.0,
    tokens: Path | None = None,
    each_token_once: bool = False,
) -> dict[str, Any]:
    """One run of bench/load.py against /v1/views on `urls`; its JSON report. `tokens`: a file
    of users' access tokens, one per request in turn (else `headers` for every request), each
    once and no more with `each_token_once` (the run then ends before `seconds`). With
    the servers' process ids known, also the CPU they used per view (`cpu_ms_per_view`): on a
    shared machine a steadier figure than views/s, which moves with everything else running."""
    command = [
        sys.executable, str(BENCH / "load.py"),
        *[arg for url in urls for arg in ("--url", f"{url}/v1/views")],
        "--seconds", str(seconds), "--warmup", str(warmup),
        "--concurrency", str(concurrency), "--body", json.dumps(body),
        *[arg for k, v in headers.items() for arg in ("--header", f"{k}: {v}")],
        *(["--tokens", str(tokens)] if tokens is not None else []),
        *(["--each-token-once"] if each_token_once else []),
    ]  # fmt: skip
    pids = [PIDS[url] for url in urls if url in PIDS]
    before = [cpu_seconds(pid) for pid in pids]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    after = [cpu_seconds(pid) for pid in pids]
    report: dict[str, Any] = json.loads(done.stdout)
    if len(pids) == len(urls) and None not in before + after and report["answered"]:
        used = sum(a - b for a, b in zip(after, before, strict=True))  # type: ignore[operator]
        report["cpu_ms_per_view"] = round(used * 1000 / report["answered"], 2)
    if report["errors"]:
        raise RuntimeError(f"{report['errors']} failed views, e.g. {report['last_error']}")
    return report
