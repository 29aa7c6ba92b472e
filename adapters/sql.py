"""`sql`: a department database that IT operations may only read, one query per category.

    [[sources]]
    name = "health-eoj"
    kind = "sql"
    department = "health"
    categories = ["case-overview", "health"]
    url = "sqlite:////srv/eoj/eoj.sqlite"          # any SQLAlchemy URL
    [sources.queries]                              # the citizen is only ever the bound :citizen
    case-overview = "SELECT * FROM forloeb_v WHERE cpr = :citizen"
    health = "SELECT * FROM diagnose_v WHERE cpr = :citizen"
    [sources.mapping]  ...                         # see adapters.mapping; records = "@"

Every query runs in a transaction that is read-only and rolled back, under a statement timeout
of what is left of the deadline: SQLite is opened read-only and interrupted by a progress
handler; PostgreSQL gets `SET TRANSACTION READ ONLY` and `SET LOCAL statement_timeout`. Other
databases get the rollback and the account's own grants, which should be read-only anyway.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from adapters.mapping import FragmentMapping, to_plain
from adapters.protocol import (
    PROTOCOL_VERSION,
    FetchRequest,
    FetchResult,
    Health,
    SourceConfig,
    SourceUnavailable,
)

# SQLite's progress handler runs every this many virtual-machine instructions.
_PROGRESS_STEPS = 1000


class SqlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="SQLAlchemy URL; postgresql:// uses psycopg 3")
    queries: dict[str, str] = Field(description="Category -> SELECT with the bound :citizen")
    max_rows: int = Field(default=10_000, gt=0, description="More rows make the source unavailable")
    pool_size: int = Field(default=5, ge=1, le=100)
    mapping: FragmentMapping

    @field_validator("url")
    @classmethod
    def _parseable(cls, url: str) -> str:
        try:
            make_url(url)
        except ArgumentError:
            raise ValueError("not a SQLAlchemy URL") from None
        return url

    @field_validator("queries")
    @classmethod
    def _citizen_is_bound(cls, queries: dict[str, str]) -> dict[str, str]:
        for category, query in queries.items():
            if "{" in query or "%s" in query or "?" in query:
                raise ValueError(
                    f"{category}: use the named parameter :citizen, never string formatting"
                )
            if "citizen" not in text(query).compile().params:
                raise ValueError(f"{category}: the query must use the bound parameter :citizen")
        return queries


def _engine_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _read_only_sqlite(database: str) -> sqlite3.Connection:
    # mode=ro: the file is opened read-only by SQLite itself, whatever the query says.
    return sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)


class SqlAdapter:
    protocol_version: ClassVar[int] = PROTOCOL_VERSION
    idempotent = True  # read-only transactions, always rolled back

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.options = SqlOptions.model_validate(config.options)
        unknown = set(self.options.queries) - set(config.categories)
        missing = set(config.categories) - set(self.options.queries)
        if unknown or missing:
            raise ValueError(
                "queries: one query per category of the source (missing: "
                f"{sorted(missing) or 'none'}; not a category: {sorted(unknown) or 'none'})"
            )
        self._queries = {c: text(q) for c, q in self.options.queries.items()}
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            url = make_url(_engine_url(self.options.url))
            if url.get_backend_name() == "sqlite":
                database = url.database or ""
                self._engine = create_engine(
                    "sqlite://",
                    creator=lambda: _read_only_sqlite(database),
                    pool_size=self.options.pool_size,
                )
                event.listen(self._engine, "connect", _sqlite_query_only)
            else:
                self._engine = create_engine(
                    url, pool_size=self.options.pool_size, max_overflow=0, pool_pre_ping=True
                )
        return self._engine

    @contextmanager
    def _read_only(self, seconds: float) -> Iterator[Connection]:
        """A connection in a read-only transaction that ends within `seconds`, rolled back."""
        with self.engine.connect() as connection:
            dialect = connection.dialect.name
            raw: Any = connection.connection.driver_connection
            if dialect == "sqlite":
                stop_at = time.monotonic() + seconds
                raw.set_progress_handler(lambda: int(time.monotonic() > stop_at), _PROGRESS_STEPS)
            transaction = connection.begin()
            try:
                if dialect == "postgresql":
                    connection.execute(text("SET TRANSACTION READ ONLY"))
                    # A literal, not a parameter (SET takes none); an int, so nothing else fits.
                    milliseconds = max(1, int(seconds * 1000))
                    connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
                yield connection
            finally:
                transaction.rollback()
                if dialect == "sqlite":
                    raw.set_progress_handler(None, _PROGRESS_STEPS)

    def _query(self, citizen: str, categories: frozenset[str], seconds: float) -> list[Any]:
        rows: list[Any] = []
        with self._read_only(seconds) as connection:
            for category in sorted(categories & set(self._queries)):
                result = connection.execute(self._queries[category], {"citizen": citizen})
                for row in result.mappings():
                    rows.append(to_plain(dict(row)))
                    if len(rows) > self.options.max_rows:
                        raise SourceUnavailable(
                            "too_large", f"more than {self.options.max_rows} rows"
                        )
        return rows

    async def fetch(self, request: FetchRequest) -> FetchResult:
        try:
            rows = await asyncio.to_thread(
                self._query, request.citizen, request.categories, request.timeout
            )
        except DBAPIError as error:
            raise _failure(error) from None
        except SQLAlchemyError as error:
            raise SourceUnavailable("query_failed", type(error).__name__) from None
        return self.options.mapping.map_document(
            rows, source=self.config.name, department=self.config.department
        )

    def _ping(self) -> None:
        with self._read_only(5) as connection:
            connection.execute(text("SELECT 1"))

    async def check_health(self) -> Health:
        started = time.perf_counter()
        try:
            await asyncio.to_thread(self._ping)
        except SQLAlchemyError as error:
            return Health(False, _failure(error).message)
        return Health(True, "SELECT 1 answered", (time.perf_counter() - started) * 1000)

    async def aclose(self) -> None:
        if self._engine is not None:
            await asyncio.to_thread(self._engine.dispose)


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only = ON")


_TIMEOUT_MESSAGES = re.compile(r"interrupted|statement timeout|canceling statement", re.I)


def _failure(error: SQLAlchemyError) -> SourceUnavailable:
    # The driver's message may quote the statement's parameters (a CPR): only its class leaves.
    original = getattr(error, "orig", None)
    if original is not None and _TIMEOUT_MESSAGES.search(str(original)):
        return SourceUnavailable("timeout", "the query ran past its statement timeout")
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return SourceUnavailable("unreachable", type(original).__name__, retryable=True)
    name = type(original).__name__ if original is not None else type(error).__name__
    if name == "OperationalError" and "no such" not in str(original):
        return SourceUnavailable("unreachable", name, retryable=True)
    return SourceUnavailable("query_failed", name)
