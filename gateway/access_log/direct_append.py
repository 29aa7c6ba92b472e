"""The group committer's own connection: a batch in one round trip when the tree is as it left
it, in one short locked transaction when it is not.

The committer knows the tree's right edge after its last append. If the head still has that
size and root, nobody has appended since, and the batch (entries, the interior nodes it
completes, a checkpoint when one is due, the new head) is written without reading anything:

- PostgreSQL: one statement in its own transaction. Its first step updates the head only where
  size and root are still the ones the batch was placed on; that UPDATE also takes the head's
  row lock, so a concurrent appender in another process waits, and then finds the head moved.
  The inserts run only if the UPDATE matched. The statement text never changes, so the server
  keeps it prepared.
- SQLite: one `BEGIN IMMEDIATE` transaction on a raw connection, checking the head first.

If the head has moved (another gateway process, a consent change in this one), the batch is
placed again on the edge read under the head's lock (`SELECT … FOR UPDATE` on PostgreSQL, the
same `BEGIN IMMEDIATE` on SQLite) and written in that transaction. Either way the batch is one
transaction: all its entries or none.
"""

from __future__ import annotations

import contextlib
import select
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from gateway.access_log import merkle
from gateway.access_log.checkpoints import CheckpointSigner
from gateway.access_log.entries import COLUMNS, Draft, Placed, last_edge, place, remember_edge
from gateway.access_log.models import CheckpointRow
from gateway.access_log.tree_store import TreeIncomplete, sqlite_value
from gateway.db import is_sqlite, writer_lock
from schemas.consent import ConsentRef

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
), uses AS (
    UPDATE consent_usage AS u SET use_count = u.use_count + x.n, last_used_at = %(used_at)s
    FROM unnest(%(use_id)b::text[], %(use_version)b::int[], %(use_n)b::bigint[]) AS x(id, v, n)
    WHERE u.consent_id = x.id AND u.version = x.v AND EXISTS (SELECT FROM head)
), checkpoint AS (
    INSERT INTO log_checkpoint (size, root, at, key_id, note)
    SELECT * FROM unnest(%(cp_size)b::bigint[], %(cp_root)b::text[], %(cp_at)b::timestamptz[],
                         %(cp_key_id)b::text[], %(cp_note)b::text[])
    WHERE EXISTS (SELECT FROM head)
)
SELECT count(*) FROM head
"""


@dataclass
class ConsentUses:
    """How many of a batch's views relied on each consent version, and when the latest did:
    counted in the batch's own transaction, so a view and its count commit together."""

    counts: Counter[tuple[str, int]] = field(default_factory=Counter)
    last_at: datetime | None = None

    def add(self, refs: Iterable[ConsentRef], at: datetime) -> None:
        self.counts.update((ref.id, ref.version) for ref in refs)
        self.last_at = at if self.last_at is None else max(self.last_at, at)


class DirectAppender:
    """Owned by one committer thread; holds one connection of its own until `close`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)
        self._connection: Any = None  # the driver's own connection, out of the pool
        # Whether the last batch found the head moved: then another process is appending too,
        # and the next batch goes to the lock at once instead of trying its luck first.
        self._contended = False

    def append(
        self,
        drafts: list[Draft],
        signer: CheckpointSigner | None,
        uses: ConsentUses | None = None,
    ) -> Placed:
        """Number, hash and store the drafts at the end of the tree, and count the consent uses,
        in one transaction.

        Raises if the database fails; then nothing of the batch is written."""
        uses = uses or ConsentUses()
        try:
            if self._sqlite:
                placed = self._append_sqlite(drafts, signer, uses)
            else:
                placed = self._append_postgres(drafts, signer, uses)
        except Exception:
            self._discard()
            raise
        remember_edge(self._engine, placed)
        return placed

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()  # detached: really closed

    def _connect(self) -> Any:
        if self._connection is not None and not self._sqlite and not _still_open(self._connection):
            # The server (or the network between) closed it while we were idle: after an
            # outage the first entry must not fail on the connection the outage killed.
            self._discard()
        if self._connection is None:
            pooled = self._engine.raw_connection()  # made as the engine makes them (pragmas)
            # The committer keeps it for as long as it runs and closes it itself; the pool's
            # slot is given back now, and an engine disposed meanwhile holds nothing of ours.
            pooled.detach()
            self._connection = pooled.dbapi_connection
            if not self._sqlite:
                # One statement is one transaction: no BEGIN and COMMIT round trips.
                self._connection.autocommit = True
        return self._connection

    def _discard(self) -> None:
        """A connection that failed is not trusted again."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):  # it is being thrown away
                connection.close()

    def _append_postgres(
        self, drafts: list[Draft], signer: CheckpointSigner | None, uses: ConsentUses
    ) -> Placed:
        driver = self._connect()
        known = last_edge(self._engine)
        with driver.cursor() as cursor:
            if known is not None and not self._contended:
                placed = place(known[1], known[0], drafts)
                if _write_postgres(cursor, placed, _checkpoint(signer, placed), uses):
                    return placed
            with driver.transaction():
                cursor.execute("SELECT size, head_hash FROM log_head WHERE id = 1 FOR UPDATE")
                size, root = cursor.fetchone()
                if known is not None and (known[1].size, known[0]) == (size, root):
                    edge, self._contended = known[1], False
                else:
                    edge, self._contended = _read_edge(cursor, size, "%s"), known is not None
                placed = place(edge, root, drafts)
                if not _write_postgres(cursor, placed, _checkpoint(signer, placed), uses):
                    raise TreeIncomplete("the log head moved while it was locked")
        return placed

    def _append_sqlite(
        self, drafts: list[Draft], signer: CheckpointSigner | None, uses: ConsentUses
    ) -> Placed:
        connection = self._connect()
        known = last_edge(self._engine)
        with writer_lock(self._engine):
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                size, root = cursor.execute(
                    "SELECT size, head_hash FROM log_head WHERE id = 1"
                ).fetchone()
                if known is not None and (known[1].size, known[0]) == (size, root):
                    edge = known[1]
                else:
                    edge = _read_edge(cursor, size, "?")
                placed = place(edge, root, drafts)
                _write_sqlite(cursor, placed, _checkpoint(signer, placed), uses)
                cursor.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.close()
        return placed


