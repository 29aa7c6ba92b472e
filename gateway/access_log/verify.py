"""Full verification: recompute every leaf and node from the stored entries, check every
signed checkpoint against the recomputed tree, and name the first position that fails."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlmodel import Session

from gateway.access_log import merkle, signed_note, tree_store
from gateway.access_log.models import PRUNED, AccessEntryRow, CheckpointRow, MerkleNodeRow
from schemas.access import VerifyReport

_ENTRIES = AccessEntryRow.__table__  # type: ignore[attr-defined]
_NODES = MerkleNodeRow.__table__  # type: ignore[attr-defined]
_CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]

Progress = Callable[[int, int], None]


class _Failed(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.reason = seq, reason


class _StoredNodes:
    """The stored interior nodes, read level by level in the order the tree completes them."""

    def __init__(self, session: Session, batch: int) -> None:
        self._session, self._batch = session, batch
        self._buffers: dict[int, deque[tuple[int, bytes]]] = {}
        self._next: dict[int, int] = {}

    def matches(self, level: int, index: int, digest: bytes) -> bool:
        buffer = self._buffers.setdefault(level, deque())
        if not buffer:
            start = self._next.get(level, 0)
            rows = self._session.execute(
                select(_NODES.c.idx, _NODES.c.hash)
                .where(_NODES.c.level == level, _NODES.c.idx >= start)
                .order_by(_NODES.c.idx)
                .limit(self._batch)
            ).all()
            buffer.extend((idx, bytes(h)) for idx, h in rows)
            if rows:
                self._next[level] = rows[-1][0] + 1
        return bool(buffer) and buffer.popleft() == (index, digest)


_COLUMNS = ("action", "outcome", "actor_subject", "actor_department", "citizen_hash")


def _same_time(stored: Any, text: Any) -> bool:
    """SQLite hands the column back as text in SQLAlchemy's UTC format, PostgreSQL as a time."""
    if not isinstance(text, str):
        return False
    if isinstance(stored, str):
        if len(text) == 32 and text.endswith("+00:00"):  # the usual case, without parsing
            return stored == f"{text[:10]} {text[11:26]}"
        try:
            moment = datetime.fromisoformat(text).astimezone(UTC)
        except ValueError:
            return False
        return stored == moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    try:
        return bool(stored == datetime.fromisoformat(text))
    except ValueError:
        return False


def _columns_disagree(row: Any, body: dict[str, Any]) -> str | None:
    """The indexed columns must say what the body says, or filters could hide an entry."""
    actor = body.get("actor") or {}
    expected = (
        body.get("action"),
        body.get("outcome"),
        actor.get("subject"),
        actor.get("department"),
        body.get("citizen_hash"),
    )
    stored = (row.action, row.outcome, row.actor_subject, row.actor_department, row.citizen_hash)
    if stored != expected:
        name = next(n for n, a, b in zip(_COLUMNS, stored, expected, strict=True) if a != b)
        return f"column {name} does not match the entry"
    if not _same_time(row.at, body.get("at")):
        return "column at does not match the entry"
    return None


def _check_checkpoints(rows: list[Any], keys: list[Any], head_size: int) -> dict[int, bytes]:
    """Every checkpoint's note must be signed by a log key and say what its row says."""
    roots = {}
    for row in rows:
        try:
            note = signed_note.parse(row.note)
        except signed_note.NoteError as error:
            raise _Failed(row.size, f"checkpoint {row.size}: {error}") from None
        if not signed_note.verified_by(note, note.origin, keys):
            raise _Failed(row.size, f"checkpoint {row.size}: the signature does not verify")
        if note.size != row.size or note.root.hex() != row.root:
            raise _Failed(row.size, f"checkpoint {row.size}: the note and its row disagree")
        if row.size > head_size:
            raise _Failed(row.size, f"checkpoint {row.size} is beyond the log's end")
        roots[row.size] = note.root
    return roots


def _leaf_of(row: Any, pruned_through: int) -> tuple[bytes, bool]:
    """The entry's leaf hash, recomputed from its bytes; raises _Failed naming what is wrong."""
    seq = row.seq
    if row.body == PRUNED:
        if seq > pruned_through:
            raise _Failed(seq, "the entry's body is gone, but retention never pruned it")
        return bytes.fromhex(row.hash), True
    raw = row.body.encode("utf-8")
    leaf = merkle.leaf_hash(raw)
    if leaf.hex() != row.hash:
        raise _Failed(seq, "the entry's hash does not match its content")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _Failed(seq, "the entry is not valid JSON") from None
    recorded = body.get("seq") if isinstance(body, dict) else None
    if recorded != seq:
        # An entry written as position k now at k+1 means one was inserted at k; one written
        # as k+1 now at k means k was taken out and the rest moved up, or two were swapped.
        named = min(seq, recorded) if isinstance(recorded, int) and recorded > 0 else seq
        raise _Failed(
            named, f"entries are out of place: the entry at {seq} was written as {recorded}"
        )
    disagreement = _columns_disagree(row, body)
    if disagreement:
        raise _Failed(seq, disagreement)
    return leaf, False


