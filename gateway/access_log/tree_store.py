"""The Merkle tree in the database: leaf hashes on `access_entry`, interior nodes in
`merkle_node`, size and root on `log_head`. Roots and proofs read O(log n) rows."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, insert, or_, select, update
from sqlmodel import Session, col
from sqlmodel import select as select_rows

from gateway.access_log import merkle
from gateway.access_log.models import AccessEntryRow, LogHeadRow, MerkleNodeRow

_ENTRIES = AccessEntryRow.__table__  # type: ignore[attr-defined]
_NODES = MerkleNodeRow.__table__  # type: ignore[attr-defined]
_HEAD = LogHeadRow.__table__  # type: ignore[attr-defined]


class TreeIncomplete(Exception):
    """A node the tree needs is not stored: the database has been changed behind our back."""


def lock_head(session: Session) -> LogHeadRow:
    """The head row, locked until the transaction ends: appends happen one at a time."""
    query = select_rows(LogHeadRow).where(LogHeadRow.id == 1).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).one()


def read_head(session: Session) -> LogHeadRow:
    query = select_rows(LogHeadRow).where(LogHeadRow.id == 1)
    return session.exec(query.execution_options(populate_existing=True)).one()


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


def store_nodes(session: Session, completed: list[tuple[int, int, bytes]]) -> None:
    if completed:
        session.execute(
            insert(_NODES), [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in completed]
        )


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
