"""Sign-in for the web pages: the authorization-code flow with PKCE against a trusted issuer.

The gateway is a confidential (or PKCE-only public) client of the issuer. The ID token proves
who came back from this very sign-in (nonce, audience = our client id); the actor is then
taken from the access token by the same checks and claim mapping the API applies to bearer
tokens, so a page never grants more than the API would to the same person.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from httpx2 import HTTPError
from joserfc import jws
from starlette.concurrency import run_in_threadpool

from gateway.access_log.service import AccessEvent, record_access
from gateway.auth.errors import IssuerUnavailable, TokenRejected
from gateway.auth.issuers import IssuerKeys
from gateway.deps import RuntimeDep, SignedInPage, audit_context, mark_page, session_token_of
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from gateway.settings import TrustedIssuer
from gateway.web.cookies import (
    LOGIN_COOKIE,
    clear_login_cookie,
    clear_session_cookie,
    is_secure,
    set_login_cookie,
    set_session_cookie,
)
from gateway.web.models import LoginAttemptRow
from gateway.web.sessions import create_session, end_session, finish_login, start_login
from schemas.access import Action, Outcome

router = APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])

_PROVIDER_ERROR = re.compile(r"^[a-z_]{1,40}$")


def _audited_as(action: Action) -> Any:
    def dependency(request: Request) -> None:
        request.state.audit_action = action

    return Depends(dependency)


async def _metadata(issuer: IssuerKeys) -> dict[str, Any]:
    try:
        return await issuer.metadata()
    except IssuerUnavailable:
        raise ProblemError(
            503, "issuer_unavailable", "The sign-in service cannot be reached; try again shortly"
        ) from None


def _callback_url(request: Request, runtime: Runtime) -> str:
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/") + "/signin/callback"
    return str(request.url_for("sign_in_callback"))


def _client(config: TrustedIssuer, redirect_uri: str) -> AsyncOAuth2Client:
    secret = config.client_secret.get_secret_value() if config.client_secret else None
    return AsyncOAuth2Client(
        client_id=config.client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        scope=" ".join(config.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=10.0,
    )


@router.get("/signin/callback", name="sign_in_callback", dependencies=[_audited_as(Action.SIGN_IN)])
async def sign_in_callback(
    request: Request,
    runtime: RuntimeDep,
    state: Annotated[str | None, Query(max_length=200)] = None,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Where the provider sends the browser back: check, exchange the code, start a session."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    # The state must be the one this browser was given: no one else's sign-in lands here.
    if not state or not expected or not hmac.compare_digest(state.encode(), expected.encode()):
        raise ProblemError(401, "sign_in_state_mismatch", "This sign-in was not started here")
    now = runtime.clock.now()
    attempt = await run_in_threadpool(finish_login, engine=runtime.engine, state=state, now=now)
    if attempt is None:
        raise ProblemError(401, "sign_in_expired", "This sign-in has expired; please start again")
    if error is not None or not code:
        said = error if error and _PROVIDER_ERROR.match(error) else "no code"
        raise ProblemError(401, "sign_in_refused", f"The identity provider answered: {said}")
    issuer = runtime.verifier.issuers.get(attempt.issuer)
    if issuer is None or not issuer.config.signs_in_pages:
        raise ProblemError(401, "unknown_issuer", "That issuer is no longer trusted")
    tokens = await _exchange(issuer, attempt, code)
    actor, expires = await _actor_of(runtime, issuer, attempt, tokens)
    request.state.actor = actor
    if not actor.roles:
        raise ProblemError(403, "no_role", "Your account has no role in Helhed")
    token, _web = await run_in_threadpool(
        create_session,
        engine=runtime.engine,
        protector=runtime.protector,
        actor=actor,
        expires_at=expires,
        now=now,
    )
    await run_in_threadpool(
        record_access,
        engine=runtime.engine,
        protector=runtime.protector,
        context=audit_context(request, actor),
        event=AccessEvent(
            action=Action.SIGN_IN, outcome=Outcome.SUCCESS, detail={"issuer": issuer.config.name}
        ),
        now=now,
    )
    secure = is_secure(request, runtime.settings)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, token, secure=secure, max_age=int((expires - now).total_seconds()))
    clear_login_cookie(response, secure=secure)
    return response


async def _exchange(issuer: IssuerKeys, attempt: LoginAttemptRow, code: str) -> dict[str, Any]:
    metadata = await _metadata(issuer)
    try:
        async with _client(issuer.config, attempt.redirect_uri) as client:
            tokens: dict[str, Any] = await client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=attempt.code_verifier,
            )
    except (OAuthError, HTTPError, ValueError) as failure:
        raise ProblemError(
            401,
            "code_exchange_failed",
            f"The code could not be exchanged ({type(failure).__name__})",
        ) from None
    if not isinstance(tokens.get("id_token"), str) or not isinstance(
        tokens.get("access_token"), str
    ):
        raise ProblemError(401, "code_exchange_failed", "The provider sent no ID or access token")
    return tokens


def _payload(token: str) -> dict[str, Any]:
    """The claims of a token that has been verified already."""
    claims: dict[str, Any] = json.loads(jws.extract_compact(token.encode("ascii")).payload)
    return claims


async def _actor_of(
    runtime: Runtime, issuer: IssuerKeys, attempt: LoginAttemptRow, tokens: dict[str, Any]
) -> tuple[Any, datetime]:
    now = int(time.time())
    try:
        identity = await runtime.verifier.id_token_claims(
            tokens["id_token"],
            now,
            issuer=issuer,
            client_id=issuer.config.client_id or "",
            nonce=attempt.nonce,
        )
        actor = await runtime.verifier.authenticate(tokens["access_token"], now)
    except TokenRejected as rejected:
        raise ProblemError(401, rejected.code, rejected.message) from None
    except IssuerUnavailable:
        raise ProblemError(
            503, "issuer_unavailable", "The sign-in service cannot be reached"
        ) from None
    access = _payload(tokens["access_token"])
    if access.get("sub") != identity.get("sub"):
        raise ProblemError(401, "subject_mismatch", "The ID and access tokens name different users")
    longest = runtime.clock.now() + timedelta(minutes=runtime.settings.web_session_minutes)
    return actor, min(longest, datetime.fromtimestamp(int(access["exp"]), UTC))


@router.get("/signin/{name}", dependencies=[_audited_as(Action.SIGN_IN)])
async def sign_in(name: str, request: Request, runtime: RuntimeDep) -> Response:
    """Send the browser to the issuer's sign-in, with a fresh state, nonce and PKCE challenge."""
    issuer = runtime.verifier.by_name(name)
    if issuer is None:
        raise ProblemError(404, "unknown_issuer", "There is no sign-in by that name")
    metadata = await _metadata(issuer)
    redirect_uri = _callback_url(request, runtime)
    attempt = await run_in_threadpool(
        start_login,
        engine=runtime.engine,
        issuer=issuer.config.issuer,
        redirect_uri=redirect_uri,
        now=runtime.clock.now(),
    )
    async with _client(issuer.config, redirect_uri) as client:
        url, _state = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=attempt.state,
            code_verifier=attempt.code_verifier,
            nonce=attempt.nonce,
        )
    response = RedirectResponse(url, status_code=303)
    set_login_cookie(response, attempt.state, secure=is_secure(request, runtime.settings))
    return response


