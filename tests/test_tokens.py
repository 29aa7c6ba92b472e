"""Bearer tokens: exactly the right ones are accepted; every refusal is a 401 and is logged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.auth.dev_issuer import signing_key
from gateway.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from tests.support import LiveGateway


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": "mallory",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "roles": ["caseworker"],
        "department": "children-family",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(gateway: LiveGateway, key: ECKey | None = None, **changes: Any) -> str:
    key = key or signing_key(gateway.settings)
    return jwt.encode({"alg": "ES256", "kid": key.kid}, _claims(**changes), key)


def _unsigned(**changes: Any) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(_claims(**changes)).encode())}."


def _hs256_with_public_key(gateway: LiveGateway) -> str:
    """The classic confusion attack: the issuer's public key used as an HMAC secret."""
    public = json.dumps(signing_key(gateway.settings).as_dict(private=False)).encode()
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}."
        f"{_b64(json.dumps(_claims()).encode())}"
    )
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _forged_with_real_kid(gateway: LiveGateway) -> str:
    real_kid = signing_key(gateway.settings).kid
    forger = ECKey.generate_key("P-256")
    return jwt.encode({"alg": "ES256", "kid": real_kid}, _claims(), forger)


def _tampered(gateway: LiveGateway) -> str:
    header, _payload, signature = _signed(gateway).split(".")
    forged = _b64(json.dumps(_claims(roles=["dpo"])).encode())
    return f"{header}.{forged}.{signature}"


CASES = {
    "expired": (
        lambda g: _signed(g, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200, nbf=None),
        "token_expired",
    ),
    "not yet valid": (lambda g: _signed(g, nbf=int(time.time()) + 3600), "token_not_yet_valid"),
    "issued in the future": (
        lambda g: _signed(g, iat=int(time.time()) + 3600, nbf=None),
        "token_not_yet_valid",
    ),
    "wrong audience": (lambda g: _signed(g, aud="another-service"), "wrong_audience"),
    "unknown issuer": (lambda g: _signed(g, iss="https://evil.example"), "unknown_issuer"),
    "unknown key": (
        lambda g: _signed(g, key=ECKey.generate_key("P-256", auto_kid=True)),
        "unknown_key",
    ),
    "forged with the real kid": (_forged_with_real_kid, "invalid_signature"),
    "alg none": (lambda g: _unsigned(), "algorithm_not_allowed"),
    "hs256 with public key": (_hs256_with_public_key, "algorithm_not_allowed"),
    "tampered payload": (_tampered, "invalid_signature"),
    "no expiry": (lambda g: _signed(g, exp=None), "invalid_token"),
    "no subject": (lambda g: _signed(g, sub=None), "invalid_token"),
    "garbage": (lambda g: "not-a-token", "invalid_token"),
}


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
