"""Named dependencies, in one place: routers never open sessions or read settings themselves."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic_core import PydanticCustomError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from gateway.access_log.service import AuditContext
from gateway.auth.actor import Actor
from gateway.auth.permissions import (
    AUDITED_ACTION,
    DEPARTMENT_BOUND,
    Permission,
    permissions_of,
)
from gateway.auth.tokens import IssuerUnavailable, TokenRejected
from gateway.db import read_session
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from gateway.web.cookies import session_token
from gateway.web.sessions import WebSession, load_session
from schemas.access import ActorRecord
from schemas.cpr import normalize_cpr

_bearer = HTTPBearer(
    auto_error=False,
    description="An OIDC access token (development: `helhed token` or the demo's printout)",
)


# async, though it awaits nothing: FastAPI runs a plain def dependency in a worker thread, a
# thread hop on every request for one attribute read.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with read_session(runtime.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def audit_context(request: Request, actor: Actor | None = None) -> AuditContext:
    runtime: Runtime = request.app.state.runtime
    if actor is None:
        record = ActorRecord(client=client_address(request))
    else:
        # A citizen's token subject is their CPR; the log keeps a keyed-hash pseudonym.
        pseudonym = runtime.protector.lookup_hash(actor.citizen)[:24] if actor.citizen else None
        record = actor.record(client_address(request), pseudonym)
    return AuditContext(
        actor=record,
        request_id=request.state.request_id,
        instance=runtime.settings.instance,
    )


def check_permission(runtime: Runtime, actor: Actor, *permissions: Permission) -> list[Permission]:
    """The role table's answer for this actor, for the API and the web pages alike.

    Several permissions are alternatives (a caseworker's, or a citizen's own); the caller
    narrows what the actor may touch by which of them they hold (returned).
    """
    granted = [p for p in permissions if p in permissions_of(list(actor.roles))]
    if not granted:
        raise ProblemError(
            403,
            "forbidden",
            f"Your roles ({', '.join(actor.roles) or 'none'}) do not allow this",
        )
    if all(p in DEPARTMENT_BOUND for p in granted) and (
        actor.department is None or runtime.catalog.department(actor.department) is None
    ):
        raise ProblemError(
            403, "unknown_department", "The token does not name a department Helhed knows"
        )
    if "citizen" in actor.roles and actor.citizen is None:
        raise ProblemError(
            403, "invalid_citizen_subject", "A citizen token must name the citizen's CPR"
        )
    return granted


def _invalid_token(code: str, message: str) -> ProblemError:
    return ProblemError(
        401,
        code,
        message,
        headers={
            "WWW-Authenticate": f'Bearer realm="helhed", error="invalid_token", '
            f'error_description="{code}"'
        },
    )


async def bearer_actor(runtime: Runtime, token: str) -> Actor:
    try:
        return await runtime.verifier.authenticate(token, now=int(time.time()))
    except TokenRejected as rejected:
        raise _invalid_token(rejected.code, rejected.message) from None
    except IssuerUnavailable:
        raise ProblemError(
            503,
            "issuer_unavailable",
            "The token's issuer cannot be reached to check its keys; try again shortly",
            headers={"Retry-After": "10"},
        ) from None


def authorized(*permissions: Permission) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """A dependency that authenticates the bearer token and checks the role table; several
    permissions are alternatives (see check_permission)."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        # The runtime read here, not through RuntimeDep: every dependency FastAPI solves costs
        # it more than this attribute read, on every authenticated request.
        runtime: Runtime = request.app.state.runtime
        # Set first, so that a refusal below is logged under the action that was attempted.
        request.state.audit_action = AUDITED_ACTION[permissions[0]]
        if credentials is None:
            raise ProblemError(
                401,
                "missing_token",
                "Send an access token: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="helhed"'},
            )
        actor = await bearer_actor(runtime, credentials.credentials)
        request.state.actor = actor
        granted = check_permission(runtime, actor, *permissions)
        request.state.audit_action = AUDITED_ACTION[granted[0]]
        return actor

    # Declares the route's permission: the role x endpoint test reads it from app.routes.
    dependency.permission = frozenset(permissions)  # type: ignore[attr-defined]
    return dependency


async def citizen_in_body(request: Request) -> str | None:
    """The valid CPR a request's JSON body or form names as `citizen`, if any.

    FastAPI has read and cached the body already. A refused request is logged with it, so the
    citizen's insight report shows attempts on their data, not only successes (issue 13).
    """
    sent: object = None
    if request.method != "POST":
        return None
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get("citizen")
        else:
            body = await request.json()
            sent = body.get("citizen") if isinstance(body, dict) else None
    except (ValueError, UnicodeDecodeError, AssertionError):
        return None
    try:
        return normalize_cpr(sent)
    except PydanticCustomError:
        return None  # the body's validation will refuse it