_SAFE_SCHEMES = ("https://", "http://127.0.0.1", "http://localhost")  # as issuers must be


async def _after_sign_out(request: Request, runtime: Runtime, issuer_url: str) -> str:
    """Where the browser goes once the session here has ended: to the provider's own sign-out
    when it has one (OpenID Connect RP-Initiated Logout), so that on a shared PC the next
    person cannot sign in as the last one without their password; back to the start page."""
    home = (runtime.settings.public_url or str(request.url_for("start_page"))).rstrip("/") + "/"
    issuer = runtime.verifier.issuers.get(issuer_url)
    if issuer is None or not issuer.config.signs_in_pages:
        return "/"
    try:
        endpoint = (await issuer.metadata()).get("end_session_endpoint")
    except IssuerUnavailable:
        return "/"  # signed out here; the provider's session lapses by itself
    if not isinstance(endpoint, str) or not endpoint.startswith(_SAFE_SCHEMES):
        return "/"
    query = urlencode({"client_id": issuer.config.client_id, "post_logout_redirect_uri": home})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


@router.post("/signout", dependencies=[_audited_as(Action.SIGN_OUT)])
async def sign_out(request: Request, runtime: RuntimeDep, web: SignedInPage) -> Response:
    """End the session here and on every instance, then at the provider that signed it in."""
    now = runtime.clock.now()
    token = session_token_of(request, runtime)
    if token:
        await run_in_threadpool(end_session, engine=runtime.engine, token=token, now=now)
    await run_in_threadpool(
        record_access,
        engine=runtime.engine,
        protector=runtime.protector,
        context=audit_context(request, web.actor),
        event=AccessEvent(action=Action.SIGN_OUT, outcome=Outcome.SUCCESS),
        now=now,
    )
    after = await _after_sign_out(request, runtime, web.actor.issuer)
    response = RedirectResponse(after, status_code=303)
    clear_session_cookie(response, secure=is_secure(request, runtime.settings))
    return response
