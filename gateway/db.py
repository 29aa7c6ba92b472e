"""Engines, sessions and the one kind of write transaction the gateway uses.

Every write also appends to the access log, and the log is a chain, so writes are serialised on
the log's head row: `SELECT … FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite (in WAL mode,
so readers are never blocked by it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from gateway.db_settings import PoolSettings

_IMMEDIATE = "helhed_sqlite_immediate"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine, lock_timeout_seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (SQLAlchemy's recipe
        # for pysqlite), so a write transaction can start with BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed log entry survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(lock_timeout_seconds * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def sqlite_engine(url: str, lock_timeout_seconds: float, **pooling: Any) -> Engine:
    """An SQLite engine in WAL mode whose connections wait `lock_timeout_seconds` for a lock."""
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": lock_timeout_seconds},
        **pooling,
    )
    _configure_sqlite(engine, lock_timeout_seconds)
    return engine


def bounded_connections(pool: PoolSettings) -> dict[str, Any]:
    """libpq's settings for a PostgreSQL connection that never hangs: a server that accepts
    and then never answers (a black hole) must end in a clean 503, not in a request that hangs
    for good."""
    timeout = pool.connect_timeout_seconds
    return {
        "connect_timeout": max(1, round(timeout)),  # libpq takes whole seconds
        "tcp_user_timeout": round(timeout * 1000),  # sent data left unacknowledged: give up
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }


def make_engine(url: str, pool: PoolSettings | None = None) -> Engine:
    """An engine whose pool is sized as configured (each process has its own pool)."""
    pool = pool or PoolSettings()
    sizing: dict[str, Any] = {
        "pool_size": pool.pool_size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.pool_timeout_seconds,
    }
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return sqlite_engine(url, pool.lock_timeout_seconds, **sizing)
    return create_engine(url, pool_pre_ping=True, connect_args=bounded_connections(pool), **sizing)


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


# SQLite's busy handler backs off in growing sleeps (up to 100 ms each) when two connections
# want the write lock at once; threads of one process queue on this lock instead, so only
# writers in other processes ever meet the busy handler.
_SQLITE_WRITERS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def writer_lock(engine: Engine) -> AbstractContextManager[object]:
    if not is_sqlite(engine):
        return nullcontext()  # PostgreSQL queues writers on the log head's row lock
    with _REGISTRY_LOCK:
        return _SQLITE_WRITERS.setdefault(engine, threading.Lock())


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One transaction that commits on success and rolls back on any exception."""
    with writer_lock(engine), engine.connect() as plain:
        connection = plain.execution_options(**{_IMMEDIATE: True}) if is_sqlite(engine) else plain
        with connection.begin(), Session(bind=connection, expire_on_commit=False) as session:
            yield session
            session.flush()