# The view checks the user's limits itself, in the same read as the citizen's consents.
CitizenViewer = Annotated[Actor, Depends(authorized(Permission.VIEW_CITIZEN))]
ConsentRecorder = Annotated[Actor, Depends(authorized(Permission.RECORD_CONSENT))]
ConsentReader = Annotated[Actor, Depends(authorized(Permission.READ_CONSENT))]
ConsentVersioner = Annotated[Actor, Depends(authorized(Permission.VERSION_CONSENT))]
ConsentRetractor = Annotated[Actor, Depends(authorized(Permission.RETRACT_CONSENT))]
ConsentLister = Annotated[
    Actor, Depends(authorized(Permission.READ_CONSENT, Permission.LIST_OWN_CONSENTS))
]
ReceiptReader = Annotated[
    Actor, Depends(authorized(Permission.READ_CONSENT, Permission.READ_OWN_RECEIPT))
]
ConsentWithdrawer = Annotated[
    Actor, Depends(authorized(Permission.WITHDRAW_CONSENT, Permission.WITHDRAW_OWN_CONSENT))
]
AuditReader = Annotated[Actor, Depends(authorized(Permission.READ_AUDIT))]
AuditVerifier = Annotated[Actor, Depends(authorized(Permission.VERIFY_AUDIT))]


# --- the web pages: the same role table, with a session cookie instead of a bearer token -----

SIGNED_IN = "signed-in"  # what a page declares when anyone signed in may see it


async def current_web_session(request: Request, runtime: Runtime) -> WebSession | None:
    token = session_token(request, runtime.settings)
    if not token:
        return None
    return await run_in_threadpool(
        load_session,
        engine=runtime.engine,
        protector=runtime.protector,
        token=token,
        now=runtime.clock.now(),
    )


async def _check_csrf(request: Request, web: WebSession) -> None:
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), web.csrf.encode()):
        raise ProblemError(403, "csrf_token_invalid", "The form is stale or not from Helhed")


def page_authorized(*permissions: Permission) -> Callable[..., Coroutine[Any, Any, WebSession]]:
    """A page's dependency: a live session, its CSRF token on every POST, and the role table
    (no permissions: any signed-in user; several: alternatives, as for the API)."""

    async def dependency(request: Request, runtime: RuntimeDep) -> WebSession:
        request.state.page = True  # errors render as pages, with the same status and logging
        if permissions:
            request.state.audit_action = AUDITED_ACTION[permissions[0]]
        web = await current_web_session(request, runtime)
        if web is None:
            raise ProblemError(401, "not_signed_in", "Sign in to see this page")
        request.state.actor = web.actor
        if request.method == "POST":
            await _check_csrf(request, web)
        if permissions:
            granted = check_permission(runtime, web.actor, *permissions)
            request.state.audit_action = AUDITED_ACTION[granted[0]]
        return web

    dependency.permission = frozenset(permissions) or SIGNED_IN  # type: ignore[attr-defined]
    return dependency


async def mark_page(request: Request) -> None:
    """Public pages: errors render as pages too."""
    request.state.page = True


SignedInPage = Annotated[WebSession, Depends(page_authorized())]
CitizenViewerPage = Annotated[WebSession, Depends(page_authorized(Permission.VIEW_CITIZEN))]
ConsentRecorderPage = Annotated[WebSession, Depends(page_authorized(Permission.RECORD_CONSENT))]
ConsentReaderPage = Annotated[WebSession, Depends(page_authorized(Permission.READ_CONSENT))]
ConsentVersionerPage = Annotated[WebSession, Depends(page_authorized(Permission.VERSION_CONSENT))]
ConsentWithdrawerPage = Annotated[
    WebSession,
    Depends(page_authorized(Permission.WITHDRAW_CONSENT, Permission.WITHDRAW_OWN_CONSENT)),
]
OwnConsentsPage = Annotated[WebSession, Depends(page_authorized(Permission.LIST_OWN_CONSENTS))]
OwnReceiptPage = Annotated[WebSession, Depends(page_authorized(Permission.READ_OWN_RECEIPT))]
AuditReaderPage = Annotated[WebSession, Depends(page_authorized(Permission.READ_AUDIT))]
AuditReporterPage = Annotated[WebSession, Depends(page_authorized(Permission.REPORT_AUDIT))]
SourceReaderPage = Annotated[WebSession, Depends(page_authorized(Permission.READ_SOURCES))]
SourceCheckerPage = Annotated[WebSession, Depends(page_authorized(Permission.CHECK_SOURCE))]
AuditVerifierPage = Annotated[WebSession, Depends(page_authorized(Permission.VERIFY_AUDIT))]


def session_token_of(request: Request, runtime: Runtime) -> str | None:
    return session_token(request, runtime.settings)


SourceReader = Annotated[Actor, Depends(authorized(Permission.READ_SOURCES))]
SourceChecker = Annotated[Actor, Depends(authorized(Permission.CHECK_SOURCE))]
AuditReporter = Annotated[Actor, Depends(authorized(Permission.REPORT_AUDIT))]
