"""Inclusion and consistency proofs, as JSON with base64 hashes (RFC 9162 §2.1.3, §2.1.4)."""

from __future__ import annotations

import base64

from sqlmodel import Session

from gateway.access_log import tree_store
from gateway.access_log.models import PRUNED, AccessEntryRow
from gateway.problems import ProblemError
from schemas.access import ConsistencyProof, InclusionProof


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _size_in_log(session: Session, size: int, name: str) -> None:
    head = tree_store.read_head(session)
    if size > head.size:
        raise ProblemError(
            422, "beyond_log", f"{name}={size}, but the log holds {head.size} entries"
        )


def inclusion(*, session: Session, seq: int, tree_size: int) -> InclusionProof:
    """The proof that entry `seq` is in the tree of the first `tree_size` entries."""
    if not 1 <= seq <= tree_size:
        raise ProblemError(422, "invalid_tree_size", "tree_size must be at least the position")
    _size_in_log(session, tree_size, "tree_size")
    row = session.get(AccessEntryRow, seq)
    if row is None:
        raise ProblemError(404, "entry_not_found", f"No entry at position {seq}")
    hashes = tree_store.inclusion_proof(session, index=seq - 1, size=tree_size)
    return InclusionProof(
        leaf_index=seq - 1,
        tree_size=tree_size,
        leaf_hash=b64(bytes.fromhex(row.hash)),
        hashes=[b64(h) for h in hashes],
        entry=None if row.body == PRUNED else b64(row.body.encode("ascii")),
    )


def consistency(*, session: Session, first: int, second: int) -> ConsistencyProof:
    """The proof that the tree of `second` entries extends the tree of `first`."""
    if not 1 <= first <= second:
        raise ProblemError(422, "invalid_range", "need 1 <= first <= second")
    _size_in_log(session, second, "second")
    hashes = tree_store.consistency_proof(session, first=first, second=second)
    return ConsistencyProof(first=first, second=second, hashes=[b64(h) for h in hashes])
