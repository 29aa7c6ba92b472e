"""A view's reads (the user's limits, the citizen's consents): statements compiled once, run
on the database driver itself, in one read transaction.

Each view makes the same two reads. Run through an SQLAlchemy Connection, each costs about
100 us of bookkeeping (cache key, execution context, result object) around the driver's own
work, and on PostgreSQL the trip to a worker thread costs more again (the thread and the event
loop taking the GIL from each other). So SQLAlchemy compiles each statement once, for the
backend's dialect, and hands over its SQL and its type processors; the driver runs it:

- SQLite (a file): in place, on the serving thread's own connection (gateway/in_place_reads.py).
- PostgreSQL: on the event loop, through psycopg's asynchronous connection (gateway/pg_reads.py).
- Anything else (an in-memory SQLite database in a test): through SQLAlchemy, in a thread.

The rows come back as named tuples, typed as SQLAlchemy would type them (aware UTC times,
dates, JSON), so the code that reads them does not know which backend answered.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select
from starlette.concurrency import run_in_threadpool

# Statements and their parameters, run in order in one read transaction; one list of rows each.
Batch = Sequence[tuple[Select[Any], Mapping[str, Any]]]


class ViewReader(Protocol):
    async def read(self, batch: Batch) -> list[list[Any]]:
        """The rows of each statement; an SQLAlchemyError when the database cannot answer."""
        ...

    async def close(self) -> None: ...


Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class PreparedRead:
    """A statement as the driver runs it: its SQL with positional placeholders, where each
    takes its value from, the types' processors for the values bound and the columns read,
    and a row class."""

    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]  # values the statement binds itself (literals, an IN list)
    binders: tuple[Processor, ...]
    readers: tuple[Processor, ...]
    row: Any  # a namedtuple class: rows read by name or position

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> PreparedRead:
        """`dialect` must have a positional paramstyle (SQLite's qmark, psycopg's format)."""
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
                None if bind is None else bind.type.dialect_impl(dialect).bind_processor(dialect)
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
            row=namedtuple("Row", [c.key or "_" for c in columns], rename=True),
        )

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        fixed = self.fixed
        values = []
        for name, bind in zip(self.names, self.binders, strict=True):
            value = parameters[name] if name in parameters else fixed[name]
            values.append(bind(value) if bind is not None and value is not None else value)
        return values

    def read(self, row: Sequence[Any]) -> Any:
        return self.row._make(
            value if read is None or value is None else read(value)
            for read, value in zip(self.readers, row, strict=True)
        )


class Prepared:
    """The prepared form of each statement, made on first use (statements are module-level
    constants: a handful per process)."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._prepared: dict[Select[Any], PreparedRead] = {}

    def __call__(self, statement: Select[Any]) -> PreparedRead:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = self._prepared[statement] = PreparedRead.of(statement, self._dialect)
        return prepared


class ThreadReader:
    """Through SQLAlchemy in a worker thread: for a database neither reader serves."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _read(self, batch: Batch) -> list[list[Any]]:
        with self.engine.connect() as connection, connection.begin():
            return [list(connection.execute(s, p)) for s, p in batch]

    async def read(self, batch: Batch) -> list[list[Any]]:
        return await run_in_threadpool(self._read, batch)

    async def close(self) -> None:
        return None