Chunk = tuple[bytes, int, tuple[int, str] | None]  # leaves concatenated, pruned, failure


def _chunk(session: Session, start: int, end: int, pruned_through: int) -> Chunk:
    """Leaves of entries start..end-1, each checked; stops at the first failure."""
    # Plain text SQL: the driver's values as they are, without per-row type processing.
    rows = session.execute(_CHUNK_QUERY, {"start": start, "end": end}).all()
    leaves, pruned, expected = bytearray(), 0, start
    try:
        for row in rows:
            if row.seq != expected:
                raise _Failed(expected, f"entry {expected} is missing")
            leaf, was_pruned = _leaf_of(row, pruned_through)
            leaves += leaf
            pruned += was_pruned
            expected += 1
        if expected < end:
            raise _Failed(expected, f"entry {expected} is missing")
    except _Failed as error:
        return bytes(leaves), pruned, (error.seq, error.reason)
    return bytes(leaves), pruned, None


_CHUNK_QUERY = text(
    "SELECT seq, at, action, outcome, actor_subject, actor_department, citizen_hash, body, hash"
    " FROM access_entry WHERE seq >= :start AND seq < :end ORDER BY seq"
)
_WORKER_ENGINES: dict[str, Any] = {}


def _chunk_in_worker(task: tuple[str, int, int, int]) -> Chunk:
    from gateway.db import make_engine, read_session  # noqa: PLC0415

    url, start, end, pruned_through = task
    engine = _WORKER_ENGINES.get(url) or _WORKER_ENGINES.setdefault(url, make_engine(url))
    with read_session(engine) as session:
        return _chunk(session, start, end, pruned_through)


def _chunks(
    session: Session, size: int, pruned_through: int, batch: int, workers: int, url: str | None
) -> Iterator[Chunk]:
    ranges = [(start, min(start + batch, size + 1)) for start in range(1, size + 1, batch)]
    if workers < 2 or url is None or len(ranges) < 2:
        for start, end in ranges:
            yield _chunk(session, start, end, pruned_through)
        return
    # Reading, hashing and parsing entries is most of the work: other processes do it (the GIL
    # would serialise threads), in order, while this one builds the tree from their leaves.
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        tasks = [(url, start, end, pruned_through) for start, end in ranges]
        yield from pool.imap(_chunk_in_worker, tasks)


def verify_log(
    *,
    session: Session,
    keys: list[Any],
    batch: int = 20000,
    progress: Progress | None = None,
    workers: int = 0,
    database_url: str | None = None,
) -> VerifyReport:
    """Recompute the tree from the stored entries and check every checkpoint against it.

    With `workers` (and the database's URL), entries are checked in that many processes."""
    head = tree_store.read_head(session)
    total = session.execute(select(func.count()).select_from(_ENTRIES)).scalar_one()
    tree, pruned = merkle.CompactRange(), 0
    checkpoint_rows = session.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.size)).all()

    def report(error: _Failed | None) -> VerifyReport:
        return VerifyReport(
            ok=error is None,
            entries=tree.size if error is None else total,
            first_bad=error.seq if error else None,
            reason=error.reason if error else None,
            head=tree.root().hex(),
            checkpoints=len(checkpoint_rows),
            pruned=pruned,
        )

    try:
        roots = _check_checkpoints(checkpoint_rows, keys, head.size)
        if head.pruned_through and head.pruned_through not in roots:
            raise _Failed(head.pruned_through, "pruning did not end at a checkpoint")
        nodes = _StoredNodes(session, batch)
        for leaves, chunk_pruned, failure in _chunks(
            session, head.size, head.pruned_through, batch, workers, database_url
        ):
            for offset in range(0, len(leaves), 32):
                completed: list[tuple[int, int, bytes]] = []
                tree.append(leaves[offset : offset + 32], completed)
                for level, index, digest in completed:
                    if not nodes.matches(level, index, digest):
                        raise _Failed(
                            tree.size, f"stored tree node ({level}, {index}) does not match"
                        )
                root = roots.get(tree.size)
                if root is not None and tree.root() != root:
                    raise _Failed(
                        tree.size,
                        f"the tree of {tree.size} entries does not match its signed checkpoint",
                    )
            pruned += chunk_pruned
            if failure is not None:
                raise _Failed(*failure)
            if progress:
                progress(tree.size, total)
        if total != head.size:
            raise _Failed(
                head.size + 1, f"the log head records {head.size} entries, {total} are stored"
            )
        if head.root != tree.root().hex():
            raise _Failed(tree.size, "the log head's root does not match the entries")
    except _Failed as error:
        return report(error)
    return report(None)
