"""The pages' cookies: HttpOnly, SameSite=Lax, and Secure with the __Host- prefix behind TLS.

Lax, not Strict: the browser comes back from the identity provider on a cross-site redirect
and must bring the sign-in cookie along. Forms are protected by CSRF tokens besides.
Over plain http (the demo on loopback) a Secure cookie would never come back, so it is left off
there; `public_url = "https://…"` or a TLS-terminating proxy switches it on.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.settings import Settings

LOGIN_COOKIE = "helhed_login"
_SESSION = "helhed_session"


def is_secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or (settings.public_url or "").startswith("https://")


def session_cookie_name(secure: bool) -> str:
    # __Host-: only ever set by this host, over TLS, for the whole site (no Domain attribute).
    return f"__Host-{_SESSION}" if secure else _SESSION


def session_token(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(session_cookie_name(is_secure(request, settings)))


def set_session_cookie(response: Response, token: str, *, secure: bool, max_age: int) -> None:
    response.set_cookie(
        session_cookie_name(secure),
        token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        session_cookie_name(secure), path="/", secure=secure, httponly=True, samesite="lax"
    )


def set_login_cookie(response: Response, state: str, *, secure: bool) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        state,
        max_age=600,
        path="/signin",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_login_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        LOGIN_COOKIE, path="/signin", secure=secure, httponly=True, samesite="lax"
    )
