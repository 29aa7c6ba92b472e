"""The web pages at /: one start page per role, the caseworker's citizen view and consent
forms, the DPO's log and verification. Each page calls the very function its API endpoint
uses, behind the same role table, so the pages can never show more than the API would.

A CPR never appears in a URL: it travels in POSTed forms only.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from consent.decision import local_day
from gateway.access_log import report_router as audit_reports
from gateway.access_log import router as audit_api
from gateway.auth.permissions import Permission, permissions_of
from gateway.consents import exports as consent_exports
from gateway.consents import router as consents_api
from gateway.db import read_session
from gateway.deps import (
    AuditReaderPage,
    AuditReporterPage,
    AuditVerifierPage,
    CitizenViewerPage,
    ConsentRecorderPage,
    ConsentWithdrawerPage,
    OwnConsentsPage,
    OwnReceiptPage,
    RuntimeDep,
    SourceCheckerPage,
    SourceReaderPage,
    audit_context,
    current_web_session,
    mark_page,
)
from gateway.limits import enforce_view_limits
from gateway.ops import router as ops_api
from gateway.runtime import Runtime
from gateway.sources.schemas import CheckReport, CheckRequest
from gateway.sources.service import check_source, source_statuses
from gateway.views.service import build_citizen_view
from gateway.web.render import page
from gateway.web.sessions import WebSession
from schemas.access import Outcome
from schemas.consent import ConsentCreate, ConsentRead, ConsentSearch, ConsentWithdraw
from schemas.times import COPENHAGEN
from schemas.view import ViewRequest

router = APIRouter(include_in_schema=False)

M = TypeVar("M", bound=BaseModel)

_STYLESHEET = resources.files("gateway.web").joinpath("static/helhed.css").read_bytes()


def _validated(model: type[M], data: dict[str, Any]) -> M:
    """A form's fields as the API's own request model; a bad form is refused like bad JSON."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


