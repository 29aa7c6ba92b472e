"""SQLite's view reads, made in place on the asking thread: never held up by a writer, always a
fresh snapshot, and a broken connection replaced on the next read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from gateway.db import make_engine
from gateway.in_place_reads import InPlaceReader, in_place_reader


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
    with reader.transaction() as connection:
        return [row[0] for row in connection.execute(text("SELECT status FROM consent"))]


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
