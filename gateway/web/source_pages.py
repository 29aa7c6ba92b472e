"""IT operations' page: every source's health, breaker, latency and errors, and a check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.deps import RuntimeDep, SourceCheckerPage, SourceReaderPage, audit_context
from gateway.runtime import Runtime
from gateway.sources.schemas import CheckReport, CheckRequest
from gateway.sources.service import check_source, source_statuses
from gateway.web.forms import text, validated
from gateway.web.render import page
from gateway.web.sessions import WebSession

router = APIRouter(include_in_schema=False)


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
    body = validated(CheckRequest, {"citizen": text(form, "citizen")})
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
    return page("sources.html", web=web, back_to="/sources", sources=statuses, report=report)
