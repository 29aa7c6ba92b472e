"""Full verification: recompute every leaf and node from the stored entries, check every
signed checkpoint against the recomputed tree, and name the first position that fails."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from itertools import islice
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlmodel import Session

from gateway.access_log import merkle, signed_note, tree_store
from gateway.access_log.models import PRUNED, AccessEntryRow, CheckpointRow
from schemas.access import VerifyReport

_ENTRIES = AccessEntryRow.__table__  # type: ignore[attr-defined]
_NODE_QUERY = (
    "SELECT idx, hash FROM merkle_node WHERE level = {mark} AND idx >= {mark}"
    " ORDER BY idx LIMIT {mark}"
)
_CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]

Progress = Callable[[int, int], None]


class _Failed(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.reason = seq, reason


class _StoredNodes:
    """The stored interior nodes, read level by level in the order the tree completes them."""

    def __init__(self, session: Session, batch: int, first_leaf: int = 0) -> None:
        self._session, self._batch, self._first_leaf = session, batch, first_leaf
        self._buffers: dict[int, deque[tuple[int, bytes]]] = {}
        self._next: dict[int, int] = {}

    def matches(self, level: int, index: int, digest: bytes) -> bool:
        buffer = self._buffers.setdefault(level, deque())
        if not buffer:
            start = self._next.get(level, self._first_leaf >> level)
            rows = _driver_rows(self._session, _NODE_QUERY, (level, start, self._batch))
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


def _columns_disagree(row: tuple[Any, ...], body: dict[str, Any]) -> str | None:
    """The indexed columns must say what the body says, or filters could hide an entry."""
    actor = body.get("actor") or {}
    expected = (
        body.get("action"),
        body.get("outcome"),
        actor.get("subject"),
        actor.get("department"),
        body.get("citizen_hash"),
    )
    stored = row[2:7]
    if stored != expected:
        name = next(n for n, a, b in zip(_COLUMNS, stored, expected, strict=True) if a != b)
        return f"column {name} does not match the entry"
    if not _same_time(row[1], body.get("at")):
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


def _leaf_of(row: tuple[Any, ...], pruned_through: int) -> tuple[bytes, bool]:
    """The entry's leaf hash, recomputed from its bytes; raises _Failed naming what is wrong.

    `row` is (seq, at, action, outcome, actor_subject, actor_department, citizen_hash, body,
    hash), as the driver gives it."""
    seq, at, action, outcome, subject, department, citizen_hash, body_text, stored_hash = row
    if body_text == PRUNED:
        if seq > pruned_through:
            raise _Failed(seq, "the entry's body is gone, but retention never pruned it")
        return bytes.fromhex(stored_hash), True
    raw = body_text.encode("utf-8")
    leaf = sha256(b"\x00" + raw).digest()  # merkle.leaf_hash, inlined: this runs a million times
    if leaf.hex() != stored_hash:
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
    actor = body.get("actor") or {}
    if (
        action != body.get("action")
        or outcome != body.get("outcome")
        or subject != actor.get("subject")
        or department != actor.get("department")
        or citizen_hash != body.get("citizen_hash")
        or not _same_time(at, body.get("at"))
    ):
        raise _Failed(seq, _columns_disagree(row, body) or "a column does not match the entry")
    return leaf, False


CHUNK_LEVEL = 14  # entries are checked in aligned runs of 2**14: perfect subtrees


@dataclass
class Chunk:
    """What checking one run of entries found: its perfect subtrees (left to right), the
    partial peaks at each checkpoint size inside it, and the first failure, if any."""

    peaks: list[tuple[int, bytes]]
    at_checkpoints: dict[int, list[bytes]]
    pruned: int
    failure: tuple[int, str] | None


def _chunk(
    session: Session, start: int, end: int, pruned_through: int, checkpoints: frozenset[int]
) -> Chunk:
    """Check entries start..end-1 (start - 1 aligned to the run's size) and build their
    subtree, comparing every interior node it completes with the stored one."""
    leaves: list[bytes] = []
    pruned, expected, failure = 0, start, None
    try:
        for row in _entry_tuples(session, start, end):
            if row[0] != expected:
                raise _Failed(expected, f"entry {expected} is missing")
            leaf, was_pruned = _leaf_of(row, pruned_through)
            leaves.append(leaf)
            pruned += was_pruned
            expected += 1
        if expected < end:
            raise _Failed(expected, f"entry {expected} is missing")
    except _Failed as error:
        failure = (error.seq, error.reason)
    # The subtree of the entries that checked out, level by level; a stored node that differs
    # is named by the last entry it covers, which comes before any failure found above.
    first_leaf = start - 1
    levels = _levels(leaves)
    for level in range(1, len(levels)):
        bad = _first_difference(session, level, first_leaf >> level, levels[level])
        if bad is not None:
            seq = (bad + 1) << level
            if failure is None or seq < failure[0]:
                failure = (seq, f"stored tree node at level {level} does not match")
            break
    # What is left unpaired on a level is a peak: the run's right edge, highest first.
    peaks = [(lv, row[-1]) for lv, row in reversed(list(enumerate(levels))) if len(row) % 2]
    at_checkpoints = {
        size: [levels[lv][ix] for lv, ix in merkle.peaks_of(size - first_leaf)]
        for size in checkpoints
        if size < expected
    }
    return Chunk(peaks, at_checkpoints, pruned, failure)


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete node above `leaves`, per level, left to right (level 0: the leaves)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        pairs = zip(below[::2], below[1::2], strict=False)  # an odd last one stays a peak
        levels.append([sha256(b"\x01" + left + right).digest() for left, right in pairs])
    return levels


def _first_difference(session: Session, level: int, first: int, built: list[bytes]) -> int | None:
    """The index of the first node on `level` from `first` that is stored otherwise, if any."""
    stored = _node_hashes(session, level, first, len(built))
    if stored == built:
        return None
    for offset, digest in enumerate(built):
        if offset >= len(stored) or stored[offset] != digest:
            return first + offset
    return None  # more stored than built: the nodes above the run are checked by the caller


_NODE_RANGE_QUERY = (
    "SELECT hash FROM merkle_node WHERE level = {mark} AND idx >= {mark} AND idx < {mark}"
    " ORDER BY idx"
)


def _node_hashes(session: Session, level: int, first: int, count: int) -> list[bytes]:
    rows = _driver_rows(session, _NODE_RANGE_QUERY, (level, first, first + count))
    return [bytes(digest) for (digest,) in rows]


def _driver_rows(session: Session, query: str, parameters: tuple[Any, ...]) -> list[Any]:
    """Straight from the driver's cursor: a million rows through SQLAlchemy's result objects
    would cost seconds of verification. `query` is ours, with `{mark}` for each parameter."""
    connection = session.connection()
    mark = "%s" if connection.dialect.name == "postgresql" else "?"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(query.format(mark=mark), parameters)
        return list(cursor.fetchall())
    finally:
        cursor.close()


_CHUNK_QUERY = (
    "SELECT seq, at, action, outcome, actor_subject, actor_department, citizen_hash, body, hash"
    " FROM access_entry WHERE seq >= {mark} AND seq < {mark} ORDER BY seq"
)


def _entry_tuples(session: Session, start: int, end: int) -> list[tuple[Any, ...]]:
    return _driver_rows(session, _CHUNK_QUERY, (start, end))


_WORKER_ENGINES: dict[str, Any] = {}
Task = tuple[str, int, int, int, frozenset[int]]


def _chunk_in_worker(task: Task) -> Chunk:
    from gateway.db import make_engine, read_session  # noqa: PLC0415

    url, start, end, pruned_through, checkpoints = task
    engine = _WORKER_ENGINES.get(url) or _WORKER_ENGINES.setdefault(url, make_engine(url))
    with read_session(engine) as session:
        return _chunk(session, start, end, pruned_through, checkpoints)


def _chunks(
    session: Session,
    *,
    size: int,
    pruned_through: int,
    checkpoints: list[int],
    chunk_level: int,
    workers: int,
    url: str | None,
) -> Iterator[Chunk]:
    step = 1 << chunk_level
    tasks: list[Task] = [
        (
            url or "",
            start,
            min(start + step, size + 1),
            pruned_through,
            frozenset(c for c in checkpoints if start <= c < start + step),
        )
        for start in range(1, size + 1, step)
    ]
    if workers < 2 or url is None or len(tasks) < 2:
        for task in tasks:
            yield _chunk(session, *task[1:])
        return
    # Reading, hashing and parsing entries, and building their subtrees, is nearly all the
    # work: other processes do it (threads would share one GIL), in order, while this one joins
    # their subtrees and checks the checkpoints.
    # An executor, not multiprocessing.Pool: when verification stops at a bad entry, the pool
    # is left early, and Pool.terminate could hang on a worker mid-chunk; shutdown lets the
    # running chunks finish and drops the queued ones. At most two chunks a worker are queued,
    # so a slow consumer does not hold every chunk's result in memory.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        queued = iter(tasks)
        running = deque(pool.submit(_chunk_in_worker, t) for t in islice(queued, 2 * workers))
        try:
            while running:
                chunk = running.popleft().result()
                following = next(queued, None)
                if following is not None:
                    running.append(pool.submit(_chunk_in_worker, following))
                yield chunk
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def verify_log(
    *,
    session: Session,
    keys: list[Any],
    chunk_level: int = CHUNK_LEVEL,
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
        # The runs' own nodes are checked where they are built; the ones above them here.
        nodes = _StoredNodes(session, 1 << CHUNK_LEVEL)
        chunks = _chunks(
            session,
            size=head.size,
            pruned_through=head.pruned_through,
            checkpoints=sorted(roots),
            chunk_level=chunk_level,
            workers=workers,
            url=database_url,
        )
        # Closed here when a failure ends the loop early, not whenever it is collected: its
        # worker processes are shut down by this thread, before the report is returned.
        with closing(chunks):
            for chunk in chunks:
                left = [digest for _level, digest in tree.peaks]
                for size, partial in sorted(chunk.at_checkpoints.items()):
                    if merkle.fold(left + partial) != roots[size]:
                        raise _Failed(
                            size, f"the tree of {size} entries does not match its signed checkpoint"
                        )
                if chunk.failure is not None:
                    raise _Failed(*chunk.failure)
                for level, digest in chunk.peaks:
                    completed: list[tuple[int, int, bytes]] = []
                    tree.append_node(level, digest, completed)
                    for node_level, index, node_digest in completed:
                        if not nodes.matches(node_level, index, node_digest):
                            raise _Failed(
                                tree.size, f"stored tree node at level {node_level} does not match"
                            )
                pruned += chunk.pruned
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
