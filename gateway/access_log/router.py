"""/v1/audit: the DPO reads, searches and verifies the access log; reading it is itself logged.

Proofs, checkpoints, exports and the citizen's report live in routers of their own, included
here so the app wires one router.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from gateway.access_log import service
from gateway.access_log.proof_router import router as proof_router
from gateway.access_log.reads import log_read
from gateway.access_log.report_router import router as report_router
from gateway.access_log.verify import verify_log
from gateway.auth.actor import Actor
from gateway.db import read_session
from gateway.deps import AuditReader, AuditVerifier, RuntimeDep, SessionDep
from gateway.problems import BEARER, JSON_BODY, ProblemError, problem_responses
from gateway.runtime import Runtime
from gateway.signing.keys import SigningKeys
from schemas.access import MAX_POSITION, AccessEntryPage, Action, Outcome, VerifyReport
from schemas.cpr import Cpr
from schemas.times import Moment

router = APIRouter(prefix="/v1/audit", tags=["audit"])

PROBLEMS = problem_responses(*BEARER, *JSON_BODY, 404)


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_POSITION:
        raise ProblemError(422, "invalid_cursor", "cursor must be the next_cursor of a page")
    return int(value)


class EntrySearch(BaseModel):
    """The filters of GET /v1/audit/entries, plus a citizen (who never goes in a URL)."""

    model_config = ConfigDict(extra="forbid")

    citizen: Cpr | None = None
    actor: str | None = None
    department: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    since: Moment | None = None
    until: Moment | None = None
    cursor: str | None = None
    limit: int = 100


def _page(
    *,
    request: Request,
    actor: Actor,
    runtime: Runtime,
    session: SessionDep,
    search: EntrySearch,
) -> AccessEntryPage:
    if not 1 <= search.limit <= 1000:
        raise ProblemError(422, "invalid_limit", "limit must be between 1 and 1000")
    where = service.EntryFilter(
        actor=search.actor,
        department=search.department,
        action=search.action,
        outcome=search.outcome.value if search.outcome else None,
        since=search.since,
        until=search.until,
        citizen_hash=runtime.protector.lookup_hash(search.citizen) if search.citizen else None,
    )
    rows = service.list_entries(
        session=session, where=where, before=_cursor(search.cursor), limit=search.limit
    )
    entries = [service.to_read_model(row, runtime.protector) for row in rows]
    filters: dict[str, Any] = search.model_dump(
        mode="json", exclude_none=True, exclude={"citizen", "cursor", "limit"}
    )
    log_read(
        runtime=runtime,
        request=request,
        actor=actor,
        action=Action.AUDIT_QUERY,
        citizen=search.citizen,
        detail={"filters": filters, "returned": len(entries)},
    )
    next_cursor = str(entries[-1].seq) if len(entries) == search.limit else None
    return AccessEntryPage(entries=entries, next_cursor=next_cursor)


@router.get("/entries", responses=PROBLEMS)
def list_entries(
    request: Request,
    actor: AuditReader,
    runtime: RuntimeDep,
    session: SessionDep,
    actor_subject: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    since: Annotated[Moment | None, Query()] = None,
    until: Annotated[Moment | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AccessEntryPage:
    """Entries, newest first, filtered; follow `next_cursor` for older ones."""
    search = EntrySearch(
        actor=actor_subject,
        department=department,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return _page(request=request, actor=actor, runtime=runtime, session=session, search=search)


@router.post("/search", responses=PROBLEMS)
def search_entries(
    search: EntrySearch,
    request: Request,
    actor: AuditReader,
    runtime: RuntimeDep,
    session: SessionDep,
) -> AccessEntryPage:
    """The same as GET /v1/audit/entries, with a citizen among the filters, in the body."""
    return _page(request=request, actor=actor, runtime=runtime, session=session, search=search)


@router.get("/verify", responses=PROBLEMS)
async def verify(request: Request, actor: AuditVerifier, runtime: RuntimeDep) -> VerifyReport:
    """Recompute the whole tree from the stored entries, check every signed checkpoint, and
    name the first position that fails."""

    def run() -> VerifyReport:
        # Read from disk, not the cache: `helhed keys rotate` may have added a key since start.
        ring = SigningKeys(runtime.settings.keys_dir).keyring("checkpoint")
        keys = [key.public_key for key in ring]
        with read_session(runtime.engine) as session:
            return verify_log(session=session, keys=keys)

    report = await run_in_threadpool(run)
    await run_in_threadpool(
        lambda: log_read(
            runtime=runtime,
            request=request,
            actor=actor,
            action=Action.AUDIT_VERIFY,
            detail={"ok": report.ok, "entries": report.entries, "first_bad": report.first_bad},
        )
    )
    return report


router.include_router(proof_router)
router.include_router(report_router)
