"""The web pages at /: the start page per role, the language switch, and the caseworker's
citizen view with its printable joint overview. Each page calls the very function its API
endpoint uses, behind the same role table, so the pages can never show more than the API
would. The consent, log and source pages live beside this module.

A CPR never appears in a URL: it travels in POSTed forms only.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.deps import (
    CitizenViewerPage,
    RuntimeDep,
    current_web_session,
    mark_page,
)
from gateway.ops import router as ops_api
from gateway.problems import ProblemError
from gateway.web import audit_pages, consent_pages, source_pages
from gateway.web.citizen_view import citizen_page, show_citizen, view_of
from gateway.web.cookies import is_secure
from gateway.web.forms import refused, text, validated
from gateway.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from gateway.web.render import page
from schemas.view import ViewRequest

router = APIRouter(include_in_schema=False)

_STATIC = resources.files("gateway.web").joinpath("static")
_ASSETS = {
    "helhed.css": ("text/css", _STATIC.joinpath("helhed.css").read_bytes()),
    "htmx.min.js": ("text/javascript", _STATIC.joinpath("htmx.min.js").read_bytes()),
}


def _asset(name: str) -> Response:
    media_type, body = _ASSETS[name]
    return Response(body, media_type=media_type, headers={"Cache-Control": "max-age=3600"})


@router.get("/assets/helhed.css")
def stylesheet() -> Response:
    return _asset("helhed.css")


@router.get("/assets/htmx.min.js")
def htmx_script() -> Response:
    return _asset("htmx.min.js")


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


def _safe_back(value: str | None) -> str:
    """Only a path on this site (no scheme, no //host): the switch is no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.post("/language", dependencies=[Depends(mark_page)])
async def switch_language(request: Request, runtime: RuntimeDep) -> Response:
    """Danish or English, kept in a cookie for a year; nothing else changes, so no CSRF token
    is needed (the worst a forged switch does is change the language)."""
    form = await request.form()
    chosen = text(form, "lang")
    response = RedirectResponse(_safe_back(text(form, "back")), status_code=303)
    if chosen in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            path="/",
            secure=is_secure(request, runtime.settings),
            httponly=True,
            samesite="lax",
        )
    return response


@router.get("/citizen")
async def citizen_form(runtime: RuntimeDep, web: CitizenViewerPage) -> Response:
    return citizen_page(runtime, web)


@router.post("/citizen")
async def citizen_view(request: Request, runtime: RuntimeDep, web: CitizenViewerPage) -> Response:
    """The citizen view, as POST /v1/views gives it, with the consents behind it; a refused
    look-up is shown on the form, with what was typed."""
    form = await request.form()
    typed_cpr, purpose = text(form, "citizen"), text(form, "purpose")
    try:
        body = validated(ViewRequest, {"citizen": typed_cpr, "purpose": purpose})
        return await show_citizen(request, runtime, web, body)
    except (RequestValidationError, ProblemError) as error:
        if isinstance(error, ProblemError) and error.status == 429:
            raise
        messages = await refused(request, error)
        return citizen_page(
            runtime,
            web,
            status=422 if isinstance(error, RequestValidationError) else error.status,
            citizen=typed_cpr,
            chosen_purpose=purpose or "coordinated-plan",
            form_error=" ".join(messages),
        )


@router.post("/citizen/overview")
async def joint_overview(request: Request, runtime: RuntimeDep, web: CitizenViewerPage) -> Response:
    """A printable one-page joint overview for the meeting with the citizen: what each
    department does, the goals and the contacts. It is a view like any other, and logged."""
    form = await request.form()
    body = validated(
        ViewRequest, {"citizen": text(form, "citizen"), "purpose": text(form, "purpose")}
    )
    view = await view_of(request, runtime, web, body)
    return page("overview.html", web=web, view=view)


router.include_router(consent_pages.router)
router.include_router(audit_pages.router)
router.include_router(source_pages.router)