def _still_open(connection: Any) -> bool:
    """Whether an idle PostgreSQL connection is still usable, without a round trip: between
    our statements the server sends nothing, so a readable socket means it sent EOF or an
    error (it closed the connection, or a reset arrived)."""
    if connection.closed or connection.broken:
        return False
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _checkpoint(signer: CheckpointSigner | None, placed: Placed) -> CheckpointRow | None:
    """A signed checkpoint when the batch passes a multiple of `checkpoint_every_entries`."""
    if signer is None or not signer.due(placed.old_size, placed.size):
        return None
    return signer.sign(placed.size, placed.root)


def _write_postgres(
    cursor: Any, placed: Placed, checkpoint: CheckpointRow | None, uses: ConsentUses
) -> bool:
    """The batch, if the head is where it was placed; False (nothing written) if it moved."""
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
        "use_id": [consent for consent, _ in uses.counts],
        "use_version": [version for _, version in uses.counts],
        "use_n": list(uses.counts.values()),
        "used_at": uses.last_at,
    }
    cursor.execute(_POSTGRES_APPEND, parameters, prepare=True)
    (matched,) = cursor.fetchone()
    return bool(matched)


def _write_sqlite(
    cursor: Any, placed: Placed, checkpoint: CheckpointRow | None, uses: ConsentUses
) -> None:
    rows = [tuple(sqlite_value(value) for value in row) for row in placed.rows]
    marks = ", ".join(["?"] * len(COLUMNS))
    cursor.executemany(
        f"INSERT INTO access_entry ({', '.join(COLUMNS)}) VALUES ({marks})",  # noqa: S608
        rows,
    )
    cursor.executemany("INSERT INTO merkle_node (level, idx, hash) VALUES (?, ?, ?)", placed.nodes)
    if checkpoint is not None:
        cursor.execute(
            "INSERT INTO log_checkpoint (size, root, at, key_id, note) VALUES (?, ?, ?, ?, ?)",
            [sqlite_value(getattr(checkpoint, name)) for name in _CHECKPOINT_COLUMNS],
        )
    if uses.counts:
        used_at = sqlite_value(uses.last_at)
        cursor.executemany(
            "UPDATE consent_usage SET use_count = use_count + ?, last_used_at = ? "
            "WHERE consent_id = ? AND version = ?",
            [(n, used_at, consent, version) for (consent, version), n in uses.counts.items()],
        )
    cursor.execute(
        "UPDATE log_head SET size = ?, head_hash = ? WHERE id = 1",
        (placed.size, placed.root.hex()),
    )


def _read_edge(cursor: Any, size: int, mark: str) -> merkle.CompactRange:
    """The right edge of the tree of `size` leaves: its peaks, in at most two queries."""
    peaks = merkle.peaks_of(size)
    found: dict[merkle.Node, bytes] = {}
    for level, index in peaks:
        if level == 0:  # at most one peak is a single leaf: the last entry
            cursor.execute(f"SELECT hash FROM access_entry WHERE seq = {mark}", (index + 1,))  # noqa: S608
            row = cursor.fetchone()
            if row is not None:
                found[(0, index)] = bytes.fromhex(row[0])
    inner = [(level, index) for level, index in peaks if level > 0]
    if inner:
        either = " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(inner))
        cursor.execute(
            f"SELECT level, idx, hash FROM merkle_node WHERE {either}",  # noqa: S608
            [value for node in inner for value in node],
        )
        found.update({(level, idx): bytes(digest) for level, idx, digest in cursor.fetchall()})
    missing = [node for node in peaks if node not in found]
    if missing:
        raise TreeIncomplete(f"missing tree nodes {missing[:5]}")
    return merkle.CompactRange.from_peaks(size, [found[node] for node in peaks])
