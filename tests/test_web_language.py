"""The pages speak Danish by default and English on request, and name things in words: a slug
(`coordinated-plan`, `not-covered`, `children-family`) is never shown to a person
(issue 13 item 5). Dates a person reads are in Copenhagen time (item 9)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import httpx

from gateway.auth.actor import Actor
from gateway.web.da import DANISH
from tests.builders import consent_body
from tests.oidc import page_session
from tests.support import LiveGateway

TEMPLATES = Path(__file__).parent.parent / "gateway" / "web" / "templates"
SLUGS = (
    "coordinated-plan",
    "case-assessment",
    "case-overview",
    "plans-goals",
    "not-covered",
    "children-family",
    "adult-social",
    "personal-support",
    "socio-pedagogical-support",
)
CASEWORKER = Actor(
    subject="lang-maja",
    name="Test caseworker",
    department="children-family",
    roles=("caseworker",),
    issuer="urn:helhed:dev-issuer",
    token_id=None,
)


class _Text(HTMLParser):
    """What a person reads: text outside tags, <script> and <style>; no attribute values."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def shown_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def test_every_text_of_the_templates_has_a_danish_translation() -> None:
    missing = []
    for template in sorted(TEMPLATES.glob("*.html")):
        for match in re.finditer(r"""\bt\(\s*(["'])(.*?)\1""", template.read_text()):
            if match.group(2) not in DANISH:
                missing.append(f"{template.name}: {match.group(2)}")
    assert missing == []


def test_danish_by_default_english_by_a_switch_that_persists(gateway: LiveGateway) -> None:
    cookies, _csrf = page_session(gateway, CASEWORKER)
    with httpx.Client(base_url=gateway.base_url, cookies=cookies, timeout=30) as browser:
        home = browser.get("/")
        assert '<html lang="da">' in home.text
        assert "Slå en borger op" in home.text
        switched = browser.post("/language", data={"lang": "en", "back": "/citizen"})
        assert (switched.status_code, switched.headers["location"]) == (303, "/citizen")
        again = browser.get("/citizen")
        assert '<html lang="en">' in again.text
        assert "Citizen view" in again.text
        assert '<html lang="en">' in browser.get("/").text, "the choice persists"
        away = browser.post("/language", data={"lang": "da", "back": "//evil.example/"})
        assert away.headers["location"] == "/", "no open redirect"
        assert '<html lang="da">' in browser.get("/").text
    signed_out = httpx.get(f"{gateway.base_url}/")
    assert '<html lang="da">' in signed_out.text
    assert "Log ind" in signed_out.text


def _view_page(gateway: LiveGateway, citizen: str, lang: str) -> str:
    cookies, csrf = page_session(gateway, CASEWORKER)
    cookies["helhed_lang"] = lang
    with httpx.Client(base_url=gateway.base_url, cookies=cookies, timeout=30) as browser:
        shown = browser.post(
            "/citizen", data={"citizen": citizen, "purpose": "coordinated-plan", "csrf": csrf}
        )
        assert shown.status_code == 200, shown.text
        return shown.text


def test_the_citizen_view_names_things_in_words_never_in_slugs(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    sara = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(sara)).raise_for_status()
    for lang, words in (
        ("da", ("Helhedsorienteret plan", "Sagsoverblik", "Ikke dækket af et samtykke")),
        ("en", ("Coordinated joint plan", "Case overview", "Not covered by a consent")),
    ):
        text = shown_text(_view_page(gateway, sara, lang))
        for slug in SLUGS:
            assert slug not in text, f"{lang}: the slug {slug!r} is shown"
        for expected in words:
            assert expected in text, f"{lang}: {expected!r}"


def test_dates_are_written_the_danish_way_in_copenhagen_time(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    sara = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(sara)).raise_for_status()
    html = _view_page(gateway, sara, "da")
    assert "1.2.2025" in html, "the cash benefit's start, 2025-02-01, as Danes write it"
    assert "2025-02-01" not in shown_text(html)
