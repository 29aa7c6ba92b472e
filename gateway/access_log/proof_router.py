"""Proofs and signed checkpoints: what lets anyone check the log without trusting us.

Checkpoints and consistency proofs hold hashes only, no personal data, and are public like a
Certificate Transparency log's tree heads; an inclusion proof carries the entry, so only the DPO
reads one, and that read is logged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse
from sqlmodel import col, select

from gateway.access_log import checkpoints, proofs
from gateway.access_log.models import AccessEntryRow, CheckpointRow
from gateway.access_log.reads import log_read
from gateway.deps import AuditReader, RuntimeDep, SessionDep
from gateway.problems import BEARER, ProblemError, problem_responses
from schemas.access import (
    MAX_POSITION,
    Action,
    CheckpointPage,
    CheckpointRead,
    ConsistencyProof,
    InclusionProof,
)
from schemas.times import Moment

router = APIRouter()

_PROBLEMS = problem_responses(*BEARER, 404, 409, 422)
# Checkpoints and consistency proofs hold hashes only, no entry: anyone may check the log grew
# without changing, as with Certificate Transparency; no token is asked for.
_PUBLIC_PROBLEMS = problem_responses(404, 409, 422, 503)


def _read(row: CheckpointRow) -> CheckpointRead:
    return CheckpointRead(
        size=row.size,
        root=proofs.b64(bytes.fromhex(row.root)),
        at=row.at,
        key_id=row.key_id,
        note=row.note,
    )


@router.get("/entries/{seq}/proof", responses=_PROBLEMS)
def inclusion_proof(
    seq: Annotated[int, Path(ge=1, le=MAX_POSITION)],
    request: Request,
    actor: AuditReader,
    runtime: RuntimeDep,
    session: SessionDep,
    tree_size: Annotated[int | None, Query(ge=1, le=MAX_POSITION)] = None,
) -> InclusionProof:
    """The entry and its audit path in the tree of `tree_size` entries (default: the latest
    checkpoint that covers it, so the proof can be checked against a signed root)."""
    if tree_size is None:
        # An entry that does not exist is not waiting for a checkpoint: 404, not 409.
        if session.get(AccessEntryRow, seq) is None:
            raise ProblemError(404, "entry_not_found", f"No entry at position {seq}")
        covering = checkpoints.at_least(session, seq)
        latest = covering or checkpoints.latest(session)
        if covering is None:
            raise ProblemError(
                409,
                "not_yet_checkpointed",
                f"No signed checkpoint covers entry {seq} yet; ask again in a second, or give "
                f"tree_size (the latest checkpoint has {latest.size if latest else 0} entries)",
            )
        tree_size = covering.size
    proof = proofs.inclusion(session=session, seq=seq, tree_size=tree_size)
    log_read(
        runtime=runtime,
        request=request,
        actor=actor,
        action=Action.AUDIT_PROOF,
        target=str(seq),
        detail={"tree_size": tree_size},
    )
    return proof


@router.get("/consistency", responses=_PUBLIC_PROBLEMS)
def consistency_proof(
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=MAX_POSITION)],
    second: Annotated[int, Query(ge=1, le=MAX_POSITION)],
) -> ConsistencyProof:
    """The proof that the log of `second` entries extends the log of `first` unchanged."""
    return proofs.consistency(session=session, first=first, second=second)


@router.get(
    "/checkpoints/latest",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **_PUBLIC_PROBLEMS},
)
def latest_checkpoint(session: SessionDep) -> PlainTextResponse:
    """The newest signed checkpoint, as a C2SP signed note (verify with GET /v1/keys)."""
    row = checkpoints.latest(session)
    if row is None:
        raise ProblemError(404, "no_checkpoint", "The log has no signed checkpoint yet")
    return PlainTextResponse(row.note, media_type="text/plain; charset=utf-8")


@router.get("/checkpoints", responses=_PUBLIC_PROBLEMS)
def list_checkpoints(
    session: SessionDep,
    since: Annotated[Moment | None, Query(description="Signed at or after")] = None,
    cursor: Annotated[
        int | None, Query(ge=0, le=MAX_POSITION, description="next_cursor of a page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CheckpointPage:
    """Signed checkpoints, oldest first."""
    query = select(CheckpointRow)
    if since is not None:
        query = query.where(col(CheckpointRow.at) >= since)
    if cursor is not None:
        query = query.where(col(CheckpointRow.size) > cursor)
    rows = list(session.exec(query.order_by(col(CheckpointRow.size)).limit(limit)))
    next_cursor = str(rows[-1].size) if len(rows) == limit else None
    return CheckpointPage(checkpoints=[_read(row) for row in rows], next_cursor=next_cursor)
