"""POST /v1/views: the citizen view. The CPR travels in the body, never in the URL."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.deps import CitizenViewer, RuntimeDep, audit_context
from gateway.views.service import build_citizen_view
from schemas.problem import Problem
from schemas.view import CitizenView, ViewRequest

router = APIRouter(prefix="/v1/views", tags=["views"])


@router.post(
    "",
    response_model=CitizenView,
    responses={
        code: {"model": Problem, "content": {"application/problem+json": {}}}
        for code in (400, 401, 403, 422, 503)
    },
)
async def view_citizen(
    body: ViewRequest, request: Request, actor: CitizenViewer, runtime: RuntimeDep
) -> Response:
    """Everything the citizen's consents let your department see, from every department."""
    view = await build_citizen_view(
        runtime=runtime, actor=actor, request=body, context=audit_context(request, actor)
    )
    # Built from validated models already: serialise once, skip FastAPI's second validation.
    return Response(view.model_dump_json(), media_type="application/json")
