"""The data protection officer's pages: the access log with filters and paging, the log's
state (latest checkpoint, last verification) with "verify now", anomalies, the citizen's
insight report and exports; and the citizen's own report. Each calls its API function."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gateway.access_log import checkpoints
from gateway.access_log import report_router as audit_reports
from gateway.access_log import router as audit_api
from gateway.access_log import service as log_service
from gateway.db import read_session
from gateway.deps import AuditReaderPage, AuditReporterPage, AuditVerifierPage, RuntimeDep
from gateway.runtime import Runtime
from gateway.web.forms import text, validated
from gateway.web.render import page
from schemas.access import Action, Outcome
from schemas.times import COPENHAGEN

router = APIRouter(include_in_schema=False)

ACTIONS = [a.value for a in Action]


class _Filters(BaseModel):
    outcome: Outcome | None = None
    actor: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=40)
    cursor: str | None = Field(default=None, max_length=20)


def _log_state(runtime: Runtime) -> dict[str, Any]:
    """The latest signed checkpoint and the last verification, for the panel on the log page.
    The verification's outcome is read from its own access-log entry (not decrypted: it holds
    no citizen), so the panel shows what was last proven, by whom it was asked is in the log."""
    with read_session(runtime.engine) as session:
        checkpoint = checkpoints.latest(session)
        rows = log_service.list_entries(
            session=session,
            where=log_service.EntryFilter(action=Action.AUDIT_VERIFY.value, outcome="success"),
            before=None,
            limit=1,
        )
        last = log_service.to_read_model(rows[0], runtime.protector) if rows else None
    return {"checkpoint": checkpoint, "last_verification": last}


@router.get("/audit")
async def audit_log(request: Request, runtime: RuntimeDep, web: AuditReaderPage) -> Response:
    """The newest entries, filtered as GET /v1/audit/entries filters them (and logged alike),
    50 to a page, older pages by the API's cursor."""
    query = request.query_params
    chosen = validated(_Filters, {name: query.get(name) or None for name in _Filters.model_fields})

    def read() -> Any:
        with read_session(runtime.engine) as session:
            return audit_api.list_entries(
                request,
                web.actor,
                runtime,
                session,
                actor_subject=chosen.actor,
                department=chosen.department,
                action=chosen.action,
                outcome=chosen.outcome,
                cursor=chosen.cursor,
                limit=50,
            )

    entries = await run_in_threadpool(read)
    state = await run_in_threadpool(_log_state, runtime)
    kept = {
        name: value
        for name, value in chosen.model_dump(mode="json", exclude={"cursor"}).items()
        if value
    }
    return page(
        "audit.html",
        web=web,
        back_to="/audit",
        page=entries,
        filters=chosen,
        cursor=chosen.cursor,
        actions=ACTIONS,
        departments=runtime.catalog.departments,
        first_url="/audit?" + urlencode(kept),
        next_url="/audit?" + urlencode({**kept, "cursor": entries.next_cursor or ""}),
        **state,
    )


class _Period(BaseModel):
    """Whole Danish days, as a DPO thinks of them; both ends included."""

    since: date | None = None
    until: date | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=COPENHAGEN)


def _period(since: str | None, until: str | None) -> _Period:
    return validated(_Period, {"since": since or None, "until": until or None})


def _moments(period: _Period) -> tuple[datetime | None, datetime | None]:
    """A form's whole Danish days (both included) as the API's moments."""
    return (
        _day_start(period.since) if period.since else None,
        _day_start(period.until + timedelta(days=1)) if period.until else None,
    )


@router.get("/audit/anomalies")
async def audit_anomalies(request: Request, runtime: RuntimeDep, web: AuditReaderPage) -> Response:
    """GET /v1/audit/anomalies as a table, for whole days (default: the last 7 days)."""
    query = request.query_params
    period = _period(query.get("since"), query.get("until"))
    since, until = _moments(period)

    def read() -> Any:
        with read_session(runtime.engine) as session:
            return audit_reports.list_anomalies(
                request, web.actor, runtime, session, since=since, until=until
            )

    report = await run_in_threadpool(read)
    return page("anomalies.html", web=web, back_to="/audit/anomalies", report=report, period=period)


@router.get("/audit/reports")
async def audit_reports_page(runtime: RuntimeDep, web: AuditReaderPage) -> Response:
    """The DPO's forms: a citizen's insight report, and an export of the log."""
    return page(
        "reports.html",
        web=web,
        back_to="/audit/reports",
        formats=[f.value for f in audit_reports.ExportFormat],
        actions=ACTIONS,
        departments=runtime.catalog.departments,
    )


@router.post("/audit/citizen-report")
async def citizen_report_page(
    request: Request, runtime: RuntimeDep, web: AuditReporterPage
) -> Response:
    """POST /v1/audit/citizen-report as its printable page: the DPO names the citizen (the CPR
    travels in the form, never in a URL); a citizen gets their own."""
    form = await request.form()
    since, until = _moments(_period(text(form, "since"), text(form, "until")))
    body = validated(
        audit_reports.ReportRequest,
        {
            "citizen": text(form, "citizen"),
            "since": since,
            "until": until,
            "show_employees": text(form, "show_employees") == "yes",
            "format": "html",
        },
    )
    response: Response = await audit_reports.make_citizen_report(body, request, web.actor, runtime)
    return response


@router.get("/my-report")
async def own_report_page(
    request: Request, runtime: RuntimeDep, web: AuditReporterPage
) -> Response:
    """A citizen's own insight report: who in the municipality has used their data, and why."""
    body = audit_reports.ReportRequest(format="html")
    response: Response = await audit_reports.make_citizen_report(body, request, web.actor, runtime)
    return response


class _ExportForm(BaseModel):
    format: audit_reports.ExportFormat
    outcome: Outcome | None = None
    actor: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=40)


@router.get("/audit/export")
async def audit_export_page(
    request: Request, runtime: RuntimeDep, web: AuditReaderPage
) -> Response:
    """GET /v1/audit/export from the reports page's form, as a download."""
    query = request.query_params
    since, until = _moments(_period(query.get("since"), query.get("until")))
    chosen = validated(
        _ExportForm,
        {
            "format": query.get("format") or "jsonl",
            "outcome": query.get("outcome") or None,
            "actor": query.get("actor") or None,
            "department": query.get("department") or None,
            "action": query.get("action") or None,
        },
    )
    return await run_in_threadpool(
        audit_reports.export_entries,
        request,
        web.actor,
        runtime,
        format=chosen.format,
        actor_subject=chosen.actor,
        department=chosen.department,
        action=chosen.action,
        outcome=chosen.outcome,
        since=since,
        until=until,
    )


@router.get("/audit/verify")
async def audit_verify(request: Request, runtime: RuntimeDep, web: AuditVerifierPage) -> Response:
    """Verify now: the whole tree recomputed and every checkpoint checked, as the API does."""
    report = await audit_api.verify(request, web.actor, runtime)
    return page("verify.html", web=web, back_to="/audit/verify", report=report)