@router.get("/assets/helhed.css")
def stylesheet() -> Response:
    return Response(_STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/", dependencies=[Depends(mark_page)])
async def start_page(request: Request, runtime: RuntimeDep) -> Response:
    """Signed out: the sign-in choices. Signed in: what this user's roles can do."""
    web = await current_web_session(request, runtime)
    if web is None:
        issuers = [i.config for i in runtime.verifier.issuers.values() if i.config.signs_in_pages]
        return page("signin.html", issuers=issuers)
    readiness: Any = {}
    if "itops" in web.actor.roles:
        readiness = await run_in_threadpool(ops_api.ready, runtime)
        if isinstance(readiness, Response):
            readiness = {"status": "not ready", "sources": len(runtime.adapters)}
    return page("home.html", web=web, readiness=readiness)


def _citizen_page(runtime: Runtime, web: WebSession, **context: Any) -> Response:
    catalog = runtime.catalog
    context.setdefault("view", None)
    context.setdefault("consents", None)
    context.setdefault("citizen", None)
    return page(
        "citizen.html",
        web=web,
        purposes=catalog.purposes,
        departments=catalog.departments,
        categories=catalog.categories,
        chosen_purpose=context.pop("chosen_purpose", "coordinated-plan"),
        today=local_day(runtime.clock.now()).isoformat(),
        **context,
    )


@router.get("/citizen")
async def citizen_form(runtime: RuntimeDep, web: CitizenViewerPage) -> Response:
    return _citizen_page(runtime, web)


def _search(request: Request, runtime: Runtime, web: WebSession, citizen: str) -> list[ConsentRead]:
    with read_session(runtime.engine) as session:
        found = consents_api.search_consents(
            ConsentSearch(citizen=citizen), request, web.actor, runtime, session
        )
    return found.consents


@router.post("/citizen")
async def citizen_view(request: Request, runtime: RuntimeDep, web: CitizenViewerPage) -> Response:
    """The citizen view, as POST /v1/views gives it, with the consents behind it."""
    form = await request.form()
    body = _validated(
        ViewRequest, {"citizen": _text(form, "citizen"), "purpose": _text(form, "purpose")}
    )
    context = audit_context(request, web.actor)
    await run_in_threadpool(
        enforce_view_limits, runtime=runtime, actor=web.actor, citizen=body.citizen, context=context
    )
    view = await build_citizen_view(runtime=runtime, actor=web.actor, request=body, context=context)
    consents = None
    if Permission.READ_CONSENT in permissions_of(list(web.actor.roles)):
        consents = await run_in_threadpool(_search, request, runtime, web, body.citizen)
    return _citizen_page(
        runtime,
        web,
        view=view,
        consents=consents,
        citizen=body.citizen,
        chosen_purpose=body.purpose,
    )


@router.post("/consents")
async def record_consent(
    request: Request, runtime: RuntimeDep, web: ConsentRecorderPage
) -> Response:
    form = await request.form()
    kind = _text(form, "given_by_kind")
    data = _validated(
        ConsentCreate,
        {
            "citizen": _text(form, "citizen"),
            "given_by": {"kind": kind, "name": _text(form, "given_by_name")}
            if kind != "self"
            else {"kind": kind},
            "from_departments": _texts(form, "from_departments"),
            "to_departments": _texts(form, "to_departments"),
            "categories": _texts(form, "categories"),
            "purpose": _text(form, "purpose"),
            "valid_from": _text(form, "valid_from"),
            "valid_until": _text(form, "valid_until"),
            "evidence": {
                "kind": _text(form, "evidence_kind"),
                "reference": _text(form, "evidence_reference"),
            },
        },
    )
    consent = await run_in_threadpool(
        consents_api.record_consent, data, request, web.actor, runtime
    )
    return page("consent.html", web=web, consent=consent, what="recorded", status=201)


@router.post("/consents/{consent_id}/withdraw")
async def withdraw_consent(
    consent_id: str, request: Request, runtime: RuntimeDep, web: ConsentWithdrawerPage
) -> Response:
    form = await request.form()
    body = _validated(ConsentWithdraw, {"reason": _text(form, "reason")})
    consent = await run_in_threadpool(
        consents_api.withdraw_consent, consent_id, body, request, web.actor, runtime
    )
    return page("consent.html", web=web, consent=consent, what="withdrawn")


@router.get("/my-consents")
async def own_consents(request: Request, runtime: RuntimeDep, web: OwnConsentsPage) -> Response:
    """A citizen's own consents, how often each was used, withdrawal and receipts."""
    citizen = web.actor.citizen
    assert citizen is not None  # the role table admits citizens with a CPR only

    def read() -> list[ConsentRead]:
        with read_session(runtime.engine) as session:
            found = consents_api.search_consents(
                ConsentSearch(citizen=citizen), request, web.actor, runtime, session
            )
        return found.consents

    return page("own_consents.html", web=web, consents=await run_in_threadpool(read))


@router.get("/my-consents/{consent_id}/receipt")
async def own_receipt(
    consent_id: str, request: Request, runtime: RuntimeDep, web: OwnReceiptPage
) -> Response:
    """The signed receipt as a file the citizen can keep."""

    def read() -> Response:
        with read_session(runtime.engine) as session:
            return consent_exports.consent_receipt(
                consent_id, request, web.actor, runtime, session, None
            )

    receipt = await run_in_threadpool(read)
    receipt.headers["Content-Disposition"] = f'attachment; filename="consent-{consent_id}.jws"'
    return receipt


@router.get("/audit")
async def audit_log(request: Request, runtime: RuntimeDep, web: AuditReaderPage) -> Response:
    """The newest entries, filtered as GET /v1/audit/entries filters them (and logged alike)."""
    query = request.query_params
    outcome = query.get("outcome") or None
    filters = {
        "actor": query.get("actor") or None,
        "department": query.get("department") or None,
        "action": query.get("action") or None,
        "outcome": outcome,
    }
    for name, value in filters.items():
        if value is not None and len(value) > 200:
            raise RequestValidationError(
                [{"loc": ("query", name), "type": "string_too_long", "msg": "Too long"}]
            )

    def read() -> Any:
        with read_session(runtime.engine) as session:
            return audit_api.list_entries(
                request,
                web.actor,
                runtime,
                session,
                actor_subject=filters["actor"],
                department=filters["department"],
                action=filters["action"],
                outcome=_validated(_OutcomeFilter, {"outcome": outcome}).outcome,
                limit=200,
            )

    entries = await run_in_threadpool(read)
    return page("audit.html", web=web, page=entries, filters=filters)


class _OutcomeFilter(BaseModel):
    outcome: Outcome | None = None


class _Period(BaseModel):
    """Whole Danish days, as a DPO thinks of them; both ends included."""

    since: date | None = None
    until: date | None = None


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
    return page("anomalies.html", web=web, report=report, period=period)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=COPENHAGEN)


