"""How close does a citizen view come to the physical floor when four sources each take 50 ms?

Measures, on loopback, with the simulated department systems (a process of their own) delayed
by --delay seconds. The four sources are all remote and all delayed: the jobcenter's REST API
(OAuth2 bearer token), adult social services' SOAP service, and two more rest_json sources on
the jobcenter's system standing in for children & family and health (the demo's own CSV and SQL
sources answer from local files in a millisecond, so they cannot be made to take 50 ms):
  floor       the slowest source alone, asked directly through its adapter (nothing is faster)
  sequential  the four sources asked one after another through their adapters
  view        POST /v1/views through the real gateway, run as `helhed serve` in a process of
              its own (SQLite or PostgreSQL): it decides, fans out to all four at once through
              the resilience layer, releases, merges and makes the access-log entry durable
  view x16    the same with 16 concurrent clients: throughput and tail latency
  demo kinds  one view over the demo's own four sources: REST and SOAP delayed, SQL and CSV local

Prints a table and writes bench/results/fanout.json.
    .venv/bin/python bench/fanout.py [--delay 0.05] [--requests 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.protocol import FetchRequest, SourceConfig
from adapters.registry import build_adapters
from demo.citizens import CITIZENS
from gateway.auth.dev_issuer import mint_token
from gateway.settings import load_settings
from tests.builders import consent_body

CATEGORIES = frozenset(
    {"case-overview", "interventions", "benefits", "plans-goals", "assessments", "health"}
)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "p50_ms": round(cut[49] * 1000, 2),
        "p99_ms": round(cut[98] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def direct(configs: list[dict], citizen: str, rounds: int) -> list[float]:
    """The sources one after another, each through its kind's own adapter (no gateway)."""
    built = build_adapters([SourceConfig.model_validate(c) for c in configs], resilient=False)
    adapters = list(built.values())
    request = FetchRequest(citizen, CATEGORIES, timeout=10)
    for adapter in adapters:
        await adapter.fetch(request)  # warm up: connections, a token, the WSDL
    samples = []
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            for adapter in adapters:
                await adapter.fetch(request)
            samples.append(time.perf_counter() - started)
    finally:
        for adapter in adapters:
            await adapter.aclose()
    return samples


def four_delayed_sources(demo: list[dict]) -> list[dict]:
    """REST (OAuth2) and SOAP as the demo has them, and two more REST sources on the jobcenter's
    system for the departments whose demo sources are local files."""
    by_department = {c["department"]: c for c in demo}
    jobcenter, sensum = by_department["jobcenter"], by_department["adult-social"]
    stand_ins = [
        {**jobcenter, "name": f"{department}-bench", "department": department}
        for department in ("children-family", "health")
    ]
    return [jobcenter, sensum, *stand_ins]


