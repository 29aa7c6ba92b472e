"""Full verification: recompute every leaf and node from the stored entries, check every
signed checkpoint against the recomputed tree, and name the first position that fails."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, select
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


def _columns_disagree(row: Any, body: dict[str, Any]) -> str | None:
    """The indexed columns must say what the body says, or filters could hide an entry."""
    actor = body.get("actor") or {}
    expected = {
        "action": body.get("action"),
        "outcome": body.get("outcome"),
        "actor_subject": actor.get("subject"),
        "actor_department": actor.get("department"),
        "citizen_hash": body.get("citizen_hash"),
    }
    for name, value in expected.items():
        if getattr(row, name) != value:
            return f"column {name} does not match the entry"
    try:
        at = datetime.fromisoformat(body["at"])
    except (KeyError, TypeError, ValueError):
        return "the entry has no valid time"
    stored = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    if stored != at:
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


@dataclass
class _Walk:
    tree: merkle.CompactRange
    checked: int = 0
    pruned: int = 0


def _check_entry(row: Any, walk: _Walk, nodes: _StoredNodes, pruned_through: int) -> None:
    seq = row.seq
    if seq != walk.tree.size + 1:
        raise _Failed(walk.tree.size + 1, f"entry {walk.tree.size + 1} is missing")
    if row.body == PRUNED:
        if seq > pruned_through:
            raise _Failed(seq, "the entry's body is gone, but retention never pruned it")
        leaf = bytes.fromhex(row.hash)
        walk.pruned += 1
    else:
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
                named,
                f"entries are out of place: the entry at {seq} was written as {recorded}",
            )
        disagreement = _columns_disagree(row, body)
        if disagreement:
            raise _Failed(seq, disagreement)
    completed: list[tuple[int, int, bytes]] = []
    walk.tree.append(leaf, completed)
    for level, index, digest in completed:
        if not nodes.matches(level, index, digest):
            raise _Failed(seq, f"stored tree node ({level}, {index}) does not match the entries")
    walk.checked += 1


def verify_log(
    *,
    session: Session,
    keys: list[Any],
    batch: int = 5000,
    progress: Progress | None = None,
) -> VerifyReport:
    """Recompute the tree from the stored entries and check every checkpoint against it."""
    head = tree_store.read_head(session)
    total = session.execute(select(func.count()).select_from(_ENTRIES)).scalar_one()
    walk = _Walk(merkle.CompactRange())

    def report(error: _Failed | None) -> VerifyReport:
        return VerifyReport(
            ok=error is None,
            entries=walk.checked if error is None else total,
            first_bad=error.seq if error else None,
            reason=error.reason if error else None,
            head=walk.tree.root().hex(),
            checkpoints=len(checkpoint_rows),
            pruned=walk.pruned,
        )

    checkpoint_rows = session.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.size)).all()
    try:
        roots = _check_checkpoints(checkpoint_rows, keys, head.size)
        if head.pruned_through and head.pruned_through not in roots:
            raise _Failed(head.pruned_through, "pruning did not end at a checkpoint")
        nodes = _StoredNodes(session, batch)
        while True:
            rows = session.execute(
                select(_ENTRIES)
                .where(_ENTRIES.c.seq > walk.tree.size)
                .order_by(_ENTRIES.c.seq)
                .limit(batch)
            ).all()
            if not rows:
                break
            for row in rows:
                _check_entry(row, walk, nodes, head.pruned_through)
                root = roots.get(walk.tree.size)
                if root is not None and walk.tree.root() != root:
                    raise _Failed(
                        walk.tree.size,
                        f"the tree of {walk.tree.size} entries does not match its signed "
                        "checkpoint",
                    )
            if progress:
                progress(walk.checked, total)
        if head.size != walk.checked:
            raise _Failed(
                min(head.size, walk.checked) + 1,
                f"the log head records {head.size} entries, {walk.checked} found",
            )
        if head.head_hash != walk.tree.root().hex():
            raise _Failed(walk.checked, "the log head's root does not match the entries")
    except _Failed as error:
        return report(error)
    return report(None)
