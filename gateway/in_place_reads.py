"""A view's short reads (the user's limits, the citizen's consents) made in place on SQLite.

On SQLite the database is a local file in WAL mode: a read never waits for the network, and no
writer blocks it. Sent to a worker thread, the reads cost five times the CPU they cost in place
(0.4 ms alone, 2.0 ms per view under 16 clients, timed with thread_time: the hop, and the
thread and the event loop taking the GIL from each other), and their wait for the GIL was most
of a view's latency. In place, one A/B run: 117.6 -> 140.8 views/s, 8.6 -> 7.3 ms CPU per view,
p99 about 220 -> 153 ms. So on SQLite they run on the thread that asks, on a connection of that
thread's own (never one shared between threads, never a wait for the pool). PostgreSQL is
across a network: its reads stay in the worker threads.

A reader gives up quickly when the file is locked after all (a WAL being recovered), so a view
gets a 503 rather than holding up every other request behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from gateway.db import is_sqlite, sqlite_engine

# How long an in-place read may wait for a lock before the view is refused (503).
BUSY_SECONDS = 0.2


class InPlaceReader:
    """Read transactions on a per-thread connection of an SQLite engine."""

    def __init__(self, engine: Engine) -> None:
        assert is_sqlite(engine), "in-place reads are for SQLite; PostgreSQL reads in threads"
        # Connections of their own, outside the pool: they wait less for a lock than the
        # pool's (which the writers use), and a thread's connection is never handed on.
        self.engine = sqlite_engine(
            engine.url.render_as_string(hide_password=False), BUSY_SECONDS, poolclass=NullPool
        )
        self._local = threading.local()
        self._opened: list[Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = self.engine.connect()
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One read transaction: a fresh snapshot, so a withdrawal just committed is seen."""
        connection = self._connection()
        try:
            with connection.begin():
                yield connection
        except SQLAlchemyError:
            connection.invalidate()  # a broken connection is not used again
            connection.close()
            with self._lock:
                self._opened.remove(connection)
            raise

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self.engine.dispose()


def in_place_reader(engine: Engine) -> InPlaceReader | None:
    """A reader for an SQLite file; None for PostgreSQL, whose reads go to worker threads (and
    for an in-memory database, which a connection of another engine would not see)."""
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:":
        return None
    return InPlaceReader(engine)
