"""Exports, anomaly reports and the citizen's insight report; each read is logged first."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from gateway.access_log import anomalies, checkpoints, citizen_report, export, service
from gateway.access_log.lifecycle import signer
from gateway.access_log.reads import log_read
from gateway.access_log.report_words import Language
from gateway.auth.permissions import Permission, permissions_of
from gateway.db import read_session
from gateway.deps import AuditReader, AuditReporter, RuntimeDep, SessionDep
from gateway.problems import BEARER, JSON_BODY, ProblemError, problem_responses
from schemas.access import Action, Outcome
from schemas.cpr import Cpr
from schemas.times import Moment

router = APIRouter()

_PROBLEMS = problem_responses(*BEARER, *JSON_BODY)


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    FHIR = "fhir"


_MEDIA = {
    ExportFormat.JSONL: ("application/x-ndjson", "jsonl"),
    ExportFormat.CSV: ("text/csv; charset=utf-8", "csv"),
    ExportFormat.FHIR: ("application/fhir+json", "json"),
}


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {media: {} for media, _suffix in _MEDIA.values()}},
        **_PROBLEMS,
    },
)
def export_entries(
    request: Request,
    actor: AuditReader,
    runtime: RuntimeDep,
    format: Annotated[ExportFormat, Query()] = ExportFormat.JSONL,
    actor_subject: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    since: Annotated[Moment | None, Query()] = None,
    until: Annotated[Moment | None, Query()] = None,
) -> StreamingResponse:
    """The filtered log, oldest first, streamed as JSON lines, CSV or a FHIR R4 Bundle of
    AuditEvents. The export is logged before the first byte leaves."""
    where = service.EntryFilter(
        actor=actor_subject,
        department=department,
        action=action,
        outcome=outcome.value if outcome else None,
        since=since,
        until=until,
    )
    log_read(
        runtime=runtime,
        request=request,
        actor=actor,
        action=Action.AUDIT_EXPORT,
        detail={
            "format": format.value,
            "filters": {
                k: v
                for k, v in request.query_params.items()
                if k in {"actor", "department", "action", "outcome", "since", "until"}
            },
        },
    )
    items = export.entries(engine=runtime.engine, protector=runtime.protector, where=where)
    body = {
        ExportFormat.JSONL: export.jsonl,
        ExportFormat.CSV: export.csv_lines,
        ExportFormat.FHIR: export.fhir_bundle,
    }[format](items)
    media, suffix = _MEDIA[format]
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="access-log.{suffix}"'},
    )


@router.get("/anomalies", responses=_PROBLEMS)
def list_anomalies(
    request: Request,
    actor: AuditReader,
    runtime: RuntimeDep,
    session: SessionDep,
    since: Annotated[Moment | None, Query(description="Default: 7 days ago")] = None,
    until: Annotated[Moment | None, Query(description="Default: now")] = None,
) -> dict[str, Any]:
    """Actors with unusually many citizens a day, views outside working hours, views of
    citizens the actor's department has no case with, and repeated denials."""
    now = runtime.clock.now()
    until = until or now
    since = since or until - timedelta(days=7)
    found = anomalies.find_anomalies(
        session=session, settings=runtime.settings.audit, since=since, until=until
    )
    log_read(
        runtime=runtime,
        request=request,
        actor=actor,
        action=Action.AUDIT_QUERY,
        detail={"report": "anomalies", "since": since.isoformat(), "returned": len(found)},
    )
    return {
        "since": since,
        "until": until,
        "judged_by": anomalies.judged_by(runtime.settings.audit),
        "anomalies": found,
    }


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    citizen: Cpr | None = None
    since: Moment | None = None
    until: Moment | None = None
    show_employees: bool = False
    format: Literal["json", "html"] = "json"
    language: Language = Field(default="da", description="Danish (da) or English (en) sentences")


@router.post(
    "/citizen-report",
    responses={200: {"content": {"application/json": {}, "text/html": {}}}, **_PROBLEMS},
)
async def make_citizen_report(
    body: ReportRequest, request: Request, actor: AuditReporter, runtime: RuntimeDep
) -> Any:
    """Who has used the citizen's data: dates, purposes and departments, each line with its
    inclusion proof against one signed checkpoint. JSON, or a printable page when the body says
    `"format": "html"` or the request accepts text/html. The DPO may ask for any citizen and
    for the employees' names; a citizen only for their own report, without names."""
    is_dpo = Permission.READ_AUDIT in permissions_of(list(actor.roles))
    # A citizen's CPR comes from their login (a CPR claim, or a subject that is one).
    own = None if is_dpo else actor.citizen
    citizen = body.citizen or own
    if citizen is None:
        raise ProblemError(422, "citizen_required", "Name the citizen in the body")
    if not is_dpo and citizen != own:
        raise ProblemError(403, "not_your_report", "A citizen may see only their own report")
    show_employees = body.show_employees and is_dpo
    html = body.format == "html" or "text/html" in request.headers.get("accept", "")

    def build() -> dict[str, Any]:
        with read_session(runtime.engine) as session:
            lines = citizen_report.report_lines(
                session=session,
                protector=runtime.protector,
                citizen=citizen,
                since=body.since,
                until=body.until,
                show_employees=show_employees,
                catalog=runtime.catalog,
                language=body.language,
            )
        log_read(
            runtime=runtime,
            request=request,
            actor=actor,
            action=Action.AUDIT_REPORT,
            citizen=citizen,
            detail={"lines": len(lines), "show_employees": show_employees},
        )
        # One signed checkpoint that covers every line, so every proof checks against it.
        checkpoints.checkpoint_now(engine=runtime.engine, signer=signer(runtime))
        with read_session(runtime.engine) as session:
            latest = checkpoints.latest(session)
            assert latest is not None
            citizen_report.attach_proofs(session=session, lines=lines, checkpoint=latest)
        return {
            "citizen": citizen,
            "generated_at": runtime.clock.now(),
            "language": body.language,
            "lines": lines,
            "tree_size": latest.size,
            "checkpoint": latest.note,
        }

    report = await run_in_threadpool(build)
    if html:
        return HTMLResponse(citizen_report.render_html(report, show_employees=show_employees))
    return JSONResponse(jsonable_encoder(report))
