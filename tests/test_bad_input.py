"""Bad input gets a 4xx problem document with a specific code; nothing is half-written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from tests.builders import consent_body
from tests.support import LiveGateway

TODAY = date.today()


def _assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"].endswith(code)
    assert problem["title"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"citizen": "0101901234x", "purpose": "coordinated-plan"}, "invalid_cpr"),
        ({"citizen": "3213901234", "purpose": "coordinated-plan"}, "invalid_cpr"),
        ({"citizen": "0101901234", "purpose": "curiosity"}, "unknown_purpose"),
        ({"citizen": "0101901234"}, "invalid_request"),
        ({"citizen": "0101901234", "purpose": "coordinated-plan", "x": 1}, "invalid_request"),
        ([], "invalid_request"),
    ],
)
def test_bad_view_requests(gateway: LiveGateway, body: Any, code: str) -> None:
    assert gateway.http is not None
    response = gateway.http.post("/v1/views", json=body, headers=gateway.headers())
    _assert_problem(response, 422, code)
    assert "timeline" not in response.text


def test_malformed_json_is_a_400(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    headers = {**gateway.headers(), "Content-Type": "application/json"}
    for path in ("/v1/views", "/v1/consents", "/v1/consents/search"):
        _assert_problem(
            gateway.http.post(path, content=b'{"citizen": ', headers=headers), 400, "malformed_json"
        )


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"citizen": "12345"}, 422, "invalid_cpr"),
        ({"from_departments": ["payroll"]}, 422, "unknown_department"),
        ({"categories": ["gossip"]}, 422, "unknown_category"),
        ({"purpose": "curiosity"}, 422, "unknown_purpose"),
        (
            {
                "valid_from": TODAY.isoformat(),
                "valid_until": (TODAY - timedelta(days=1)).isoformat(),
            },
            422,
            "invalid_validity",
        ),
        ({"valid_until": None}, 422, "invalid_request"),
        (
            {"valid_until": (TODAY + timedelta(days=400)).isoformat()},
            422,
            "validity_exceeds_purpose_cap",
        ),
        ({"given_by": {"kind": "guardian"}}, 422, "given_by_name_required"),
        (
            {"evidence": {"kind": "signed-form", "reference": "x", "sha256": "xyz"}},
            422,
            "invalid_evidence_hash",
        ),
        ({"evidence": {"kind": "a-feeling", "reference": "x"}}, 422, "invalid_request"),
        ({"categories": []}, 422, "empty_list"),
        (
            {"from_departments": ["jobcenter"], "to_departments": ["adult-social"]},
            403,
            "not_party_to_consent",
        ),
        (
            {"from_departments": ["jobcenter"], "to_departments": ["jobcenter"]},
            422,
            "consent_crosses_no_boundary",
        ),
    ],
)
def test_bad_consents_are_refused_and_nothing_is_recorded(
    gateway: LiveGateway,
    twin_of: Callable[[str], str],
    changes: dict[str, Any],
    status: int,
    code: str,
) -> None:
    citizen = twin_of("Sara Holm")
    response = gateway.post("/v1/consents", consent_body(citizen, **changes))
    _assert_problem(response, status, code)
    found = gateway.post("/v1/consents/search", {"citizen": citizen}).json()
    assert found["consents"] == []
    assert gateway.view(citizen).json()["consents"] == []


def test_withdrawing_twice_is_a_conflict_and_changes_nothing(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    consent_id = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    first = gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": "First"})
    assert first.status_code == 200
    second = gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": "Second"})
    _assert_problem(second, 409, "consent_not_active")
    assert gateway.http is not None
    stored = gateway.http.get(f"/v1/consents/{consent_id}", headers=gateway.headers()).json()
    assert stored["withdrawal"]["reason"] == "First"


def test_withdrawal_needs_a_reason(gateway: LiveGateway, twin_of: Callable[[str], str]) -> None:
    consent_id = gateway.post("/v1/consents", consent_body(twin_of("Sara Holm"))).json()["id"]
    _assert_problem(gateway.post(f"/v1/consents/{consent_id}/withdraw", {}), 422, "invalid_request")
    _assert_problem(
        gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": ""}), 422, "invalid_request"
    )


def test_an_unknown_or_foreign_consent_is_not_found(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    assert gateway.http is not None
    missing = gateway.http.get("/v1/consents/no-such-id", headers=gateway.headers())
    _assert_problem(missing, 404, "consent_not_found")
    consent_id = gateway.post("/v1/consents", consent_body(twin_of("Sara Holm"))).json()["id"]
    # Adult social services are not party to this consent: to them it does not exist.
    outsider = gateway.headers("caseworker", "adult-social")
    _assert_problem(
        gateway.http.get(f"/v1/consents/{consent_id}", headers=outsider), 404, "consent_not_found"
    )
    withdraw = gateway.post(
        f"/v1/consents/{consent_id}/withdraw", {"reason": "x"}, as_="adult-social"
    )
    _assert_problem(withdraw, 404, "consent_not_found")


def test_unknown_paths_and_methods_are_problems_too(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    _assert_problem(gateway.http.get("/v1/nothing-here"), 404, "not_found")
    _assert_problem(
        gateway.http.get("/v1/views", headers=gateway.headers()), 405, "method_not_allowed"
    )


def test_refused_requests_are_logged_and_the_chain_still_verifies(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    gateway.view(citizen, "curiosity")
    gateway.post("/v1/consents", consent_body(citizen, categories=["gossip"]))
    refused = [e for e in gateway.audit_entries(outcome="denied") if e["citizen"] == citizen]
    assert {(e["action"], e["reason"]) for e in refused} == {
        ("view", "unknown_purpose"),
        ("consent.record", "unknown_category"),
    }
    assert gateway.verify()["ok"] is True


ARABIC_INDIC_CPR = "١٢٠٣٩١١٢٣٤"  # Sara Holm's CPR in Arabic-Indic digits: \d matches them


@pytest.mark.parametrize(
    ("path", "role", "department", "body"),
    [
        ("/v1/views", "caseworker", "children-family", {"purpose": "coordinated-plan"}),
        ("/v1/consents/search", "caseworker", "children-family", {}),
        ("/v1/audit/citizen-report", "dpo", None, {}),
        ("/v1/sources/health-nexus/check", "itops", None, {}),
    ],
)
def test_a_cpr_in_unicode_digits_is_a_logged_422_not_a_500(
    gateway: LiveGateway, path: str, role: str, department: str | None, body: dict[str, str]
) -> None:
    """Issue 13 item 2: they passed the pattern and failed in the keyed hash (a 500, no entry)."""
    assert gateway.http is not None
    response = gateway.http.post(
        path, json={"citizen": ARABIC_INDIC_CPR, **body}, headers=gateway.headers(role, department)
    )
    _assert_problem(response, 422, "invalid_cpr")
    request_id = response.headers["x-request-id"]
    logged = [e for e in gateway.audit_entries(outcome="denied") if e["request_id"] == request_id]
    assert [e["reason"] for e in logged] == ["invalid_cpr"]


def test_the_citizen_page_refuses_unicode_digits_on_the_form(gateway: LiveGateway) -> None:
    from tests.test_web import _browser

    browser, csrf = _browser(gateway)
    with browser:
        response = browser.post(
            "/citizen",
            data={"citizen": ARABIC_INDIC_CPR, "purpose": "coordinated-plan", "csrf": csrf},
        )
    assert response.status_code == 422, response.text
    assert 'role="alert">citizen: A CPR number is ten digits' in response.text, "on the form"
    request_id = response.headers["x-request-id"]
    logged = [e for e in gateway.audit_entries(outcome="denied") if e["request_id"] == request_id]
    assert [e["reason"] for e in logged] == ["invalid_cpr"]


@pytest.mark.parametrize("path", ["/v1/views", "/v1/consents", "/v1/consents/search"])
def test_a_body_that_is_not_json_is_a_415(gateway: LiveGateway, path: str) -> None:
    """Issue 13 item 12: text/plain got 422 'Input should be a valid dictionary'."""
    assert gateway.http is not None
    headers = {**gateway.headers(), "Content-Type": "text/plain"}
    body = b'{"citizen": "1203911234", "purpose": "coordinated-plan"}'
    response = gateway.http.post(path, content=body, headers=headers)
    _assert_problem(response, 415, "unsupported_media_type")
    assert "application/json" in response.json()["detail"]
