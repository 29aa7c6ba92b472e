"""The consent pages: a caseworker finds, records (with a live preview of what a draft opens),
extends and withdraws consents; a citizen sees their own in plain words and withdraws one
with a single button. Every form calls the API's own function behind the same role table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from gateway.consents import exports as consent_exports
from gateway.consents import router as consents_api
from gateway.db import read_session
from gateway.deps import (
    ConsentReaderPage,
    ConsentRecorderPage,
    ConsentVersionerPage,
    ConsentWithdrawerPage,
    OwnConsentsPage,
    OwnReceiptPage,
    RuntimeDep,
)
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from gateway.web.citizen_view import form_page, show_citizen
from gateway.web.forms import reasons, refused, text, texts, typed, validated
from gateway.web.render import page
from gateway.web.sessions import WebSession
from schemas.consent import (
    ConsentChange,
    ConsentCreate,
    ConsentRead,
    ConsentSearch,
    ConsentWithdraw,
)
from schemas.view import ViewRequest

router = APIRouter(include_in_schema=False)


def _draft(form: FormData) -> dict[str, Any]:
    """The consent form as POST /v1/consents's body."""
    kind = text(form, "given_by_kind") or "self"
    period = {
        key: value
        for key, value in {
            "start": text(form, "data_period_start"),
            "end": text(form, "data_period_end"),
        }.items()
        if value
    }
    return {
        "citizen": text(form, "citizen"),
        "given_by": {"kind": kind}
        if kind == "self"
        else {"kind": kind, "name": text(form, "given_by_name")},
        "from_departments": texts(form, "from_departments"),
        "to_departments": texts(form, "to_departments"),
        "categories": texts(form, "categories"),
        "purpose": text(form, "purpose"),
        "valid_from": text(form, "valid_from"),
        "valid_until": text(form, "valid_until"),
        "case_ref": text(form, "case_ref"),
        "data_period": period or None,
        "notice_version": text(form, "notice_version"),
        "evidence": {
            "kind": text(form, "evidence_kind"),
            "reference": text(form, "evidence_reference"),
        },
    }


def consents_page(runtime: Runtime, web: WebSession, **context: Any) -> Response:
    return form_page("consents.html", runtime, web, "/consents", **context)


def _search(request: Request, runtime: Runtime, web: WebSession, citizen: str) -> list[ConsentRead]:
    with read_session(runtime.engine) as session:
        found = consents_api.search_consents(
            ConsentSearch(citizen=citizen), request, web.actor, runtime, session
        )
    return found.consents


@router.get("/consents")
async def consents_start(runtime: RuntimeDep, web: ConsentReaderPage) -> Response:
    """Find a citizen's consents, or record one."""
    return consents_page(runtime, web)


@router.post("/consents/search")
async def consents_found(request: Request, runtime: RuntimeDep, web: ConsentReaderPage) -> Response:
    form = await request.form()
    typed_cpr = text(form, "citizen")
    try:
        search = validated(ConsentSearch, {"citizen": typed_cpr})
        found = await run_in_threadpool(_search, request, runtime, web, search.citizen)
    except (RequestValidationError, ProblemError) as error:
        messages = await refused(request, error)
        return consents_page(
            runtime, web, status=422, citizen=typed_cpr, form_error=" ".join(messages)
        )
    return consents_page(
        runtime, web, citizen=search.citizen, consents=found, draft={"citizen": search.citizen}
    )


async def _form_again(
    request: Request,
    runtime: Runtime,
    web: WebSession,
    form: FormData,
    error: RequestValidationError | ProblemError,
) -> Response:
    """The consent form once more, with what was typed and why it was refused."""
    messages = await refused(request, error, citizen=None)
    draft = typed(form)
    status = 422 if isinstance(error, RequestValidationError) else error.status
    if form.get("from_view") == "yes" and draft.get("citizen"):
        # Refused from the citizen view: show the view again, the form below it filled in.
        try:
            body = ViewRequest(citizen=draft["citizen"], purpose=draft.get("purpose") or "")
            response = await show_citizen(
                request, runtime, web, body, draft=draft, consent_errors=messages
            )
            response.status_code = status
            return response
        except (ValueError, ProblemError):
            pass
    return consents_page(
        runtime, web, status=status, draft=draft, consent_errors=messages, citizen=None
    )


@router.post("/consents")
async def record_consent(
    request: Request, runtime: RuntimeDep, web: ConsentRecorderPage
) -> Response:
    form = await request.form()
    try:
        data = validated(ConsentCreate, _draft(form))
        consent = await run_in_threadpool(
            consents_api.record_consent, data, request, web.actor, runtime
        )
    except (RequestValidationError, ProblemError) as error:
        if isinstance(error, ProblemError) and error.status >= 500:
            raise
        return await _form_again(request, runtime, web, form, error)
    return page("consent.html", web=web, consent=consent, what="recorded", status=201)


@router.post("/consents/preview")
async def preview_consent(
    request: Request, runtime: RuntimeDep, web: ConsentRecorderPage
) -> Response:
    """POST /v1/consents/preview for the form: the region htmx replaces as the form changes,
    or, without scripts, the whole form again with the preview in it."""
    form = await request.form()
    partial = request.headers.get("hx-request") == "true"
    preview, problems = None, None
    try:
        data = validated(ConsentCreate, _draft(form))
        preview = await run_in_threadpool(
            consents_api.preview_consent, data, request, web.actor, runtime
        )
    except RequestValidationError as error:
        problems = reasons(error)[1]  # a draft still being typed: nothing was looked up
    except ProblemError as error:
        if error.status >= 500:
            raise
        problems = await refused(request, error)
    if partial:
        return page("_preview.html", web=web, preview=preview, preview_errors=problems)
    return consents_page(runtime, web, draft=typed(form), preview=preview, preview_errors=problems)


@router.post("/consents/{consent_id}/extend")
async def extend_consent(
    consent_id: str, request: Request, runtime: RuntimeDep, web: ConsentVersionerPage
) -> Response:
    """A new version with a later end (POST /v1/consents/{id}/versions)."""
    form = await request.form()
    change = validated(
        ConsentChange,
        {"valid_until": text(form, "valid_until"), "reason": text(form, "reason")},
    )
    consent = await run_in_threadpool(
        consents_api.version_consent, consent_id, change, request, web.actor, runtime
    )
    return page("consent.html", web=web, consent=consent, what="extended", status=201)


@router.post("/consents/{consent_id}/withdraw")
async def withdraw_consent(
    consent_id: str, request: Request, runtime: RuntimeDep, web: ConsentWithdrawerPage
) -> Response:
    form = await request.form()
    body = validated(ConsentWithdraw, {"reason": text(form, "reason")})
    consent = await run_in_threadpool(
        consents_api.withdraw_consent, consent_id, body, request, web.actor, runtime
    )
    return page("consent.html", web=web, consent=consent, what="withdrawn")


@router.get("/my-consents")
async def own_consents(request: Request, runtime: RuntimeDep, web: OwnConsentsPage) -> Response:
    """A citizen's own consents, how often each was used, withdrawal and receipts."""
    citizen = web.actor.citizen
    assert citizen is not None  # the role table admits citizens with a CPR only
    consents = await run_in_threadpool(_search, request, runtime, web, citizen)
    return page("own_consents.html", web=web, back_to="/my-consents", consents=consents)


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
