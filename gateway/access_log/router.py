"""/v1/audit: the DPO reads and verifies the access log; reading it is itself logged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from consent.decision import COPENHAGEN
from gateway.access_log import service
from gateway.db import read_session
from gateway.deps import AuditReader, AuditVerifier, RuntimeDep, SessionDep, audit_context
from gateway.problems import ProblemError
from schemas.access import AccessEntryPage, Action, Outcome, VerifyReport
from schemas.problem import Problem

router = APIRouter(prefix="/v1/audit", tags=["audit"])

_PROBLEMS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (401, 403, 422, 503)
}


def _aware(moment: datetime | None) -> datetime | None:
    """A time given without an offset is Danish time, as the DPO reading the log means it."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=COPENHAGEN)


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise ProblemError(422, "invalid_cursor", "cursor must be the next_cursor of a page")
    return int(value)


@router.get("/entries", responses=_PROBLEMS)
def list_entries(
    request: Request,
    actor: AuditReader,
    runtime: RuntimeDep,
    session: SessionDep,
    actor_subject: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AccessEntryPage:
    """Entries, newest first, filtered; follow `next_cursor` for older ones."""
    where = service.EntryFilter(
        actor=actor_subject,
        department=department,
        action=action,
        outcome=outcome.value if outcome else None,
        since=_aware(since),
        until=_aware(until),
    )
    rows = service.list_entries(session=session, where=where, before=_cursor(cursor), limit=limit)
    entries = [service.to_read_model(row, runtime.protector) for row in rows]
    service.record_access(
        engine=runtime.engine,
        protector=runtime.protector,
        context=audit_context(request, actor),
        event=service.AccessEvent(
            action=Action.AUDIT_QUERY,
            outcome=Outcome.SUCCESS,
            detail={
                "filters": {
                    k: v
                    for k, v in request.query_params.items()
                    if k in {"actor", "department", "action", "outcome", "since", "until"}
                },
                "returned": len(entries),
            },
        ),
        now=runtime.clock.now(),
    )
    next_cursor = str(entries[-1].seq) if len(entries) == limit else None
    return AccessEntryPage(entries=entries, next_cursor=next_cursor)


@router.get("/verify", responses=_PROBLEMS)
async def verify(request: Request, actor: AuditVerifier, runtime: RuntimeDep) -> VerifyReport:
    """Recompute the whole chain from the stored entries; names the first entry that fails."""

    def run() -> VerifyReport:
        with read_session(runtime.engine) as session:
            return service.verify_chain(session=session)

    report = await run_in_threadpool(run)
    await run_in_threadpool(
        service.record_access,
        engine=runtime.engine,
        protector=runtime.protector,
        context=audit_context(request, actor),
        event=service.AccessEvent(
            action=Action.AUDIT_VERIFY,
            outcome=Outcome.SUCCESS,
            detail={"ok": report.ok, "entries": report.entries, "first_bad": report.first_bad},
        ),
        now=runtime.clock.now(),
    )
    return report
