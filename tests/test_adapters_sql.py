"""The sql kind on a real SQLite file (the demo's EOJ database) and on real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from adapters.protocol import FetchRequest, FetchResult, SourceConfig, SourceUnavailable
from adapters.registry import SourceConfigError, build_adapters
from adapters.sql import SqlAdapter
from demo.citizens import FREJA_ANDERSEN, INGER_POULSEN
from demo.sources import source_configs
from demo.systems.nexus import EojDatabase
from gateway.cli import app as cli
from gateway.settings import normalize_database_url
from tests.conftest import POSTGRES_URL
from tests.support import ThrowawayPostgres

INJECTION = "'; DROP TABLE borger; --"
CATEGORIES = frozenset({"case-overview", "interventions", "plans-goals", "health"})


@pytest.fixture(scope="module")
def eoj() -> Iterator[EojDatabase]:
    database = EojDatabase()
    asyncio.run(database.start())
    yield database
    asyncio.run(database.stop())


@pytest.fixture
def config(eoj: EojDatabase) -> dict[str, Any]:
    configs = source_configs({"health": eoj})  # type: ignore[dict-item]
    return configs[0]


def fetch(config: dict[str, Any], citizen: str, seconds: float = 5) -> Any:
    adapter = SqlAdapter(SourceConfig.model_validate(config))

    async def run() -> FetchResult | SourceUnavailable:
        try:
            return await adapter.fetch(FetchRequest(citizen, CATEGORIES, seconds))
        except SourceUnavailable as failure:
            return failure
        finally:
            await adapter.aclose()

    return asyncio.run(run())


def _count(eoj: EojDatabase, table: str) -> int:
    with sqlite3.connect(eoj.path) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_one_query_per_permitted_category_mapped_to_fragments(
    config: dict[str, Any], eoj: EojDatabase
) -> None:
    eoj.requests.clear()
    everything = fetch(config, INGER_POULSEN.cpr)
    assert everything.rejected == []
    assert {f.category for f in everything.fragments} == CATEGORIES
    adapter = SqlAdapter(SourceConfig.model_validate(config))

    async def only_health() -> FetchResult:
        try:
            return await adapter.fetch(FetchRequest(FREJA_ANDERSEN.cpr, frozenset({"health"}), 5))
        finally:
            await adapter.aclose()

    health = asyncio.run(only_health())
    assert health.fragments
    assert {f.category for f in health.fragments} == {"health"}
    # The database's audit trail: one statement per category asked, the citizen bound.
    assert [r.citizen for r in eoj.requests] == [INGER_POULSEN.cpr] * 4 + [FREJA_ANDERSEN.cpr]


def test_an_injection_attempt_is_only_ever_a_bound_value(
    config: dict[str, Any], eoj: EojDatabase
) -> None:
    before = _count(eoj, "borger")
    result = fetch(config, INJECTION)
    assert isinstance(result, FetchResult)
    assert result.fragments == []
    assert _count(eoj, "borger") == before


def test_the_database_is_read_only_whatever_the_query_says(
    config: dict[str, Any], eoj: EojDatabase
) -> None:
    before = _count(eoj, "journal_element")
    writing = {
        **config,
        "categories": ["health"],
        "queries": {
            "health": "DELETE FROM journal_element WHERE borger_id IN "
            "(SELECT borger_id FROM borger WHERE cpr = :citizen) RETURNING *"
        },
    }
    failure = fetch(writing, FREJA_ANDERSEN.cpr)
    assert isinstance(failure, SourceUnavailable)
    assert failure.code in ("query_failed", "unreachable")
    assert _count(eoj, "journal_element") == before


def test_a_slow_query_is_stopped_at_its_deadline(config: dict[str, Any]) -> None:
    slow = {
        **config,
        "categories": ["health"],
        "queries": {
            "health": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 1000000000) SELECT count(*) AS c, :citizen AS cpr FROM n"
        },
    }
    started = time.monotonic()
    failure = fetch(slow, FREJA_ANDERSEN.cpr, seconds=0.3)
    assert time.monotonic() - started < 2
    assert isinstance(failure, SourceUnavailable)
    assert failure.code == "timeout"


def test_queries_must_bind_the_citizen_and_cover_every_category(config: dict[str, Any]) -> None:
    cases = {
        "SELECT * FROM borger WHERE cpr = '{citizen}'": "never string formatting",
        "SELECT * FROM borger": "bound parameter :citizen",
    }
    for query, message in cases.items():
        bad = {**config, "categories": ["health"], "queries": {"health": query}}
        with pytest.raises(SourceConfigError, match=message):
            build_adapters([SourceConfig.model_validate(bad)])
    missing = {**config, "queries": {"health": config["queries"]["health"]}}
    with pytest.raises(SourceConfigError, match="one query per category"):
        build_adapters([SourceConfig.model_validate(missing)])


def test_an_unreachable_database_is_unavailable_and_unhealthy(config: dict[str, Any]) -> None:
    gone = {**config, "url": "sqlite:////nonexistent/folder/eoj.sqlite"}
    assert fetch(gone, FREJA_ANDERSEN.cpr).code == "unreachable"
    adapter = SqlAdapter(SourceConfig.model_validate(gone))
    assert not asyncio.run(adapter.check_health()).healthy


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
def postgres_eoj(request: pytest.FixtureRequest) -> str:
    if not POSTGRES_URL:
        pytest.skip("HELHED_TEST_POSTGRES_URL is not set")
    databases: ThrowawayPostgres = request.getfixturevalue("throwaway_postgres")
    url = databases.new_database()
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE ydelse (id text primary key, cpr text, titel text, kategori text)")
        )
        connection.execute(
            text(
                "INSERT INTO ydelse VALUES ('y1', :a, 'Hjemmepleje', 'omsorg'), "
                "('y2', :a, 'Sygepleje', 'omsorg'), ('y3', :b, 'Praktisk hjælp', 'omsorg')"
            ),
            {"a": INGER_POULSEN.cpr, "b": FREJA_ANDERSEN.cpr},
        )
    engine.dispose()
    return url


def _postgres_config(url: str, query: str) -> dict[str, Any]:
    return {
        "name": "health-pg",
        "kind": "sql",
        "department": "health",
        "categories": ["interventions"],
        "url": url,
        "queries": {"interventions": query},
        "mapping": {
            "fields": {
                "id": "id",
                "citizen": "cpr",
                "category": "'interventions'",
                "kind": "'intervention'",
                "title": "titel",
            }
        },
    }


@pytest.mark.postgres
def test_postgresql_reads_binds_refuses_writes_and_times_out(postgres_eoj: str) -> None:
    select = "SELECT * FROM ydelse WHERE cpr = :citizen ORDER BY id"
    result = fetch(_postgres_config(postgres_eoj, select), INGER_POULSEN.cpr)
    assert [f.title for f in result.fragments] == ["Hjemmepleje", "Sygepleje"]
    assert fetch(_postgres_config(postgres_eoj, select), INJECTION).fragments == []

    delete = "DELETE FROM ydelse WHERE cpr = :citizen RETURNING *"
    refused = fetch(_postgres_config(postgres_eoj, delete), INGER_POULSEN.cpr)
    assert isinstance(refused, SourceUnavailable)
    assert refused.code == "query_failed"  # read-only transaction
    again = fetch(_postgres_config(postgres_eoj, select), INGER_POULSEN.cpr)
    assert len(again.fragments) == 2, "nothing was deleted"

    sleepy = "SELECT *, pg_sleep(10) FROM ydelse WHERE cpr = :citizen"
    started = time.monotonic()
    slow = fetch(_postgres_config(postgres_eoj, sleepy), INGER_POULSEN.cpr, seconds=0.3)
    assert time.monotonic() - started < 3
    assert isinstance(slow, SourceUnavailable)
    assert slow.code == "timeout"


def test_a_bad_source_stops_the_gateway_naming_file_source_and_field(tmp_path: Path) -> None:
    config = tmp_path / "helhed.toml"
    config.write_text(
        '[[sources]]\nname = "health-eoj"\nkind = "sql"\ndepartment = "health"\n'
        'categories = ["health"]\nurl = "sqlite:////srv/eoj.sqlite"\n'
        '[sources.queries]\nhealth = "SELECT * FROM diagnose"\n'
        '[sources.mapping.fields]\nid = "id"\ncitizen = "cpr"\ncategory = "c"\n'
        'kind = "k"\ntitle = "t"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["serve", "--config", str(config)], env={"HELHED_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert f"{config}: source 'health-eoj': queries: health: the query must use" in message
