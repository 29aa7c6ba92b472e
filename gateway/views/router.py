"""POST /v1/views: the citizen view. The CPR travels in the body, never in the URL."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.deps import CitizenViewer, audit_context
from gateway.problems import BEARER, JSON_BODY, problem_responses
from gateway.runtime import Runtime
from gateway.views.service import build_citizen_view
from schemas.view import CitizenView, ViewRequest

router = APIRouter(prefix="/v1/views", tags=["views"])


@router.post(
    "",
    response_model=CitizenView,
    # 429: more views a minute than the per-user limit allows.
    responses=problem_responses(*BEARER, *JSON_BODY, 429),
)
async def view_citizen(body: ViewRequest, request: Request, actor: CitizenViewer) -> Response:
    """Everything the citizen's consents let your department see, from every department."""
    # Read from the app, not through RuntimeDep: one dependency less to solve on every view.
    runtime: Runtime = request.app.state.runtime
    view = await build_citizen_view(
        runtime=runtime, actor=actor, request=body, context=audit_context(request, actor)
    )
    # Built from validated models already: serialise once, skip FastAPI's second validation.
    return Response(view.model_dump_json(), media_type="application/json")
