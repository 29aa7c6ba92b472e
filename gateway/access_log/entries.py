"""Turning an access event into an entry: drafted in the caller's thread, numbered on commit.

An entry's canonical bytes include its position, which only the transaction holding the head
lock knows. So the caller does the costly part (validation, encryption, JSON of everything but
the position) and the committer splices the position in: the keys are sorted, so `seq` sits
between the keys before it and the keys after it, and the result equals the canonical JSON of
the whole entry.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlmodel import Session

from gateway.access_log import merkle, tree_store
from gateway.canonical import canonical_json
from gateway.cpr_protection import CprProtector
from schemas.access import AccessEntryBody, ActorRecord

# Called inside the append transaction with the old size, the new size and the new root: may
# write a checkpoint.
Checkpointer = Callable[[Session, int, int, bytes], None]


@dataclass(frozen=True)
class Draft:
    before_seq: str  # canonical JSON of the keys that sort before "seq", closing brace dropped
    after_seq: str  # canonical JSON of the keys that sort after "seq", opening brace dropped
    columns: dict[str, Any]  # the indexed columns, as the body says them

    def canonical(self, seq: int) -> str:
        return f'{self.before_seq},"seq":{seq},{self.after_seq}'


_CPR_SUBJECT = re.compile(r"^[0-9]{6}-?[0-9]{4}$")


def citizen_subject(cpr: str, protector: CprProtector) -> str:
    """How the log names a citizen who acts themselves: by keyed hash, never by CPR (rule 5)."""
    return f"citizen:{protector.lookup_hash(cpr.replace('-', ''))}"


def citizen_actor(actor: ActorRecord, protector: CprProtector) -> ActorRecord:
    """A citizen signs in with their CPR as subject; the log keeps only its keyed hash."""
    if actor.subject and _CPR_SUBJECT.match(actor.subject):
        return actor.model_copy(update={"subject": citizen_subject(actor.subject, protector)})
    return actor


def draft_entry(
    *,
    protector: CprProtector,
    actor: ActorRecord,
    fields: dict[str, Any],
    citizen: str | None,
    now: datetime,
) -> Draft:
    """Everything about an entry except its position; raises if the event is malformed."""
    actor = citizen_actor(actor, protector)
    body = AccessEntryBody(
        seq=0,
        at=now,
        actor=actor,
        citizen_hash=protector.lookup_hash(citizen) if citizen else None,
        citizen_ciphertext=protector.encrypt(citizen) if citizen else None,
        nonce=base64.b64encode(secrets.token_bytes(16)).decode("ascii"),
        **fields,
    ).model_dump(mode="json", exclude={"seq"})
    # UTC with microseconds, always the same width, whatever the caller's clock gave.
    body["at"] = now.astimezone(UTC).isoformat(timespec="microseconds")
    before = canonical_json({k: v for k, v in body.items() if k < "seq"})
    after = canonical_json({k: v for k, v in body.items() if k > "seq"})
    return Draft(
        before_seq=before[:-1],
        after_seq=after[1:],
        columns={
            "at": now.astimezone(UTC),
            "action": body["action"],
            "outcome": body["outcome"],
            "actor_subject": actor.subject,
            "actor_department": actor.department,
            "citizen_hash": body["citizen_hash"],
        },
    )


COLUMNS = [
    "seq", "at", "action", "outcome", "actor_subject", "actor_department", "citizen_hash",
    "body", "hash",
]  # fmt: skip


@dataclass(frozen=True)
class Placed:
    """A batch of drafts placed at the end of a tree of known size and root: what to store."""

    old_size: int
    old_root: str  # hex, as log_head keeps it
    rows: list[tuple[Any, ...]]  # access_entry rows, in COLUMNS order
    nodes: list[tuple[int, int, bytes]]  # the interior nodes the batch completes
    edge: merkle.CompactRange  # the tree's right edge afterwards
    root: bytes  # and its root

    @property
    def size(self) -> int:
        return self.edge.size

    @property
    def seqs(self) -> list[int]:
        return [row[0] for row in self.rows]


def place(edge: merkle.CompactRange, root: str, drafts: list[Draft]) -> Placed:
    """Number the drafts after `edge` and hash them into the tree; `edge` is left as it was."""
    tree = merkle.CompactRange(edge.size, list(edge.peaks))
    rows: list[tuple[Any, ...]] = []
    completed: list[tuple[int, int, bytes]] = []
    for draft in drafts:
        seq = tree.size + 1
        canonical = draft.canonical(seq)
        leaf = merkle.leaf_hash(canonical.encode("ascii"))
        tree.append(leaf, completed)
        c = draft.columns
        rows.append(
            (seq, c["at"], c["action"], c["outcome"], c["actor_subject"],
             c["actor_department"], c["citizen_hash"], canonical, leaf.hex())
        )  # fmt: skip
    return Placed(edge.size, root, rows, completed, tree, tree.root())


def write_entries(
    *, session: Session, drafts: list[Draft], checkpointer: Checkpointer | None = None
) -> list[int]:
    """Append entries at the end of the tree, inside the caller's transaction; their positions."""
    head = tree_store.lock_head(session)
    placed = place(_right_edge(session, head), head.root, drafts)
    tree_store.insert_rows(session, "access_entry", COLUMNS, placed.rows)
    tree_store.store_nodes(session, placed.nodes)
    root = placed.root
    tree_store.set_head(session, size=placed.size, root=root)
    if checkpointer is not None:
        checkpointer(session, head.size, placed.size, root)
    remember_edge(_engine_of(session), placed)
    return placed.seqs


# The tree's right edge after this process's last append, per database: reused when the
# locked head still has that size and root (nobody else appended since), read again otherwise.
# Written only while holding the head lock; a rolled-back append leaves a stale edge that the
# head check rejects.
_EDGES: WeakKeyDictionary[Engine, tuple[str, merkle.CompactRange]] = WeakKeyDictionary()


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def remember_edge(engine: Engine, placed: Placed) -> None:
    _EDGES[engine] = (placed.root.hex(), placed.edge)


def last_edge(engine: Engine) -> tuple[str, merkle.CompactRange] | None:
    """The root and right edge after this process's last append, if it still knows them."""
    return _EDGES.get(engine)


def _right_edge(session: Session, head: tree_store.Head) -> merkle.CompactRange:
    cached = _EDGES.get(_engine_of(session))
    if cached is not None and cached[1].size == head.size and cached[0] == head.root:
        return cached[1]
    return tree_store.compact_range(session, head.size)
