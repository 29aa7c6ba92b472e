"""The suite's five workloads; each returns the figures it measured (see bench/suite.py)."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from bench import audit_log, consent_decision
from bench.fanout import direct, four_delayed_sources, percentiles
from bench.processes import bare_proxy, canned_sources, gateways, load, sign_in, typed_proxy
from demo.citizens import CITIZENS
from gateway.access_log import lifecycle
from gateway.auth.dev_issuer import mint_token
from gateway.consents.models import ConsentRow, ConsentUsageRow
from gateway.settings import Settings, load_settings
from tests.builders import consent_body

CITIZEN = next(c.cpr for c in CITIZENS if c.name == "Lars Vestergaard")
CATEGORIES = ["assessments", "benefits", "case-overview", "health", "interventions", "plans-goals"]
VIEW = {"citizen": CITIZEN, "purpose": "coordinated-plan"}


@dataclass
class Setup:
    tmp: Path
    quick: bool
    seconds: float
    postgres: str | None
    compare: Path | None = None  # another checkout's gateway, measured in the same rounds

    def sqlite(self, name: str) -> str:
        return f"sqlite:///{self.tmp}/{name}-{uuid.uuid4().hex[:8]}.db"

    @contextmanager
    def fresh_postgres(self) -> Iterator[str]:
        assert self.postgres is not None
        url, name = audit_log.fresh_postgres(self.postgres)
        try:
            yield url
        finally:
            audit_log.drop_postgres(self.postgres, name)

    @property
    def users(self) -> int:
        return 300 if self.quick else USERS

    def home(self, name: str) -> Path:
        return self.tmp / f"home-{name}"

    def databases(self, name: str) -> Iterator[tuple[str, Any]]:
        """(backend, context manager giving a fresh database URL) for SQLite and PostgreSQL."""
        yield "sqlite", _constant(self.sqlite(name))
        if self.postgres:
            yield "postgres", self.fresh_postgres()


@contextmanager
def _constant(value: str) -> Iterator[str]:
    yield value


def caseworker_token(settings: Settings, subject: str) -> str:
    """An adult-social caseworker's access token from the development issuer, good for 4 h."""
    return mint_token(settings, subject=subject, roles=["caseworker"],
                      department="adult-social", ttl_seconds=4 * 3600)  # fmt: skip


def caseworker_headers(home: Path) -> dict[str, str]:
    """An adult-social caseworker's token from the development issuer in `home`."""
    return {"Authorization": f"Bearer {caseworker_token(load_settings(None, home=home), 'bench')}"}


USERS = 3000  # at 600 views/s, 12 views a minute each: within the default limit of 30


def caseworker_tokens(home: Path, users: int = USERS) -> Path:
    """A file of `users` adult-social caseworkers' tokens (the load generator takes turns)."""
    settings = load_settings(None, home=home)
    path = home.parent / f"{home.name}-tokens.txt"
    tokens = (caseworker_token(settings, f"caseworker-{n}") for n in range(users))
    path.write_text("\n".join(tokens), encoding="ascii")
    return path


def every_department_opened() -> dict[str, Any]:
    """The consent body opening the other three departments to adult-social for CITIZEN."""
    return consent_body(
        CITIZEN,
        from_departments=["jobcenter", "children-family", "health"],
        to_departments=["adult-social"],
        categories=CATEGORIES,
    )


def open_every_department(base_url: str, headers: dict[str, str]) -> None:
    """One consent opening the other three departments to adult-social, then one view to
    check that every source is asked and answers."""
    consent = every_department_opened()
    httpx.post(f"{base_url}/v1/consents", json=consent, headers=headers).raise_for_status()
    every_source_answers(base_url, headers)


