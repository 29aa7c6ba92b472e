"""The pages' languages: Danish by default, English on request (a cookie the switch sets).

Templates are written in English and say `t("…")`; the Danish catalogue (gateway/web/da.py)
gives every such text in Danish, and a test keeps it complete. Slugs (`coordinated-plan`,
`not-covered`, `jobcenter`) are never shown: `word(kind, slug)` names them, from the
configured catalogue where it names them, else from the words below.
"""

from __future__ import annotations

from contextvars import ContextVar
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.views.insights.config import InsightSettings
from gateway.web.da import DANISH, DANISH_PROBLEMS, DANISH_WORDS, ENGLISH_WORDS
from schemas.catalog import Catalog

# kind -> slug -> language -> name, from the configuration (catalogue, support groups, facts)
Vocabulary = dict[str, dict[str, dict[str, str]]]

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
LANGUAGE_COOKIE = "helhed_lang"

_language: ContextVar[str] = ContextVar("helhed_language", default=DEFAULT_LANGUAGE)
_vocabulary: ContextVar[Vocabulary | None] = ContextVar("helhed_vocabulary", default=None)


def language() -> str:
    return _language.get()


def t(text: str, /, **values: Any) -> str:
    """`text` in the page's language, with `{name}` filled in from `values`."""
    translated = text if language() == "en" else DANISH.get(text, text)
    return translated.format(**values) if values else translated


def vocabulary_of(catalog: Catalog, insights: InsightSettings) -> Vocabulary:
    """The configured names: `name` is in the municipality's own language (Danish), `names`
    (or `name_en`) in others."""
    found: Vocabulary = {}
    for kind, entries in (
        ("department", catalog.departments),
        ("category", catalog.categories),
        ("purpose", catalog.purposes),
    ):
        found[kind] = {e.slug: {DEFAULT_LANGUAGE: e.name, **e.names} for e in entries}
    for kind, named in (("support-group", insights.support_groups), ("fact", insights.facts)):
        found[kind] = {
            e.slug: {DEFAULT_LANGUAGE: e.name, **({"en": e.name_en} if e.name_en else {})}
            for e in named
        }
    return found


def _configured_name(kind: str, slug: str) -> str | None:
    names = (_vocabulary.get() or {}).get(kind, {}).get(slug)
    if not names:
        return None
    return names.get(language()) or names.get(DEFAULT_LANGUAGE)


def explain(code: str, default: str, **values: Any) -> str:
    """A refusal's reason in the page's language: Danish where the code has a text."""
    if language() == "en" or code not in DANISH_PROBLEMS:
        return default
    return DANISH_PROBLEMS[code].format(**values) if values else DANISH_PROBLEMS[code]


def word(kind: str, slug: object) -> str:
    """A slug of some vocabulary as a person reads it; an unknown one is made readable."""
    if slug is None:
        return ""
    value = getattr(slug, "value", slug)
    text = str(value)
    named = _configured_name(kind, text)
    if named:
        return named
    words = ENGLISH_WORDS if language() == "en" else DANISH_WORDS
    found = words.get(kind, {}).get(text)
    if found:
        return found
    return text.replace("-", " ").replace("_", " ").replace(".", " ").capitalize()


def pick_language(cookie_header: str | None) -> str:
    if not cookie_header:
        return DEFAULT_LANGUAGE
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except Exception:  # a malformed Cookie header is the browser's problem, not a 500
        return DEFAULT_LANGUAGE
    chosen = cookies.get(LANGUAGE_COOKIE)
    return chosen.value if chosen is not None and chosen.value in LANGUAGES else DEFAULT_LANGUAGE


class PageLanguageMiddleware:
    """Sets the request's language (from the cookie) and the configured names of things."""

    def __init__(self, app: ASGIApp, *, vocabulary: Vocabulary) -> None:
        self.app = app
        self.vocabulary = vocabulary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"cookie", b"").decode("latin-1")
        language_token = _language.set(pick_language(header))
        vocabulary_token = _vocabulary.set(self.vocabulary)
        try:
            await self.app(scope, receive, send)
        finally:
            _language.reset(language_token)
            _vocabulary.reset(vocabulary_token)
