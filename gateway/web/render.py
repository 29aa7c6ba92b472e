"""Jinja2 pages: autoescaped, one stylesheet and one script (htmx) from our own origin (the CSP
allows nothing else), in the request's language."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gateway.auth.permissions import permissions_of
from gateway.web import present
from gateway.web.i18n import language, t, word
from gateway.web.sessions import WebSession
from schemas.cpr import mask_cpr

_ENV = Environment(
    loader=PackageLoader("gateway.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
)
_ENV.filters["masked"] = lambda cpr: mask_cpr(cpr) if cpr else ""
_ENV.filters["day"] = present.day
_ENV.filters["moment"] = present.moment
_ENV.filters["money"] = present.money
_ENV.filters["words"] = lambda slugs, kind: ", ".join(word(kind, s) for s in slugs or ())
_ENV.globals.update(t=t, word=word, chart=present.chart)


def page(
    template: str,
    *,
    web: WebSession | None = None,
    status: int = 200,
    back_to: str = "/",
    **context: Any,
) -> HTMLResponse:
    """`back_to`: where the language switch returns to (a page a GET can show again)."""
    granted = {p.value for p in permissions_of(list(web.actor.roles))} if web else set()
    html = _ENV.get_template(template).render(
        web=web,
        actor=web.actor if web else None,
        csrf=web.csrf if web else "",
        can=granted,
        lang=language(),
        back_to=back_to,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def error_page(
    status: int,
    code: str,
    detail: str | None,
    *,
    title: str,
    request_id: str | None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """What a page shows instead of a problem document: same status, same code."""
    response = page(
        "error.html",
        status=status,
        http_status=status,
        title=title,
        code=code,
        detail=detail,
        request_id=request_id,
    )
    for name, value in (headers or {}).items():
        if name.lower() != "www-authenticate":  # a browser would pop up a password dialog
            response.headers[name] = value
    return response
