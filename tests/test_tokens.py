"""Bearer tokens: exactly the right ones are accepted; every refusal is a 401 and is logged."""

from __future__ import annotations

import pytest

from tests.forged_tokens import CASES
from tests.support import LiveGateway


@pytest.mark.parametrize("case", list(CASES))
def test_bad_tokens_are_refused_with_401_and_logged(gateway: LiveGateway, case: str) -> None:
    make, code = CASES[case]
    assert gateway.http is not None
    response = gateway.http.post(
        "/v1/views",
        json={"citizen": "0101901234", "purpose": "coordinated-plan"},
        headers={"Authorization": f"Bearer {make(gateway)}"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert "invalid_token" in response.headers["www-authenticate"]
    request_id = response.headers["x-request-id"]
    logged = [e for e in gateway.audit_entries(outcome="denied") if e["request_id"] == request_id]
    assert [(e["action"], e["reason"]) for e in logged] == [("view", code)]


def test_a_missing_token_is_a_401_and_logged(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    response = gateway.http.post("/v1/views", json={"citizen": "0101901234", "purpose": "x"})
    assert response.status_code == 401
    assert response.json()["code"] == "missing_token"
    assert response.headers["www-authenticate"].startswith("Bearer")
    request_id = response.headers["x-request-id"]
    assert any(e["request_id"] == request_id for e in gateway.audit_entries(outcome="denied"))


def test_a_valid_token_from_the_cli_issuer_is_accepted(gateway: LiveGateway) -> None:
    assert gateway.view("0101901234").status_code == 200


@pytest.mark.parametrize(
    ("role", "department", "code"),
    [
        ("dpo", None, "forbidden"),
        ("itops", None, "forbidden"),
        ("citizen", None, "forbidden"),
        ("caseworker", None, "unknown_department"),
        ("caseworker", "payroll", "unknown_department"),
    ],
)
def test_only_caseworkers_of_a_known_department_view_citizens(
    gateway: LiveGateway, role: str, department: str | None, code: str
) -> None:
    response = gateway.post(
        "/v1/views",
        {"citizen": "0101901234", "purpose": "coordinated-plan"},
        as_=department,
        role=role,  # type: ignore[arg-type]
    )
    assert response.status_code == 403
    assert response.json()["code"] == code
