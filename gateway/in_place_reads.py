"""A view's short reads (the user's limits, the citizen's consents) made in place on SQLite.

On SQLite the database is a local file in WAL mode: a read never waits for the network, and no
writer blocks it. Sent to a worker thread, the reads cost five times the CPU they cost in place
(0.4 ms alone, 2.0 ms per view under 16 clients, timed with thread_time: the hop, and the
thread and the event loop taking the GIL from each other), and their wait for the GIL was most
of a view's latency. In place, one A/B run: 117.6 -> 140.8 views/s, 8.6 -> 7.3 ms CPU per view,
p99 about 220 -> 153 ms. So on SQLite they run on the thread that asks, on a connection of that
thread's own (never one shared between threads, never a wait for the pool). PostgreSQL is
across a network: its reads stay in the worker threads.

In place, each statement is compiled by SQLAlchemy once and then run by the sqlite3 driver
itself, with SQLAlchemy's own type processing: executing a statement through a Connection costs
about 100 us of bookkeeping (cache key, execution context, result object) around 10 us of
SQLite, three to four times a view (issue 11's profile).

A reader gives up quickly when the file is locked after all (a WAL being recovered), so a view
gets a 503 rather than holding up every other request behind it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool, PoolProxiedConnection
from sqlalchemy.sql import Select

from adapters import json_text
from gateway.db import is_sqlite, sqlite_engine

# How long an in-place read may wait for a lock before the view is refused (503).
BUSY_SECONDS = 0.2


class Reads(Protocol):
    """Read statements run inside one read transaction; rows read by attribute or position."""

    def one(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Sequence[Any]: ...

    def all(self, statement: Select[Any], parameters: Mapping[str, Any]) -> list[Any]: ...


class ConnectionReads:
    """Reads through an SQLAlchemy connection (PostgreSQL, in a worker thread)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def one(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Sequence[Any]:
        return self.connection.execute(statement, parameters).one()

    def all(self, statement: Select[Any], parameters: Mapping[str, Any]) -> list[Any]:
        return list(self.connection.execute(statement, parameters))


@contextmanager
def connection_reads(engine: Engine) -> Iterator[Reads]:
    """One read transaction on a pooled connection of the engine."""
    with engine.connect() as connection, connection.begin():
        yield ConnectionReads(connection)


Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A statement as the driver runs it: its SQL, where each `?` takes its value from, the
    types' processors for the values bound and the columns read, and a row class."""

    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]  # values the statement binds itself (literals, an IN list)
    binders: tuple[Processor, ...]
    readers: tuple[Processor, ...]
    row: type[tuple[Any, ...]]

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> _Prepared:
        compiled = statement.compile(dialect=dialect)
        required = {name for name, bind in compiled.binds.items() if bind.required}
        # Expanding parameters (`status NOT IN (...)` of a constant tuple) are expanded here,
        # once; a value given at run time is a scalar, never a list to expand.
        expanded = compiled.construct_expanded_state(dict.fromkeys(required))
        names = tuple(expanded.positiontup or ())
        binders = []
        for name in names:
            bind = compiled.binds.get(name)
            binders.append(
                bind.type.dialect_impl(dialect).bind_processor(dialect)
                if bind is not None
                else None
            )
        columns = list(statement.selected_columns)
        return cls(
            sql=expanded.statement,
            names=names,
            fixed={k: v for k, v in expanded.parameters.items() if k not in required},
            binders=tuple(binders),
            readers=tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
            ),
            row=namedtuple("Row", [c.key or "_" for c in columns], rename=True),  # type: ignore[misc]
        )

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        fixed = self.fixed
        values = []
        for name, bind in zip(self.names, self.binders, strict=True):
            value = parameters[name] if name in parameters else fixed[name]
            values.append(bind(value) if bind is not None and value is not None else value)
        return values

    def read(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return self.row._make(
            value if read is None or value is None else read(value)
            for read, value in zip(self.readers, row, strict=True)
        )


class _PreparedReads:
    """Reads on one sqlite3 connection, inside the transaction the reader opened."""

    def __init__(self, connection: sqlite3.Connection, prepare: Callable[[Select[Any]], _Prepared]):
        self._connection = connection
        self._prepare = prepare

    def _rows(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Iterator[Any]:
        prepared = self._prepare(statement)
        values = prepared.values(parameters)
        try:
            rows = self._connection.execute(prepared.sql, values).fetchall()
        except sqlite3.Error as error:
            raise DBAPIError.instance(prepared.sql, values, error, sqlite3.Error) from error
        return map(prepared.read, rows)

    def one(self, statement: Select[Any], parameters: Mapping[str, Any]) -> Sequence[Any]:
        (row,) = self._rows(statement, parameters)
        return row

    def all(self, statement: Select[Any], parameters: Mapping[str, Any]) -> list[Any]:
        return list(self._rows(statement, parameters))


class InPlaceReader:
    """Read transactions on a per-thread connection of an SQLite engine."""

    def __init__(self, engine: Engine) -> None:
        assert is_sqlite(engine), "in-place reads are for SQLite; PostgreSQL reads in threads"
        # Connections of their own, outside the pool: they wait less for a lock than the
        # pool's (which the writers use), and a thread's connection is never handed on.
        self.engine = sqlite_engine(
            engine.url.render_as_string(hide_password=False),
            BUSY_SECONDS,
            poolclass=NullPool,
            json_deserializer=json_text.loads,  # six JSON columns a consent
        )
        self._local = threading.local()
        self._opened: list[PoolProxiedConnection] = []
        self._lock = threading.Lock()
        self._prepared: dict[Select[Any], _Prepared] = {}

    def _connection(self) -> PoolProxiedConnection:
        connection: PoolProxiedConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            # The engine's connect hooks have run on it: WAL, the busy timeout, and no
            # transaction begun by the driver on its own (BEGIN is ours).
            connection = self._local.connection = self.engine.raw_connection()
            with self._lock:
                self._opened.append(connection)
        return connection

    def _prepare(self, statement: Select[Any]) -> _Prepared:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = _Prepared.of(statement, self.engine.dialect)
        return prepared

    def _drop(self, connection: PoolProxiedConnection) -> None:
        """A broken connection is not used again: the next read opens a new one."""
        self._local.connection = None
        with self._lock:
            if connection in self._opened:
                self._opened.remove(connection)
        connection.invalidate()

    @contextmanager
    def transaction(self) -> Iterator[Reads]:
        """One read transaction: a fresh snapshot, so a withdrawal just committed is seen."""
        connection = self._connection()
        driver: sqlite3.Connection = connection.driver_connection  # type: ignore[assignment]
        try:
            driver.execute("BEGIN")
        except sqlite3.Error as error:
            self._drop(connection)
            raise DBAPIError.instance("BEGIN", [], error, sqlite3.Error) from error
        broken = False
        try:
            yield _PreparedReads(driver, self._prepare)
        except SQLAlchemyError:
            broken = True
            raise
        finally:
            if broken:
                self._drop(connection)
            else:
                self._end(connection, driver)

    def _end(self, connection: PoolProxiedConnection, driver: sqlite3.Connection) -> None:
        """Nothing was written: the snapshot is let go (also after a 429 raised mid-read)."""
        try:
            if driver.in_transaction:
                driver.execute("ROLLBACK")
        except sqlite3.Error:
            self._drop(connection)

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
