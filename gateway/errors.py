"""Exception handlers: every error leaves as a problem document; refusals are logged first."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.access_log.service import AccessEvent, AccessLogUnavailable, record_access
from gateway.deps import audit_context, citizen_in_body
from gateway.problems import _TITLES, ProblemError, domain_code, field_errors, problem_response
from gateway.runtime import Runtime
from gateway.web.render import error_page
from schemas.access import Action, Outcome

logger = logging.getLogger("helhed.errors")


def _answer(
    request: Request,
    status: int,
    code: str,
    detail: str | None = None,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> Response:
    """A problem document for the API; for a web page, a page with the same status and code."""
    request_id = getattr(request.state, "request_id", None)
    if getattr(request.state, "page", False):
        if code == "not_signed_in":
            # Signed out (or the session ended): a page sends the browser to sign in.
            return RedirectResponse("/", status_code=303)
        return error_page(
            status,
            code,
            detail,
            title=title or _TITLES.get(status, "Error"),
            request_id=request_id,
            headers=headers,
        )
    return problem_response(
        status, code, detail, title=title, instance=request_id, headers=headers, extra=extra
    )


def _unavailable(request: Request) -> Response:
    return _answer(
        request,
        503,
        "access_log_unavailable",
        "The access log cannot be written, so nothing is released. Try again shortly.",
        headers={"Retry-After": "5"},
    )


async def log_refusal(
    request: Request, code: str, citizen: str | None = None, purpose: str | None = None
) -> bool:
    """Log a refused attempt on an audited route; False when the log could not be written."""
    action = getattr(request.state, "audit_action", None)
    if action is None:
        return True
    runtime: Runtime = request.app.state.runtime
    if citizen is None:
        citizen = await citizen_in_body(request)
    event = AccessEvent(
        action=action, outcome=Outcome.DENIED, reason=code, citizen=citizen, purpose=purpose
    )
    context = audit_context(request, getattr(request.state, "actor", None))
    try:
        await run_in_threadpool(
            record_access,
            engine=runtime.engine,
            protector=runtime.protector,
            context=context,
            event=event,
            now=runtime.clock.now(),
        )
    except AccessLogUnavailable:
        logger.error("could not log a refused %s attempt (request %s)", action, context.request_id)
        if action == Action.VIEW:
            runtime.metrics.views.labels("log_unavailable").inc()
        return False
    if action == Action.VIEW:
        runtime.metrics.views.labels("denied").inc()
    return True


def _is_json(content_type: str | None) -> bool:
    """application/json or a +json type; a body sent as anything else is not read as JSON."""
    if content_type is None:
        return True  # no body at all: the missing fields are the problem, not the type
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError) -> Response:
        if 400 <= error.status < 500 and not await log_refusal(
            request, error.code, error.citizen, error.purpose
        ):
            return _unavailable(request)
        return _answer(
            request,
            error.status,
            error.code,
            error.detail,
            title=error.title,
            headers=error.headers,
            extra=error.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        errors = field_errors(list(error.errors()))
        about_body = any(item["location"].split(".")[0] == "body" for item in errors)
        if about_body and not _is_json(request.headers.get("content-type")):
            status, code = 415, "unsupported_media_type"
            detail = "Send the body as JSON: Content-Type: application/json"
        elif any(item["code"] == "json_invalid" for item in errors):
            status, code, detail = 400, "malformed_json", "The request body is not valid JSON"
        else:
            code = domain_code(errors)
            status, detail = 422, "; ".join(f"{e['location']}: {e['message']}" for e in errors)
        if not await log_refusal(request, code):
            return _unavailable(request)
        return _answer(request, status, code, detail, extra={"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(
            error.status_code, "http_error"
        )
        return _answer(
            request,
            error.status_code,
            code,
            str(error.detail),
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(AccessLogUnavailable)
    async def _log_down(request: Request, _error: AccessLogUnavailable) -> Response:
        runtime: Runtime = request.app.state.runtime
        if getattr(request.state, "audit_action", None) == Action.VIEW:
            runtime.metrics.views.labels("log_unavailable").inc()
        logger.error("access log unavailable (request %s)", request.state.request_id)
        return _unavailable(request)

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, error: SQLAlchemyError) -> JSONResponse:
        logger.error(
            "database error %s (request %s)", type(error).__name__, request.state.request_id
        )
        return problem_response(
            503,
            "database_unavailable",
            "The database cannot be reached; nothing was changed. Try again shortly.",
            instance=request.state.request_id,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception(
            "unexpected %s (request %s)", type(error).__name__, request.state.request_id
        )
        return problem_response(
            500,
            "internal_error",
            "An unexpected error; it has been logged",
            instance=request.state.request_id,
        )
