"""The consent pages against the API (issue 13 items 4 and 6): every field the API needs is on
the form, a live preview shows what a draft opens, `GET /consents` is a page, and a refused
form comes back with its reasons and what was typed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx

from gateway.auth.actor import Actor
from tests.conftest import fresh_cpr
from tests.oidc import page_session
from tests.support import LiveGateway

CASEWORKER = Actor(
    subject="forms-maja",
    name="Test caseworker",
    department="children-family",
    roles=("caseworker",),
    issuer="urn:helhed:dev-issuer",
    token_id=None,
)


def _browser(gateway: LiveGateway) -> tuple[httpx.Client, str]:
    cookies, csrf = page_session(gateway, CASEWORKER)
    cookies["helhed_lang"] = "en"
    return httpx.Client(base_url=gateway.base_url, cookies=cookies, timeout=30), csrf


def _form(citizen: str, csrf: str, **changes: object) -> dict[str, object]:
    today = date.today()
    form: dict[str, object] = {
        "csrf": csrf,
        "citizen": citizen,
        "given_by_kind": "self",
        "from_departments": ["jobcenter"],
        "to_departments": ["children-family"],
        "categories": ["case-overview", "benefits"],
        "purpose": "case-assessment",
        "case_ref": "27.24.03-G01-7-26",
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=90)).isoformat(),
        "evidence_kind": "signed-form",
        "evidence_reference": "J.nr. 27.24.03-G01-7-26",
    }
    form.update(changes)
    return form


def test_get_consents_is_a_page_with_the_whole_form(gateway: LiveGateway) -> None:
    browser, _csrf = _browser(gateway)
    with browser:
        shown = browser.get("/consents")
    assert shown.status_code == 200
    assert "text/html" in shown.headers["content-type"]
    for field in (
        "citizen",
        "given_by_kind",
        "from_departments",
        "to_departments",
        "categories",
        "purpose",
        "case_ref",
        "valid_from",
        "valid_until",
        "data_period_start",
        "evidence_kind",
        "evidence_reference",
    ):
        assert f'name="{field}"' in shown.text, field


def test_a_consent_for_a_purpose_that_names_a_case_is_recorded_from_the_form(
    gateway: LiveGateway,
) -> None:
    citizen = fresh_cpr()
    browser, csrf = _browser(gateway)
    with browser:
        recorded = browser.post("/consents", data=_form(citizen, csrf))
    assert recorded.status_code == 201, recorded.text
    (consent,) = gateway.post("/v1/consents/search", {"citizen": citizen}).json()["consents"]
    assert (consent["purpose"], consent["case_ref"]) == ("case-assessment", "27.24.03-G01-7-26")


def test_a_refused_consent_form_keeps_what_was_typed_and_says_why(gateway: LiveGateway) -> None:
    citizen = fresh_cpr()
    browser, csrf = _browser(gateway)
    with browser:
        refused = browser.post(
            "/consents", data=_form(citizen, csrf, case_ref="", evidence_reference="J.nr. 99")
        )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert "case" in re.search(r'id="consent-errors">(.*?)</div>', refused.text, re.S).group(1)
    assert 'value="J.nr. 99"' in refused.text, "what was typed is kept"
    assert re.search(r'value="benefits" checked', refused.text)
    assert gateway.post("/v1/consents/search", {"citizen": citizen}).json()["consents"] == []
    denied = [e for e in gateway.audit_entries(outcome="denied") if e["citizen"] == citizen]
    assert [e["reason"] for e in denied] == ["case_ref_required"], "logged as the API logs it"


def test_the_preview_shows_what_the_draft_would_open(gateway: LiveGateway) -> None:
    citizen = fresh_cpr()
    browser, csrf = _browser(gateway)
    with browser:
        partial = browser.post(
            "/consents/preview", data=_form(citizen, csrf), headers={"HX-Request": "true"}
        )
        assert partial.status_code == 200
        assert "<html" not in partial.text, "htmx gets the region only"
        assert "Children and family sees case overview from Jobcentre" in partial.text
        incomplete = browser.post(
            "/consents/preview",
            data=_form(citizen, csrf, categories=[]),
            headers={"HX-Request": "true"},
        )
        assert "Not yet a consent that can be recorded" in incomplete.text
        whole = browser.post("/consents/preview", data=_form(citizen, csrf))
        assert "<html" in whole.text
        assert "sees benefits from Jobcentre" in whole.text
        assert 'value="27.24.03-G01-7-26"' in whole.text, "the form comes back filled in"
    previews = [
        e for e in gateway.audit_entries(action="consent.preview") if e["citizen"] == citizen
    ]
    assert len(previews) == 2, "each real preview is logged; an incomplete draft looks nothing up"


def test_a_caseworker_extends_a_consent_from_the_page(gateway: LiveGateway) -> None:
    citizen = fresh_cpr()
    browser, csrf = _browser(gateway)
    with browser:
        browser.post("/consents", data=_form(citizen, csrf)).raise_for_status()
        (consent,) = gateway.post("/v1/consents/search", {"citizen": citizen}).json()["consents"]
        later = (date.fromisoformat(consent["valid_until"]) + timedelta(days=30)).isoformat()
        extended = browser.post(
            f"/consents/{consent['id']}/extend",
            data={"csrf": csrf, "valid_until": later, "reason": "Agreed at the meeting"},
        )
    assert extended.status_code == 201, extended.text
    (now,) = gateway.post("/v1/consents/search", {"citizen": citizen}).json()["consents"]
    assert (now["version"], now["valid_until"]) == (2, later)
