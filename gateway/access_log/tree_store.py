"""The Merkle tree in the database: leaf hashes on `access_entry`, interior nodes in
`merkle_node`, size and root on `log_head`. Roots and proofs read O(log n) rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlmodel import Session, col

from gateway.access_log import merkle
from gateway.access_log.models import AccessEntryRow, LogHeadRow, MerkleNodeRow

_ENTRIES = AccessEntryRow.__table__  # type: ignore[attr-defined]
_NODES = MerkleNodeRow.__table__  # type: ignore[attr-defined]
_HEAD = LogHeadRow.__table__  # type: ignore[attr-defined]


class TreeIncomplete(Exception):
    """A node the tree needs is not stored: the database has been changed behind our back."""


@dataclass(frozen=True)
class Head:
    size: int
    root: str  # hex
    pruned_through: int


def lock_head(session: Session) -> Head:
    """The head row, locked until the transaction ends: appends happen one at a time."""
    row = session.execute(
        select(_HEAD.c.size, _HEAD.c.head_hash, _HEAD.c.pruned_through)
        .where(_HEAD.c.id == 1)
        .with_for_update()
    ).one()
    return Head(size=row[0], root=row[1], pruned_through=row[2])


def read_head(session: Session) -> Head:
    row = session.execute(
        select(_HEAD.c.size, _HEAD.c.head_hash, _HEAD.c.pruned_through).where(_HEAD.c.id == 1)
    ).one()
    return Head(size=row[0], root=row[1], pruned_through=row[2])


def read_nodes(session: Session, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    wanted = set(wanted)
    found: dict[merkle.Node, bytes] = {}
    leaves = [index for level, index in wanted if level == 0]
    if leaves:
        rows = session.execute(
            select(_ENTRIES.c.seq, _ENTRIES.c.hash).where(
                _ENTRIES.c.seq.in_([index + 1 for index in leaves])
            )
        )
        found.update({(0, seq - 1): bytes.fromhex(digest) for seq, digest in rows})
    by_level: dict[int, list[int]] = {}
    for level, index in wanted:
        if level > 0:
            by_level.setdefault(level, []).append(index)
    if by_level:
        # One (level = L AND idx IN …) per level: both databases use the primary key for it,
        # where a row-value IN list makes SQLite scan the table.
        rows = session.execute(
            select(_NODES.c.level, _NODES.c.idx, _NODES.c.hash).where(
                or_(
                    *(
                        and_(_NODES.c.level == lv, _NODES.c.idx.in_(ix))
                        for lv, ix in by_level.items()
                    )
                )
            )
        )
        found.update({(level, idx): bytes(digest) for level, idx, digest in rows})
    missing = wanted - found.keys()
    if missing:
        raise TreeIncomplete(f"missing tree nodes {sorted(missing)[:5]}")
    return found


def compact_range(session: Session, size: int) -> merkle.CompactRange:
    """The right edge of the tree of `size` leaves, to append to."""
    peaks = merkle.peaks_of(size)
    nodes = read_nodes(session, peaks)
    return merkle.CompactRange.from_peaks(size, [nodes[node] for node in peaks])


def insert_rows(
    session: Session, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Many rows in one round trip (table and columns are ours, never input): one
    multi-row INSERT on PostgreSQL (psycopg would send a statement per row), the driver's
    executemany loop on SQLite (already in C)."""
    if not rows:
        return
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        flat = [value for values in rows for value in values]
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * len(rows))}",  # noqa: S608
            tuple(flat),
        )
    else:
        marks = ", ".join(["?"] * len(columns))
        rows = [tuple(sqlite_value(value) for value in values) for values in rows]
        statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        connection.exec_driver_sql(statement, rows)


def sqlite_value(value: Any) -> Any:
    """Times as SQLAlchemy stores them in SQLite (UTC, no offset), so reads and filters agree."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def store_nodes(session: Session, completed: list[tuple[int, int, bytes]]) -> None:
    insert_rows(session, "merkle_node", ["level", "idx", "hash"], completed)


def set_head(session: Session, *, size: int, root: bytes) -> None:
    session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(size=size, head_hash=root.hex()))


def root_at(session: Session, size: int) -> bytes:
    peaks = merkle.peaks_of(size)
    nodes = read_nodes(session, peaks)
    return merkle.fold([nodes[node] for node in peaks])


def inclusion_proof(session: Session, *, index: int, size: int) -> list[bytes]:
    parts = merkle.inclusion_parts(index, size)
    nodes = read_nodes(session, merkle.needed_nodes(parts))
    return merkle.resolve(parts, nodes.__getitem__)


def consistency_proof(session: Session, *, first: int, second: int) -> list[bytes]:
    parts = merkle.consistency_parts(first, second)
    nodes = read_nodes(session, merkle.needed_nodes(parts))
    return merkle.resolve(parts, nodes.__getitem__)


def leaf_hashes(session: Session, seqs: Iterable[int]) -> dict[int, bytes]:
    rows = session.execute(
        select(col(AccessEntryRow.seq), col(AccessEntryRow.hash)).where(
            col(AccessEntryRow.seq).in_(list(seqs))
        )
    )
    return {seq: bytes.fromhex(digest) for seq, digest in rows}
