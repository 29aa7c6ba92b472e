"""The citizen view as the pages show it: POST /v1/views (limits and logging included), the
consents behind it, and the page around them."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from consent.decision import local_day
from gateway.auth.permissions import Permission, permissions_of
from gateway.consents import router as consents_api
from gateway.db import read_session
from gateway.deps import audit_context
from gateway.runtime import Runtime
from gateway.views.service import build_citizen_view
from gateway.web.render import page
from gateway.web.sessions import WebSession
from schemas.consent import ConsentRead, ConsentSearch
from schemas.view import CitizenView, ViewRequest

_BLANK = (
    "view",
    "consents",
    "citizen",
    "form_error",
    "draft",
    "consent_errors",
    "preview",
    "preview_errors",
)


def form_page(
    template: str, runtime: Runtime, web: WebSession, back_to: str, **context: Any
) -> Response:
    """A page with the citizen search and the consent form: the vocabulary they offer, and
    nothing shown yet unless the context says so."""
    catalog = runtime.catalog
    return page(
        template,
        web=web,
        back_to=back_to,
        purposes=catalog.purposes,
        departments=catalog.departments,
        categories=catalog.categories,
        systems={name: a.config.kind for name, a in runtime.adapters.items()},
        today=local_day(runtime.clock.now()).isoformat(),
        **{**dict.fromkeys(_BLANK), "chosen_purpose": "coordinated-plan", **context},
    )


def citizen_page(runtime: Runtime, web: WebSession, **context: Any) -> Response:
    return form_page("citizen.html", runtime, web, "/citizen", **context)


def consents_of(
    request: Request, runtime: Runtime, web: WebSession, citizen: str
) -> list[ConsentRead] | None:
    """The citizen's consents as POST /v1/consents/search gives them, if the role may read."""
    if Permission.READ_CONSENT not in permissions_of(list(web.actor.roles)):
        return None
    with read_session(runtime.engine) as session:
        found = consents_api.search_consents(
            ConsentSearch(citizen=citizen), request, web.actor, runtime, session
        )
    return found.consents


async def view_of(
    request: Request, runtime: Runtime, web: WebSession, body: ViewRequest
) -> CitizenView:
    """POST /v1/views, limits and logging included."""
    context = audit_context(request, web.actor)
    return await build_citizen_view(runtime=runtime, actor=web.actor, request=body, context=context)


async def show_citizen(
    request: Request, runtime: Runtime, web: WebSession, body: ViewRequest, **context: Any
) -> Response:
    view = await view_of(request, runtime, web, body)
    consents = await run_in_threadpool(consents_of, request, runtime, web, body.citizen)
    return citizen_page(
        runtime,
        web,
        view=view,
        consents=consents,
        citizen=body.citizen,
        chosen_purpose=body.purpose,
        **context,
    )
