"""Tokens an attacker would try: each one made as it would arrive, with the code it must get.

Shared by the token tests and the API fuzzer, which sends every kind to every operation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.auth.dev_issuer import signing_key
from gateway.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from tests.support import LiveGateway


def b64url(data: bytes) -> str:
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
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(_claims(**changes)).encode())}."


def _hs256_with_public_key(gateway: LiveGateway) -> str:
    """The classic confusion attack: the issuer's public key used as an HMAC secret."""
    public = json.dumps(signing_key(gateway.settings).as_dict(private=False)).encode()
    signing_input = (
        f"{b64url(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}."
        f"{b64url(json.dumps(_claims()).encode())}"
    )
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def _forged_with_real_kid(gateway: LiveGateway) -> str:
    real_kid = signing_key(gateway.settings).kid
    forger = ECKey.generate_key("P-256")
    return jwt.encode({"alg": "ES256", "kid": real_kid}, _claims(), forger)


def _tampered(gateway: LiveGateway) -> str:
    header, _payload, signature = _signed(gateway).split(".")
    forged = b64url(json.dumps(_claims(roles=["dpo"])).encode())
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
