"""GET /v1/sources and POST /v1/sources/{name}/check, for IT operations."""

from __future__ import annotations

from fastapi import APIRouter, Body, Request

from gateway.deps import RuntimeDep, SourceChecker, SourceReader, audit_context
from gateway.problems import BEARER, JSON_BODY, problem_responses
from gateway.sources.schemas import CheckReport, CheckRequest, SourcesRead
from gateway.sources.service import check_source, source_statuses

router = APIRouter(prefix="/v1/sources", tags=["sources"])


@router.get("", responses=problem_responses(*BEARER))
async def list_sources(runtime: RuntimeDep, _actor: SourceReader) -> SourcesRead:
    """Each source's kind, department, health now, last success and error, latency, breaker."""
    return SourcesRead(sources=await source_statuses(runtime=runtime))


@router.post("/{name}/check", responses=problem_responses(*BEARER, *JSON_BODY, 404))
async def check(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    actor: SourceChecker,
    body: CheckRequest = Body(default_factory=CheckRequest),
) -> CheckReport:
    """Connect, run the mapping on real records (a citizen's, if one is given; logged), and
    list every problem. `ok` is false when there is any."""
    return await check_source(
        runtime=runtime, name=name, citizen=body.citizen, context=audit_context(request, actor)
    )
