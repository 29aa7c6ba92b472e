"""SQLite's view reads, made in place on the asking thread: never held up by a writer, always a
fresh snapshot, and a broken connection replaced on the next read."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import column, create_engine, insert, select, table, text
from sqlalchemy.exc import OperationalError

from gateway.consents.models import ConsentRow
from gateway.consents.service import _DECIDING
from gateway.cpr_protection import CprProtector
from gateway.db import make_engine
from gateway.in_place_reads import InPlaceReader, connection_reads, in_place_reader
from gateway.migrate import upgrade

_STATUSES = select(column("status")).select_from(table("consent"))


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
    with reader.transaction() as reads:
        return [row.status for row in reads.all(_STATUSES, {})]


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
    reader.close()


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
    reader.close()


def test_postgresql_and_memory_databases_read_in_threads_instead() -> None:
    assert in_place_reader(create_engine("sqlite://")) is None
    assert in_place_reader(make_engine("postgresql+psycopg://u@127.0.0.1:1/x")) is None


def test_prepared_reads_give_what_sqlalchemy_gives(tmp_path: Path) -> None:
    """The in-place reads run SQLAlchemy's compiled SQL on the driver itself: the same rows,
    typed the same way (dates, UTC times, JSON, an IN list the statement binds itself), as a
    read through an SQLAlchemy connection."""
    engine = make_engine(f"sqlite:///{tmp_path / 'typed.db'}")
    upgrade(engine)
    protector = CprProtector([("test", b"k" * 32)], b"l" * 32)
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with engine.begin() as connection:
        for number, status in enumerate(("active", "superseded", "withdrawn", "active")):
            connection.execute(
                insert(ConsentRow),
                {
                    "id": f"c{number}",
                    "version": 1,
                    "status": status,
                    "citizen_hash": protector.lookup_hash("0101901234"),
                    "citizen_ciphertext": protector.encrypt("0101901234"),
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
    reader = in_place_reader(engine)
    assert reader is not None
    deciding = {"citizen_hash": protector.lookup_hash("0101901234")}
    with reader.transaction() as reads:
        in_place = reads.all(_DECIDING, deciding)
    with connection_reads(engine) as reads:
        through_sqlalchemy = reads.all(_DECIDING, deciding)
    assert [tuple(row) for row in in_place] == [tuple(row) for row in through_sqlalchemy]
    assert [row.id for row in in_place] == ["c3", "c2", "c0"]  # superseded left out, by time
    assert in_place[0].recorded_at == now - timedelta(days=3)  # aware, in UTC
    assert in_place[0].given_by["big"] == 2**70 + 1  # too big for orjson: read by json
    reader.close()