def _period(since: str | None, until: str | None) -> _Period:
    return _validated(_Period, {"since": since or None, "until": until or None})


def _moments(period: _Period) -> tuple[datetime | None, datetime | None]:
    """A form's whole Danish days (both included) as the API's moments."""
    return (
        _day_start(period.since) if period.since else None,
        _day_start(period.until + timedelta(days=1)) if period.until else None,
    )


@router.get("/audit/reports")
async def audit_reports_page(web: AuditReaderPage) -> Response:
    """The DPO's forms: a citizen's insight report, and an export of the log."""
    return page("reports.html", web=web, formats=[f.value for f in audit_reports.ExportFormat])


@router.post("/audit/citizen-report")
async def citizen_report_page(
    request: Request, runtime: RuntimeDep, web: AuditReporterPage
) -> Response:
    """POST /v1/audit/citizen-report as its printable page: the DPO names the citizen (the CPR
    travels in the form, never in a URL); a citizen gets their own."""
    form = await request.form()
    since, until = _moments(_period(_text(form, "since"), _text(form, "until")))
    body = _validated(
        audit_reports.ReportRequest,
        {
            "citizen": _text(form, "citizen"),
            "since": since,
            "until": until,
            "show_employees": _text(form, "show_employees") == "yes",
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


@router.get("/audit/export")
async def audit_export_page(
    request: Request, runtime: RuntimeDep, web: AuditReaderPage
) -> Response:
    """GET /v1/audit/export from the reports page's form, as a download."""
    query = request.query_params
    since, until = _moments(_period(query.get("since"), query.get("until")))
    chosen = _validated(
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


class _ExportForm(BaseModel):
    format: audit_reports.ExportFormat
    outcome: Outcome | None = None
    actor: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=40)


@router.get("/audit/verify")
async def audit_verify(request: Request, runtime: RuntimeDep, web: AuditVerifierPage) -> Response:
    report = await audit_api.verify(request, web.actor, runtime)
    return page("verify.html", web=web, report=report)


@router.get("/sources")
async def sources_page(runtime: RuntimeDep, web: SourceReaderPage) -> Response:
    """GET /v1/sources as a table: every source's health now, breaker, latency and errors."""
    return await _sources_page(runtime, web)


@router.post("/sources/{name}/check")
async def check_source_page(
    name: str, request: Request, runtime: RuntimeDep, web: SourceCheckerPage
) -> Response:
    """POST /v1/sources/{name}/check from the table's button; with a CPR (in the form, never
    the URL) it reads that citizen's records through the mapping, and the access log says so."""
    form = await request.form()
    body = _validated(CheckRequest, {"citizen": _text(form, "citizen")})
    report = await check_source(
        runtime=runtime,
        name=name,
        citizen=body.citizen,
        context=audit_context(request, web.actor),
    )
    return await _sources_page(runtime, web, report=report)


async def _sources_page(
    runtime: Runtime, web: WebSession, report: CheckReport | None = None
) -> Response:
    statuses = await source_statuses(runtime=runtime)
    return page("sources.html", web=web, sources=statuses, report=report)
