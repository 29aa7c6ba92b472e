"""A view's reads, run on the driver itself: in place on SQLite (never held up by a writer,
always a fresh snapshot, a broken connection replaced on the next read) and on the event loop
on PostgreSQL; both give the rows SQLAlchemy gives."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import column, create_engine, insert, select, table, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from gateway.consents.models import ConsentRow
from gateway.consents.service import deciding_consents_read
from gateway.cpr_protection import CprProtector
from gateway.db import make_engine
from gateway.db_settings import PoolSettings
from gateway.in_place_reads import InPlaceReader, in_place_reader
from gateway.limits import _LIMITS
from gateway.migrate import upgrade
from gateway.pg_reads import EventLoopReader
from gateway.view_reads import ThreadReader, ViewReader
from tests.conftest import POSTGRES_URL
from tests.support import ThrowawayPostgres

_STATUSES = select(column("status")).select_from(table("consent"))
CITIZEN = "0101901234"


def _reader(tmp_path: Path) -> tuple[InPlaceReader, Path]:
    path = tmp_path / "reads.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE consent (id INTEGER PRIMARY KEY, status TEXT)"))
        connection.execute(text("INSERT INTO consent (status) VALUES ('active')"))
    reader = in_place_reader(engine)
    assert reader is not None
    return reader, path


def _statuses(reader: InPlaceReader) -> list[str]:
    (rows,) = reader.read_now([(_STATUSES, {})])
    return [row.status for row in rows]


def test_a_read_is_not_held_up_by_a_writer_and_sees_what_it_commits(tmp_path: Path) -> None:
    reader, path = _reader(tmp_path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as the access log's group commit holds it
    writer.execute("UPDATE consent SET status = 'withdrawn'")
    # A blocked read would end in "database is locked" after its 200 ms: this one answers with
    # the last committed state.
    assert _statuses(reader) == ["active"]
    writer.execute("COMMIT")
    assert _statuses(reader) == ["withdrawn"]  # the next read: a fresh snapshot
    writer.close()
    reader.close_now()


def test_a_failed_read_leaves_no_broken_connection_behind(tmp_path: Path) -> None:
    reader, path = _reader(tmp_path)
    assert _statuses(reader) == ["active"]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("ALTER TABLE consent RENAME TO gone")
    with pytest.raises(OperationalError):
        _statuses(reader)
    other.execute("ALTER TABLE gone RENAME TO consent")
    assert _statuses(reader) == ["active"]
    other.close()
    reader.close_now()


def test_postgresql_and_memory_databases_are_not_read_in_place() -> None:
    assert in_place_reader(create_engine("sqlite://")) is None
    assert in_place_reader(make_engine("postgresql+psycopg://u@127.0.0.1:1/x")) is None


def _store_consents(engine: Any, protector: CprProtector, now: datetime) -> None:
    with engine.begin() as connection:
        for number, status in enumerate(("active", "superseded", "withdrawn", "active")):
            connection.execute(
                insert(ConsentRow),
                {
                    "id": f"c{number}",
                    "version": 1,
                    "status": status,
                    "citizen_hash": protector.lookup_hash(CITIZEN),
                    "citizen_ciphertext": protector.encrypt(CITIZEN),
                    "given_by": {"kind": "self", "note": "æøå", "big": 2**70 + 1},
                    "from_departments": ["jobcenter"],
                    "to_departments": ["children-family"],
                    "categories": ["benefits", "case-overview"],
                    "purpose": "coordinated-plan",
                    "valid_from": date(2026, 1, 1),
                    "valid_until": date(2026, 12, 31),
                    "evidence": {"kind": "signed-form", "reference": "J.nr. 1"},
                    "recorded_by": {"subject": "u1"},
                    "recorded_at": now - timedelta(days=number),
                },
            )


async def _both(reader: ViewReader, batch: Any) -> tuple[list[list[Any]], list[list[Any]]]:
    """The batch through the reader, and through SQLAlchemy on the same database."""
    assert isinstance(reader, InPlaceReader | EventLoopReader)
    engine = make_engine(reader.engine.url.render_as_string(hide_password=False))
    try:
        return await reader.read(batch), await ThreadReader(engine).read(batch)
    finally:
        await reader.close()
        engine.dispose()


def test_the_driver_gives_the_rows_sqlalchemy_gives(
    backend: str, new_database: Callable[[], str]
) -> None:
    """SQLAlchemy's compiled SQL run on the driver: the same rows, typed the same way (dates,
    UTC times, JSON, an IN list the statement binds itself, the limits' counts bound with
    UTC times), as a read through an SQLAlchemy connection."""
    engine = make_engine(new_database())
    upgrade(engine)
    protector = CprProtector([("test", b"k" * 32)], b"l" * 32)
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    _store_consents(engine, protector, now)
    reader: ViewReader = in_place_reader(engine) or EventLoopReader(engine, PoolSettings())
    limits = {
        "subject": "u1",
        "minute_ago": now - timedelta(minutes=1),
        "views_cap": 30,
        "window_start": now - timedelta(hours=1),
        "this": protector.lookup_hash(CITIZEN),
        "alert_cap": 50,
        "one": 1,
    }
    batch = [deciding_consents_read(protector=protector, citizen=CITIZEN), (_LIMITS, limits)]
    (consents, counts), (expected_consents, expected_counts) = asyncio.run(_both(reader, batch))
    assert [tuple(row) for row in consents] == [tuple(row) for row in expected_consents]
    assert [row.id for row in consents] == ["c3", "c2", "c0"]  # superseded left out, by time
    assert consents[0].recorded_at == now - timedelta(days=3)  # aware, in UTC
    assert consents[0].valid_until == date(2026, 12, 31)
    assert consents[0].given_by["big"] == 2**70 + 1  # too big for orjson: read by json
    assert [tuple(row) for row in counts] == [tuple(row) for row in expected_counts] == [(0, 0, 0)]
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="HELHED_TEST_POSTGRES_URL is not set")
def test_a_read_on_connections_the_server_killed_is_sent_again_on_a_new_one(
    throwaway_postgres: ThrowawayPostgres,
) -> None:
    """The read pool pings no connection before use: a restart or failover kills the pooled
    ones, and the next view's read must still answer (once more, on a fresh connection), while
    a database that does not answer at all still fails the read."""
    url = throwaway_postgres.new_database()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE consent (id INTEGER PRIMARY KEY, status TEXT)"))
        connection.execute(text("INSERT INTO consent VALUES (1, 'active')"))
    reader = EventLoopReader(engine, PoolSettings(read_pool_size=2, read_max_overflow=0))

    async def scenario() -> None:
        async def statuses() -> list[str]:
            (rows,) = await reader.read([(_STATUSES, {})])
            return [row.status for row in rows]

        # Two connections in the pool, both used.
        assert list(await asyncio.gather(statuses(), statuses())) == [["active"], ["active"]]
        with engine.begin() as connection:  # as a server restart would: every session ends
            killed = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        assert killed >= 2
        assert await statuses() == ["active"]
        assert await statuses() == ["active"]
        # An error of the statement's own is no lost connection: not sent again, and the pool
        # (with its live connections) is kept.
        pool = reader.engine.sync_engine.pool
        missing = select(column("status")).select_from(table("no_such_table"))
        with pytest.raises(ProgrammingError):
            await reader.read([(missing, {})])
        assert reader.engine.sync_engine.pool is pool
        await reader.close()

    asyncio.run(scenario())
    engine.dispose()

    gone = EventLoopReader(make_engine(url.rsplit("/", 1)[0] + "/no_such_db"), PoolSettings())

    async def no_database() -> None:
        try:
            with pytest.raises(OperationalError):
                await gone.read([(_STATUSES, {})])
        finally:
            await gone.close()

    asyncio.run(no_database())
