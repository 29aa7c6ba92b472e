"""The web pages' protections: CSRF on every form, abuse limits, headers, body size, no CPR in
a URL."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from demo.test_citizens import TEST_CITIZEN
from gateway.auth.actor import Actor
from tests.conftest import SAMPLE, fresh_cpr
from tests.oidc import page_session
from tests.support import LiveGateway

CASEWORKER = Actor(
    subject="web-maja",
    name="Mette Kjær",
    department="children-family",
    roles=("caseworker",),
    issuer="urn:helhed:dev-issuer",
    token_id=None,
)


def _browser(
    gateway: LiveGateway, actor: Actor = CASEWORKER, lang: str = "en"
) -> tuple[httpx.Client, str]:
    """A signed-in browser; these tests read the English pages (the Danish default has its own
    tests in tests/test_web_language.py)."""
    cookies, csrf = page_session(gateway, actor)
    cookies["helhed_lang"] = lang
    return httpx.Client(base_url=gateway.base_url, cookies=cookies, timeout=30), csrf


def _denied(gateway: LiveGateway, response: httpx.Response) -> list[dict[str, Any]]:
    request_id = response.headers["x-request-id"]
    return [e for e in gateway.audit_entries(outcome="denied") if e["request_id"] == request_id]


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/citizen", {"citizen": SAMPLE["Sara Holm"], "purpose": "coordinated-plan"}),
        ("/consents/x/withdraw", {"reason": "by phone"}),
        ("/signout", {}),
    ],
)
@pytest.mark.parametrize("csrf", [None, "forged"])
def test_a_form_without_its_csrf_token_is_refused_and_logged(
    gateway: LiveGateway, path: str, form: dict[str, str], csrf: str | None
) -> None:
    browser, _real = _browser(gateway)
    with browser:
        data = form if csrf is None else {**form, "csrf": csrf}
        response = browser.post(path, data=data)
    assert response.status_code == 403
    assert "csrf_token_invalid" in response.text
    assert "text/html" in response.headers["content-type"]
    if path != "/signout":
        assert [e["reason"] for e in _denied(gateway, response)] == ["csrf_token_invalid"]


def test_pages_post_the_cpr_and_never_put_it_in_a_url(gateway: LiveGateway) -> None:
    browser, csrf = _browser(gateway)
    citizen = SAMPLE["Sara Holm"]
    with browser:
        form = browser.get("/citizen").text
        assert 'method="post" action="/citizen"' in form
        shown = browser.post(
            "/citizen", data={"citizen": citizen, "purpose": "coordinated-plan"} | {"csrf": csrf}
        )
    assert shown.status_code == 200
    assert citizen not in str(shown.url)
    # Every link and form target on the page is free of the CPR.
    for target in re.findall(r'(?:href|action)="([^"]*)"', shown.text):
        assert citizen not in target
    assert shown.headers["cache-control"] == "no-store"


def test_a_caseworker_records_and_withdraws_a_consent_on_the_pages(gateway: LiveGateway) -> None:
    citizen = fresh_cpr()
    browser, csrf = _browser(gateway)
    with browser:
        recorded = browser.post(
            "/consents",
            data={
                "csrf": csrf,
                "citizen": citizen,
                "given_by_kind": "self",
                "from_departments": ["jobcenter"],
                "to_departments": ["children-family"],
                "categories": ["case-overview"],
                "purpose": "coordinated-plan",
                "valid_from": "2026-01-01",
                "valid_until": "2027-01-01",
                "evidence_kind": "signed-form",
                "evidence_reference": "J.nr. 27.27.09-G01-1-26",
            },
        )
        assert recorded.status_code == 201, recorded.text
        consent_id = re.search(r'class="consent-id">([0-9a-f-]{36})<', recorded.text)
        assert consent_id is not None
        withdrawn = browser.post(
            f"/consents/{consent_id.group(1)}/withdraw", data={"csrf": csrf, "reason": "phone"}
        )
        assert withdrawn.status_code == 200
        assert "withdrawn" in withdrawn.text
    actions = [e["action"] for e in gateway.audit_entries(actor="web-maja")]
    assert "consent.record" in actions
    assert "consent.withdraw" in actions


def test_a_bad_cpr_on_a_form_is_shown_on_the_form_with_what_was_typed_and_logged(
    gateway: LiveGateway,
) -> None:
    """Issue 13 item 6: the error is on the form, and what was typed is kept."""
    browser, csrf = _browser(gateway, lang="da")
    with browser:
        response = browser.post(
            "/citizen", data={"citizen": "3213991234", "purpose": "case-assessment", "csrf": csrf}
        )
    assert response.status_code == 422
    assert 'role="alert">CPR-nummeret er ikke gyldigt' in response.text
    assert 'name="citizen" required' in response.text, "the form itself, not an error page"
    assert 'value="3213991234"' in response.text
    assert re.search(r'<option value="case-assessment" selected>', response.text)
    assert [e["reason"] for e in _denied(gateway, response)] == ["invalid_cpr"]


def test_a_signed_out_page_sends_the_browser_to_sign_in(gateway: LiveGateway) -> None:
    """Issue 13 item 6: a page answers a redirect to the sign-in page, not a 401."""
    assert gateway.http is not None
    for method, path in (("GET", "/audit"), ("GET", "/consents"), ("POST", "/citizen")):
        response = gateway.http.request(method, path)
        assert (response.status_code, response.headers["location"]) == (303, "/"), path
        assert "www-authenticate" not in response.headers
    signed_out = gateway.http.get("/audit", follow_redirects=True)
    assert signed_out.status_code == 200
    assert 'href="/signin/' in signed_out.text or "Log ind" in signed_out.text


def test_views_over_the_rate_limit_are_refused_with_429_and_logged(
    own_gateway: Callable[..., Any],
) -> None:
    with own_gateway(views_per_minute=3) as gateway:
        statuses = [gateway.view(fresh_cpr()).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = gateway.view(fresh_cpr())
        assert refused.json()["code"] == "rate_limited"
        assert refused.headers["retry-after"] == "60"
        assert [e["reason"] for e in _denied(gateway, refused)] == ["rate_limited"]


def test_a_burst_of_distinct_citizens_is_flagged_in_the_log(
    own_gateway: Callable[..., Any],
) -> None:
    with own_gateway(distinct_citizens_alert=3) as gateway:
        same = fresh_cpr()
        for _ in range(4):
            assert gateway.view(same).status_code == 200
        assert gateway.audit_entries(action="view.burst") == []
        for _ in range(3):
            assert gateway.view(fresh_cpr()).status_code == 200
        flags = gateway.audit_entries(action="view.burst")
        assert len(flags) == 1  # once per window
        assert flags[0]["reason"] == "many_distinct_citizens"
        assert flags[0]["detail"]["distinct_citizens"] == 4
        assert flags[0]["actor"]["subject"] == "caseworker-children-family"


def test_security_headers_on_every_response(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    for path in ("/health", "/", "/v1/keys"):
        response = gateway.http.get(path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in response.headers  # plain http on loopback
    assert gateway.view(fresh_cpr()).headers["cache-control"] == "no-store"


def test_hsts_and_secure_cookies_behind_tls(own_gateway: Callable[..., Any]) -> None:
    with own_gateway(public_url="https://helhed.example.dk") as gateway:
        assert gateway.http is not None
        response = gateway.http.get("/health")
        assert response.headers["strict-transport-security"].startswith("max-age=")


def test_a_request_body_over_the_limit_is_refused_with_413(
    own_gateway: Callable[..., Any],
) -> None:
    with own_gateway(max_request_bytes=2048) as gateway:
        big = {"citizen": SAMPLE["Sara Holm"], "purpose": "coordinated-plan", "pad": "x" * 4096}
        response = gateway.post("/v1/views", big)
        assert response.status_code == 413
        assert response.json()["code"] == "request_too_large"

        def chunks() -> Any:
            yield b'{"citizen": "1203911234", "pad": "'
            for _ in range(10):
                yield b"x" * 512
            yield b'"}'

        assert gateway.http is not None
        streamed = gateway.http.post(
            "/v1/views",
            content=chunks(),
            headers={**gateway.headers(), "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
        assert streamed.json()["code"] == "request_too_large"


@pytest.mark.parametrize(
    ("role", "shows"),
    [
        ("dpo", "Read the access log"),
        ("itops", "Sources configured"),
        ("citizen", "Your consents"),
    ],
)
def test_each_role_has_its_start_page(gateway: LiveGateway, role: str, shows: str) -> None:
    actor = Actor(
        subject=f"start-{role}",
        name=None,
        department=None,
        roles=(role,),
        issuer="urn:helhed:dev-issuer",
        token_id=None,
    )
    browser, _csrf = _browser(gateway, actor)
    with browser:
        home = browser.get("/")
    assert home.status_code == 200
    assert shows in home.text
    assert "Look up a citizen" not in home.text


def test_a_citizen_token_from_the_cli_carries_the_cpr(gateway: LiveGateway) -> None:
    from typer.testing import CliRunner

    from gateway.cli import app

    result = CliRunner().invoke(
        app,
        ["token", "--subject", "p1", "--role", "citizen", "--cpr", "120391-1234"],
        env={"HELHED_HOME": str(gateway.settings.home)},
    )
    assert result.exit_code == 0, result.output
    actor = gateway.runtime.verifier.verify(result.output.strip(), now=int(time.time()))
    assert actor.roles == ("citizen",)
    assert actor.cpr == "1203911234"


DPO = Actor(
    subject="web-dpo",
    name="Dorthe Dahl",
    department=None,
    roles=("dpo",),
    issuer="urn:helhed:dev-issuer",
    token_id=None,
)


def test_the_dpo_sees_what_stands_out_on_a_page_and_the_reading_is_logged(
    own_gateway: Callable[..., Any],
) -> None:
    with own_gateway(audit={"citizens_per_day_threshold": 1}) as gateway:
        gateway.view(fresh_cpr(), as_="health").raise_for_status()
        gateway.view(fresh_cpr(), as_="health").raise_for_status()
        browser, _csrf = _browser(gateway, DPO)
        with browser:
            page = browser.get("/audit/anomalies")
            bad = browser.get("/audit/anomalies", params={"since": "last tuesday"})
            caseworker, _ = _browser(gateway)
            with caseworker:
                refused = caseworker.get("/audit/anomalies")
        assert page.status_code == 200
        row = re.search(
            r"<tr><td>[0-9-]{10}</td><td>Many citizens in one day</td>.*?</tr>", page.text, re.S
        )
        assert row is not None, page.text
        assert "caseworker-health" in row.group(0)
        assert "no baseline for the department yet" in row.group(0)
        assert bad.status_code == 422
        assert refused.status_code == 403
        reads = [e for e in gateway.audit_entries(actor="web-dpo") if e["action"] == "audit.query"]
        assert any(e["detail"].get("report") == "anomalies" for e in reads)


def test_the_dpo_makes_an_insight_report_and_an_export_from_the_pages(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    from tests.builders import consent_body

    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    gateway.view(citizen).raise_for_status()
    browser, csrf = _browser(gateway, DPO)
    with browser:
        forms = browser.get("/audit/reports")
        assert forms.status_code == 200
        report = browser.post(
            "/audit/citizen-report",
            data={"csrf": csrf, "citizen": citizen, "show_employees": "yes"},
        )
        assert report.status_code == 200, report.text
        assert "Hvem har brugt dine oplysninger" in report.text
        assert "Test caseworker" in report.text, "the DPO asked for the employees' names"
        assert citizen not in str(report.url), "the CPR travels in the form only"
        export = browser.get(
            "/audit/export", params={"format": "csv", "action": "view", "outcome": "success"}
        )
        assert export.status_code == 200
        assert "attachment" in export.headers["content-disposition"]
        rows = export.text.splitlines()
        assert len(rows) >= 2
        assert all(",view," in row for row in rows[1:])
        bad = browser.get("/audit/export", params={"format": "pdf"})
        assert bad.status_code == 422
    actions = [e["action"] for e in gateway.audit_entries(actor="web-dpo")]
    assert "audit.report" in actions
    assert "audit.export" in actions


def test_it_operations_sees_the_systems_and_checks_one_from_the_page(gateway: LiveGateway) -> None:
    itops = Actor(
        subject="web-ib",
        name="Ib Thomsen",
        department=None,
        roles=("itops",),
        issuer="urn:helhed:dev-issuer",
        token_id=None,
    )
    names = list(gateway.runtime.adapters)
    browser, csrf = _browser(gateway, itops)
    with browser:
        listed = browser.get("/sources")
        assert listed.status_code == 200
        assert all(f"<td>{name}</td>" in listed.text for name in names)
        assert "csv_drop" not in listed.text, "kinds are named in words"
        plain = browser.post(f"/sources/{names[0]}/check", data={"csrf": csrf})
        assert plain.status_code == 200
        assert f"Check of {names[0]}" in plain.text
        assert "read a citizen&#39;s records" not in plain.text
        with_citizen = browser.post(
            f"/sources/{names[0]}/check", data={"csrf": csrf, "citizen": TEST_CITIZEN}
        )
        assert with_citizen.status_code == 200
        assert "read a citizen&#39;s records: access-log entry" in with_citizen.text
        assert TEST_CITIZEN not in with_citizen.text
        real = browser.post(
            f"/sources/{names[0]}/check", data={"csrf": csrf, "citizen": SAMPLE["Sara Holm"]}
        )
        assert real.status_code == 403
        assert "not_a_test_citizen" in real.text
        bad = browser.post(f"/sources/{names[0]}/check", data={"csrf": csrf, "citizen": "12"})
        assert bad.status_code == 422
    caseworker, _ = _browser(gateway)
    with caseworker:
        assert caseworker.get("/sources").status_code == 403


def test_the_dpo_pages_through_the_log_and_sees_its_state(
    own_gateway: Callable[..., Any],
) -> None:
    with own_gateway() as gateway:
        citizen = fresh_cpr()
        for _ in range(55):
            gateway.view(citizen).raise_for_status()
        gateway.verify()
        browser, _csrf = _browser(gateway, DPO)
        with browser:
            first = browser.get("/audit", params={"action": "view"})
            assert first.status_code == 200
            seqs = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", first.text)]
            assert len(seqs) == 50
            assert seqs == sorted(seqs, reverse=True), "newest first"
            assert "Latest signed checkpoint" in first.text
            assert "complete and unaltered" in first.text, "the last verification, from the log"
            older = re.search(r'href="(/audit\?[^"]*cursor=\d+)"', first.text)
            assert older is not None
            second = browser.get(older.group(1).replace("&amp;", "&"))
            more = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", second.text)]
            assert len(more) == 5, "the rest, older, and the filter kept"
            assert max(more) < min(seqs)
            assert 'rel="next"' not in second.text
