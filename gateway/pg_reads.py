"""A view's reads made on the event loop on PostgreSQL (see gateway/view_reads.py).

The reads go over the network, so they must not block the loop: they run on psycopg's
asynchronous connection, from a pool of their own (`read_pool_size`, `read_max_overflow`), with
the SQL SQLAlchemy compiled once, and all of a view's reads in one round trip (pipeline mode).
In a worker thread, through SQLAlchemy, the same reads cost 2.1 ms of CPU a view under 16
concurrent views; on the loop, on the driver, 1.2 to 1.5 ms (in process, one run, 4 consents
and the limits' counts). With a ping, BEGIN, each statement and COMMIT a round trip of its
own, two reads made five; in one pipeline, 16 concurrent readers spent 197 us of CPU a read
instead of 326 (in process, two selects, alternating runs). A pool smaller than the views in
flight opens and closes connections all the time: hence 10 + 20 by default, as the main pool.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from adapters import json_text
from gateway.db import bounded_connections
from gateway.db_settings import PoolSettings
from gateway.view_reads import Batch, Prepared


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class _Stale(Exception):
    """The pooled connection was lost (the server restarted, a failover, an idle timeout): the
    read's answers with it, so it is sent again on a fresh connection."""


class EventLoopReader:
    """Read transactions on pooled asynchronous psycopg connections, in one round trip each:
    the statements go out together in pipeline mode on an autocommit connection, so up to the
    pipeline's Sync they are one implicit transaction (PostgreSQL's extended protocol), with
    no BEGIN, COMMIT or ping of their own. A read that finds its connection dead is sent once
    more on a new one, instead of pinging every connection before use: it only reads."""

    def __init__(self, engine: Engine, pool: PoolSettings) -> None:
        assert is_postgresql(engine), "event-loop reads are for PostgreSQL"
        # Made here, used on the serving loop: a pooled connection belongs to the loop that
        # opened it, and each process (each worker) serves on one loop.
        self.engine = create_async_engine(
            engine.url.set(drivername="postgresql+psycopg"),
            pool_size=pool.read_pool_size,
            max_overflow=pool.read_max_overflow,
            pool_timeout=pool.pool_timeout_seconds,
            isolation_level="AUTOCOMMIT",
            connect_args=bounded_connections(pool),
            json_deserializer=json_text.loads,
        )
        # Positional placeholders (%s) for the SQL handed to psycopg itself.
        self._prepared = Prepared(PGDialect_psycopg(paramstyle="format"))  # type: ignore[no-untyped-call]

    async def read(self, batch: Batch) -> list[list[Any]]:
        """One read transaction; SQLAlchemy's errors (no connection, the pool's timeout), or
        the driver's as SQLAlchemy's DBAPIError."""
        try:
            return await self._read(batch, retry=True)
        except _Stale:
            # What killed this connection (a restart, a failover) killed the pool's others as
            # well: the pool is emptied, and the read goes out on a connection made now.
            await self.engine.dispose()
            return await self._read(batch, retry=False)

    async def _read(self, batch: Batch, *, retry: bool) -> list[list[Any]]:
        prepared = [(self._prepared(statement), parameters) for statement, parameters in batch]
        sql, values = "", []
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
            try:
                cursors = []
                async with driver.pipeline():
                    for read, parameters in prepared:
                        sql, values = read.sql, read.values(parameters)
                        cursor = driver.cursor()
                        await cursor.execute(sql, values)
                        cursors.append(cursor)
                # Leaving the pipeline sent it, with its Sync, and took in every answer.
                return [
                    [read.read(row) for row in await cursor.fetchall()]
                    for cursor, (read, _) in zip(cursors, prepared, strict=True)
                ]
            except psycopg.Error as error:
                # Judged before invalidating, which closes it: an error of the statement's own
                # (a timeout, a missing table) is not sent again and leaves the pool alone.
                lost = driver.broken
                await connection.invalidate()  # not handed out again
                if retry and lost:
                    raise _Stale from error
                raise DBAPIError.instance(sql, values, error, psycopg.Error) from error
            except BaseException:
                # Cancelled mid-statement (a shutdown), say: the connection's state is unknown.
                await connection.invalidate()
                raise

    async def close(self) -> None:
        await self.engine.dispose()
