"""Bearer-token checks: issuer, signature with an allowed algorithm, audience, expiry, claims."""

from __future__ import annotations

import json
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from gateway.auth.actor import Actor
from gateway.settings import TrustedIssuer


class TokenRejected(Exception):
    """Why a token is refused; `code` goes into the problem document and the access log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Issuer:
    config: TrustedIssuer
    keys: KeySet


def _load_keys(config: TrustedIssuer) -> KeySet:
    assert config.jwks_file is not None  # enforced by TrustedIssuer
    return KeySet.import_key_set(json.loads(config.jwks_file.read_text(encoding="utf-8")))


class TokenVerifier:
    def __init__(self, issuers: list[TrustedIssuer]) -> None:
        self._issuers = {config.issuer: _Issuer(config, _load_keys(config)) for config in issuers}

    def verify(self, token: str, now: int) -> Actor:
        try:
            unverified = jws.extract_compact(token.encode("ascii"))
            claims = json.loads(unverified.payload)
        except (JoseError, ValueError, UnicodeError):
            raise TokenRejected("invalid_token", "The token is not a signed JWT") from None
        if not isinstance(claims, dict):
            raise TokenRejected("invalid_token", "The token's payload is not a JSON object")
        issuer = self._issuers.get(claims.get("iss"))  # type: ignore[arg-type]
        if issuer is None:
            raise TokenRejected("unknown_issuer", "The token's issuer is not trusted")
        algorithm = unverified.headers().get("alg")
        if algorithm not in issuer.config.algorithms:
            raise TokenRejected(
                "algorithm_not_allowed", f"Algorithm {algorithm!r} is not allowed for this issuer"
            )
        try:
            verified = jwt.decode(token, issuer.keys, algorithms=issuer.config.algorithms)
        except BadSignatureError:
            raise TokenRejected("invalid_signature", "The token's signature is invalid") from None
        except InvalidKeyIdError:
            raise TokenRejected(
                "unknown_key", "The token names a key its issuer does not publish"
            ) from None
        except JoseError as error:
            raise TokenRejected("invalid_token", f"The token is invalid: {error.error}") from None
        registry = jwt.JWTClaimsRegistry(
            now=now,
            leeway=issuer.config.leeway_seconds,
            iss={"essential": True, "value": issuer.config.issuer},
            aud={"essential": True, "value": issuer.config.audience},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(verified.claims)
        except ExpiredTokenError:
            raise TokenRejected("token_expired", "The token has expired") from None
        except MissingClaimError as error:
            raise TokenRejected("invalid_token", f"The token lacks claim {error.claim!r}") from None
        except InvalidClaimError as error:
            code = {
                "aud": "wrong_audience",
                "nbf": "token_not_yet_valid",
                "iat": "token_not_yet_valid",
            }.get(error.claim, "invalid_token")
            raise TokenRejected(code, f"The token's {error.claim!r} claim is not valid") from None
        return _actor(verified.claims, issuer.config.issuer)


def _actor(claims: dict[str, object], issuer: str) -> Actor:
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise TokenRejected("invalid_token", "The roles claim must be a list of strings")
    name, department, token_id = claims.get("name"), claims.get("department"), claims.get("jti")
    for value in (name, department, token_id):
        if value is not None and not isinstance(value, str):
            raise TokenRejected("invalid_token", "name, department and jti must be strings")
    return Actor(
        subject=str(claims["sub"]),
        name=name,  # type: ignore[arg-type]
        department=department,  # type: ignore[arg-type]
        roles=tuple(roles),
        issuer=issuer,
        token_id=token_id,  # type: ignore[arg-type]
    )
