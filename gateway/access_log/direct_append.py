"""The group committer's own connection: a whole batch in one round trip, when it can.

The committer knows the tree's right edge after its last append. If the head still has that
size and root, nobody has appended since, and the batch (entries, the interior nodes it
completes, a checkpoint when one is due, the new head) is written without reading anything:

- PostgreSQL: one statement in its own transaction. Its first step updates the head only where
  size and root are still the ones the batch was placed on; that UPDATE also takes the head's
  row lock, so a concurrent appender in another process waits, and then finds the head moved.
  The inserts run only if the UPDATE matched. The statement text never changes, so the server
  keeps it prepared.
- SQLite: one `BEGIN IMMEDIATE` transaction on a raw connection, checking the head first.

If the head has moved (another process, or a consent change in this one), nothing is written
and `append` says so: the committer then appends the ordinary way, reading the edge under the
lock (`entries.write_entries`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import Engine

from gateway.access_log.entries import COLUMNS, Placed
from gateway.access_log.models import CheckpointRow
from gateway.access_log.tree_store import sqlite_value
from gateway.db import is_sqlite, writer_lock

_CHECKPOINT_COLUMNS = ["size", "root", "at", "key_id", "note"]

# Arrays in, rows out: the same text for a batch of 1 or of 500 entries.
_POSTGRES_APPEND = """
WITH head AS (
    UPDATE log_head SET size = %(size)s, head_hash = %(root)s
    WHERE id = 1 AND size = %(old_size)s AND head_hash = %(old_root)s
    RETURNING id
), entries AS (
    INSERT INTO access_entry (seq, at, action, outcome, actor_subject, actor_department,
                              citizen_hash, body, hash)
    SELECT * FROM unnest(%(seq)b::bigint[], %(at)b::timestamptz[], %(action)b::text[],
                         %(outcome)b::text[], %(actor_subject)b::text[],
                         %(actor_department)b::text[], %(citizen_hash)b::text[],
                         %(body)b::text[], %(hash)b::text[])
    WHERE EXISTS (SELECT FROM head)
), nodes AS (
    INSERT INTO merkle_node (level, idx, hash)
    SELECT * FROM unnest(%(level)b::smallint[], %(idx)b::bigint[], %(node)b::bytea[])
    WHERE EXISTS (SELECT FROM head)
), checkpoint AS (
    INSERT INTO log_checkpoint (size, root, at, key_id, note)
    SELECT * FROM unnest(%(cp_size)b::bigint[], %(cp_root)b::text[], %(cp_at)b::timestamptz[],
                         %(cp_key_id)b::text[], %(cp_note)b::text[])
    WHERE EXISTS (SELECT FROM head)
)
SELECT count(*) FROM head
"""


class DirectAppender:
    """Owned by one committer thread; holds one pooled connection until `close`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)
        self._connection: Any = None  # the pool's connection (a proxy for the driver's)

    def append(self, placed: Placed, checkpoint: CheckpointRow | None) -> bool:
        """Write the batch if the head is still where it was placed; False if it has moved.

        Raises if the database fails; then nothing of the batch is written.
        """
        try:
            if self._sqlite:
                return self._append_sqlite(placed, checkpoint)
            return self._append_postgres(placed, checkpoint)
        except Exception:
            self._discard()
            raise

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            if not self._sqlite:
                connection.driver_connection.autocommit = False
            connection.close()  # back to the pool

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = self._engine.raw_connection()
            if not self._sqlite:
                # One statement is one transaction: no BEGIN and COMMIT round trips.
                self._connection.driver_connection.autocommit = True
        return self._connection

    def _discard(self) -> None:
        """A connection that failed is not trusted again, nor given back to the pool."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):  # it is being thrown away
                connection.invalidate()

    def _append_postgres(self, placed: Placed, checkpoint: CheckpointRow | None) -> bool:
        columns = list(zip(*placed.rows, strict=True))
        nodes = list(zip(*placed.nodes, strict=True)) or [(), (), ()]
        points = [checkpoint] if checkpoint is not None else []
        parameters = {
            "size": placed.size,
            "root": placed.root.hex(),
            "old_size": placed.old_size,
            "old_root": placed.old_root,
            **{name: list(values) for name, values in zip(COLUMNS, columns, strict=True)},
            "level": list(nodes[0]),
            "idx": list(nodes[1]),
            "node": list(nodes[2]),
            **{f"cp_{name}": [getattr(p, name) for p in points] for name in _CHECKPOINT_COLUMNS},
        }
        driver = self._connect().driver_connection
        with driver.cursor() as cursor:
            cursor.execute(_POSTGRES_APPEND, parameters, prepare=True)
            (matched,) = cursor.fetchone()
        return bool(matched)

    def _append_sqlite(self, placed: Placed, checkpoint: CheckpointRow | None) -> bool:
        connection = self._connect()
        with writer_lock(self._engine):
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                head = cursor.execute("SELECT size, head_hash FROM log_head WHERE id = 1")
                if tuple(head.fetchone()) != (placed.old_size, placed.old_root):
                    cursor.execute("ROLLBACK")
                    return False
                rows = [tuple(sqlite_value(value) for value in row) for row in placed.rows]
                marks = ", ".join(["?"] * len(COLUMNS))
                cursor.executemany(
                    f"INSERT INTO access_entry ({', '.join(COLUMNS)}) VALUES ({marks})",  # noqa: S608
                    rows,
                )
                cursor.executemany(
                    "INSERT INTO merkle_node (level, idx, hash) VALUES (?, ?, ?)", placed.nodes
                )
                if checkpoint is not None:
                    cursor.execute(
                        "INSERT INTO log_checkpoint (size, root, at, key_id, note)"
                        " VALUES (?, ?, ?, ?, ?)",
                        [sqlite_value(getattr(checkpoint, name)) for name in _CHECKPOINT_COLUMNS],
                    )
                cursor.execute(
                    "UPDATE log_head SET size = ?, head_hash = ? WHERE id = 1",
                    (placed.size, placed.root.hex()),
                )
                cursor.execute("COMMIT")
            except BaseException:
                if connection.driver_connection.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.close()
        return True