def every_source_answers(base_url: str, headers: dict[str, str] | None = None) -> None:
    """A view whose every source is included (a gateway's or the typed proxy's), or an error:
    a benchmark of views whose sources failed would measure nothing."""
    problems: dict[str, str] = {}
    for _ in range(5):  # the first views connect, fetch tokens and WSDLs: let them warm up
        view = httpx.post(f"{base_url}/v1/views", json=VIEW, headers=headers or {}, timeout=30)
        view.raise_for_status()
        coverage = view.json()["coverage"]
        problems = {c["source"]: c["problem"] for c in coverage if c["status"] != "included"}
        if not problems:
            return
    raise RuntimeError(f"not every source was included: {problems}")


def _mean(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("views_per_s", "p50_ms", "p95_ms", "p99_ms")
    if all("cpu_ms_per_view" in r for r in rounds):
        keys += ("cpu_ms_per_view",)
    merged = {k: round(statistics.mean(r[k] for r in rounds), 1) for k in keys}
    return {**merged, "max_ms": max(r["max_ms"] for r in rounds),
            "views": sum(r["views"] for r in rounds), "rounds": len(rounds)}  # fmt: skip


# --- 1 overhead --------------------------------------------------------------------------------


def overhead_workload(setup: Setup) -> dict[str, Any]:
    """Bare proxy, typed proxy and gateway on the same canned sources, in alternating rounds."""
    concurrency, rounds = 16, 1 if setup.quick else 3
    result: dict[str, Any] = {"concurrency": concurrency, "sources": 4}
    with canned_sources(0.0) as demo:
        configs = four_delayed_sources(demo)
        with bare_proxy(configs) as bare, typed_proxy(configs) as typed:
            every_source_answers(typed)
            for backend, database in setup.databases("overhead"):
                home = setup.home(f"overhead-{backend}")
                headers, tokens = caseworker_headers(home), caseworker_tokens(home, setup.users)
                with ExitStack() as stack:
                    url = stack.enter_context(database)
                    (gateway,) = stack.enter_context(gateways(home, url, configs))
                    open_every_department(gateway, headers)
                    sign_in([gateway], body=VIEW, tokens=tokens)
                    targets = {
                        "bare": ([bare], None),
                        "typed": ([typed], None),
                        "gateway": ([gateway], tokens),
                    }
                    if setup.compare is not None:
                        other = (
                            stack.enter_context(setup.fresh_postgres())
                            if backend == "postgres"
                            else setup.sqlite("compare")
                        )
                        (before,) = stack.enter_context(
                            gateways(home, other, configs, code=setup.compare)
                        )
                        open_every_department(before, headers)
                        sign_in([before], body=VIEW, tokens=tokens)
                        targets["compared"] = ([before], tokens)
                    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
                    for _ in range(rounds):
                        for name, (urls, users) in targets.items():
                            runs[name].append(
                                load(
                                    urls,
                                    body=VIEW,
                                    headers={},
                                    tokens=users,
                                    concurrency=concurrency,
                                    seconds=setup.seconds
                                    if setup.quick
                                    else setup.seconds / rounds * 2,
                                    warmup=0.5 if setup.quick else 1.0,
                                )
                            )
                figures = {name: _mean(measured) for name, measured in runs.items()}
                bare_rate = figures["bare"]["views_per_s"]
                bare_cpu = figures["bare"].get("cpu_ms_per_view")
                result[backend] = {
                    **figures,
                    **{
                        f"ratio{'' if name == 'gateway' else ' (' + name + ')'}": round(
                            figures[name]["views_per_s"] / bare_rate, 3
                        )
                        for name in figures
                        if name != "bare"
                    },
                    # The bare proxy's CPU per view over the gateway's: the same ratio, in
                    # what each process spent, which other load on the machine moves less.
                    **{
                        f"cpu ratio{'' if name == 'gateway' else ' (' + name + ')'}": round(
                            bare_cpu / figures[name]["cpu_ms_per_view"], 3
                        )
                        for name in figures
                        if name != "bare" and bare_cpu and figures[name].get("cpu_ms_per_view")
                    },
                }
                # Against the typed proxy (the same mapping and insights): what consent
                # checking and logging cost, the part of the gap that is theirs.
                typed_figures, gateway_figures = figures["typed"], figures["gateway"]
                result[backend]["ratio to typed"] = round(
                    gateway_figures["views_per_s"] / typed_figures["views_per_s"], 3
                )
                if typed_figures.get("cpu_ms_per_view") and gateway_figures.get("cpu_ms_per_view"):
                    result[backend]["cpu ratio to typed"] = round(
                        typed_figures["cpu_ms_per_view"] / gateway_figures["cpu_ms_per_view"], 3
                    )
                if setup.compare is not None:
                    result[backend]["compared_code"] = str(setup.compare)
    return result


# --- 2 fan-out ---------------------------------------------------------------------------------


def sixteen_sources(four: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of the four sources four times over, under names of their own."""
    return [{**config, "name": f"{config['name']}-{n}"} for n in range(4) for config in four]


def fanout_workload(setup: Setup, delay: float = 0.05) -> dict[str, Any]:
    result: dict[str, Any] = {"delay_ms": delay * 1000}
    rounds = 50 if setup.quick else 300
    with canned_sources(delay) as demo:
        four = four_delayed_sources(demo)
        alone = [percentiles(asyncio.run(direct([c], CITIZEN, rounds))) for c in four]
        floor = max(alone, key=lambda row: row["p99_ms"])
        result["floor"] = floor
        for label, configs in (("4 sources", four), ("16 sources", sixteen_sources(four))):
            home = setup.home(f"fanout-{len(configs)}")
            headers, tokens = caseworker_headers(home), caseworker_tokens(home, setup.users)
            with gateways(home, setup.sqlite("fanout"), configs) as (gateway,):
                open_every_department(gateway, headers)
                sign_in([gateway], body=VIEW, tokens=tokens)
                for concurrency in (1, 16):
                    figures = load(
                        [gateway],
                        body=VIEW,
                        headers={},
                        tokens=tokens,
                        seconds=setup.seconds,
                        concurrency=concurrency,
                    )
                    figures["p99_over_floor_ms"] = round(figures["p99_ms"] - floor["p99_ms"], 1)
                    result[f"{label}, {concurrency} client{'s' if concurrency > 1 else ''}"] = (
                        figures
                    )
    return result


# --- 3 log -------------------------------------------------------------------------------------


def log_workload(setup: Setup) -> dict[str, Any]:
    """Appends through the group commit (what requests do) and a full verification."""
    appends = 2000 if setup.quick else 20_000
    result: dict[str, Any] = {"appends_per_s": {}}
    for backend in ["sqlite"] + (["postgres"] if setup.postgres else []):
        for writers in (1, 8, 64):
            with _fresh(setup, backend) as url:
                runtime = audit_log.runtime_for(setup.home(f"log-{backend}"), url)
                total = max(appends // (8 if writers == 1 else 1), writers * 10)
                rate = audit_log.appends_per_second(runtime, writers, total)
                lifecycle.stop(runtime)
                runtime.engine.dispose()
            result["appends_per_s"][f"{backend}, {writers} concurrent"] = round(rate)
    size = 20_000 if setup.quick else 1_000_000
    runtime = audit_log.runtime_for(setup.home("log-verify"), setup.sqlite("verify"))
    audit_log.fill(runtime, size)
    seconds, entries = audit_log.verify_seconds(runtime, os.cpu_count() or 1)
    result["verify"] = {
        "backend": "sqlite",
        "entries": entries,
        "seconds": round(seconds, 2),
        "seconds_per_million": round(seconds * 1_000_000 / entries, 1),
    }
    runtime.engine.dispose()
    return result


def _fresh(setup: Setup, backend: str) -> Any:
    return _constant(setup.sqlite("log")) if backend == "sqlite" else setup.fresh_postgres()


# --- 4 scale-out -------------------------------------------------------------------------------


def scale_workload(setup: Setup) -> dict[str, Any]:
    if not setup.postgres:
        return {"skipped": "no PostgreSQL answered"}
    concurrency = 32
    result: dict[str, Any] = {"backend": "postgres", "concurrency": concurrency}
    with canned_sources(0.0) as demo:
        configs = four_delayed_sources(demo)
        for count in (1, 2, 4):
            home = setup.home("scale")
            headers, tokens = caseworker_headers(home), caseworker_tokens(home, setup.users)
            with setup.fresh_postgres() as url, gateways(home, url, configs, count) as urls:
                open_every_department(urls[0], headers)
                sign_in(urls, body=VIEW, tokens=tokens)
                figures = load(
                    urls,
                    body=VIEW,
                    headers={},
                    tokens=tokens,
                    seconds=setup.seconds,
                    concurrency=concurrency,
                )
            result[f"{count} process{'es' if count > 1 else ''}"] = figures
    return result


# --- 5 size ------------------------------------------------------------------------------------


def seed(home: Path, url: str, *, entries: int, consents: int) -> dict[str, float]:
    """Bulk rows straight into the database (not through the API): log entries through the
    log's own batch writer, so the tree stays whole; consents with plain multi-row inserts."""
    import time

    runtime = audit_log.runtime_for(home, url)
    started = time.perf_counter()
    audit_log.fill(runtime, entries)
    filled = time.perf_counter() - started
    random.seed(11)
    protector = runtime.protector
    citizens = [f"{random.randint(1, 28):02d}{random.randint(1, 12):02d}{random.randint(50, 99)}"
                f"{random.randint(0, 9999):04d}" for _ in range(consents // 3 + 1)]  # fmt: skip
    started = time.perf_counter()
    with runtime.engine.begin() as connection:
        for start in range(0, consents, 5000):
            rows = [
                consent_decision.row(
                    random.choice(citizens), protector, str(uuid.uuid4()), 1, "active"
                )
                for _ in range(min(5000, consents - start))
            ]
            connection.execute(insert(ConsentRow), rows)
            connection.execute(
                insert(ConsentUsageRow), [{"consent_id": r["id"], "version": 1} for r in rows]
            )
    lifecycle.stop(runtime)
    runtime.engine.dispose()
    return {
        "log_seconds": round(filled, 1),
        "consent_seconds": round(time.perf_counter() - started, 1),
    }


def _change(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    """How much worse `after` is, in percent (positive: slower or fewer views)."""
    return {
        "views_per_s_pct": round(100 * (1 - after["views_per_s"] / before["views_per_s"]), 1),
        "p99_pct": round(100 * (after["p99_ms"] / before["p99_ms"] - 1), 1),
    }


def size_workload(setup: Setup) -> dict[str, Any]:
    entries, consents = (20_000, 10_000) if setup.quick else (1_000_000, 100_000)
    result: dict[str, Any] = {"entries": entries, "consents": consents}
    with canned_sources(0.0) as demo:
        configs = four_delayed_sources(demo)
        for label in ("empty", "full"):
            home = setup.home(f"size-{label}")
            url = setup.sqlite(f"size-{label}")
            if label == "full":
                result["seeding"] = seed(home, url, entries=entries, consents=consents)
            headers, tokens = caseworker_headers(home), caseworker_tokens(home, setup.users)
            with gateways(home, url, configs) as (gateway,):
                open_every_department(gateway, headers)
                sign_in([gateway], body=VIEW, tokens=tokens)
                for concurrency in (1, 16):
                    result[f"{label}, {concurrency} client{'s' if concurrency > 1 else ''}"] = load(
                        [gateway],
                        body=VIEW,
                        headers={},
                        tokens=tokens,
                        seconds=setup.seconds,
                        concurrency=concurrency,
                    )
    result["degradation"] = {
        clients: _change(result[f"empty, {clients}"], result[f"full, {clients}"])
        for clients in ("1 client", "16 clients")
    }
    return result