@contextmanager
def systems_process(delay: float) -> Iterator[list[dict]]:
    """The simulated systems in their own process; yields their source configurations."""
    process = subprocess.Popen(
        [sys.executable, "-m", "demo.systems", "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.communicate(timeout=15)


@contextmanager
def gateway_process(home: Path, database_url: str, sources: list[dict]) -> Iterator[str]:
    """`helhed serve` in its own process, configured through HELHED_* variables."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HELHED_HOME": str(home),
        "HELHED_DATABASE_URL": database_url,
        "HELHED_SOURCES": json.dumps(sources),
        "HELHED_VIEW_DEADLINE_SECONDS": "5",
        # One benchmark user asks for thousands of views: lift the per-user abuse limits.
        "HELHED_VIEWS_PER_MINUTE": "1000000",
        "HELHED_DISTINCT_CITIZENS_ALERT": "1000000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base_url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=15)


class Views:
    """POST /v1/views against one gateway process, as one adult-social caseworker."""

    def __init__(self, base_url: str, citizen: str, headers: dict[str, str]) -> None:
        self.base_url, self.headers = base_url, headers
        self.payload = {"citizen": citizen, "purpose": "coordinated-plan"}
        # Open every other department to the adult-social caseworker: four sources asked.
        consent = consent_body(
            citizen,
            from_departments=["jobcenter", "children-family", "health"],
            to_departments=["adult-social"],
            categories=sorted(CATEGORIES),
        )
        httpx.post(f"{base_url}/v1/consents", json=consent, headers=headers).raise_for_status()

    def one(self, client: httpx.Client) -> float:
        started = time.perf_counter()
        response = client.post("/v1/views", json=self.payload, headers=self.headers)
        response.raise_for_status()
        assert all(c["status"] == "included" for c in response.json()["coverage"])
        return time.perf_counter() - started

    def in_a_row(self, count: int) -> list[float]:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            for attempt in range(100):  # a csv_drop source serves once its import ran
                try:
                    self.one(client)
                    break
                except AssertionError:
                    if attempt == 99:
                        raise
                    time.sleep(0.1)
            for _ in range(10):
                self.one(client)  # warm up connections and caches
            return [self.one(client) for _ in range(count)]

    def concurrently(self, count: int, clients: int) -> dict[str, float]:
        def worker(n: int) -> list[float]:
            with httpx.Client(base_url=self.base_url, timeout=30) as client:
                return [self.one(client) for _ in range(n)]

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            batches = list(pool.map(worker, [max(1, count // clients)] * clients))
        elapsed = time.perf_counter() - started
        samples = [s for batch in batches for s in batch]
        return {**percentiles(samples), "views_per_s": round(len(samples) / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file")
    args = parser.parse_args()

    citizen = next(c.cpr for c in CITIZENS if c.name == "Lars Vestergaard")
    results: dict[str, dict[str, float]] = {}
    with systems_process(args.delay) as demo_configs, tempfile.TemporaryDirectory() as tmp:
        configs = four_delayed_sources(demo_configs)
        alone = [percentiles(asyncio.run(direct([c], citizen, args.requests))) for c in configs]
        results["floor"] = max(alone, key=lambda row: row["p99_ms"])
        results["sequential"] = percentiles(asyncio.run(direct(configs, citizen, args.requests)))
        home = Path(tmp) / "home"
        database = args.database_url or f"sqlite:///{tmp}/bench.db"
        backend = database.split(":", 1)[0].split("+", 1)[0]
        token = mint_token(
            load_settings(None, home=home),
            subject="bench",
            roles=["caseworker"],
            department="adult-social",
        )
        headers = {"Authorization": f"Bearer {token}"}
        with gateway_process(home, database, configs) as base_url:
            views = Views(base_url, citizen, headers)
            results["view"] = percentiles(views.in_a_row(args.requests))
            results[f"view x{args.concurrency}"] = views.concurrently(
                args.requests, args.concurrency
            )
        # The demo's own sources, on a database of their own (PostgreSQL: the same database).
        database = args.database_url or f"sqlite:///{tmp}/bench-demo.db"
        with gateway_process(home, database, demo_configs) as base_url:
            results["demo kinds"] = percentiles(
                Views(base_url, citizen, headers).in_a_row(args.requests)
            )

    floor = results["floor"]["p99_ms"]
    print(f"Four sources, each answering after {args.delay * 1000:.0f} ms; database: {backend}")
    print(f"{'measure':<12} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p99-floor':>10}")
    for name, row in results.items():
        print(
            f"{name:<12} {row['n']:>5} {row['p50_ms']:>8} {row['p99_ms']:>8} {row['max_ms']:>8} "
            f"{row['p99_ms'] - floor:>10.1f}"
            + (f"   {row['views_per_s']} views/s" if "views_per_s" in row else "")
        )
    out = Path(__file__).parent / "results" / "fanout.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps({"delay_s": args.delay, "database": backend, "results": results}, indent=2),
        encoding="utf-8",
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
