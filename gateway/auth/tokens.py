"""Bearer-token checks: issuer, signature with an allowed algorithm, audience, expiry, claims."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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
from gateway.auth.claims import actor_from_claims
from gateway.auth.errors import IssuerUnavailable, TokenRejected
from gateway.auth.issuers import FetchJson, IssuerKeys, fetch_json
from gateway.settings import TrustedIssuer

__all__ = ["IssuerUnavailable", "TokenRejected", "TokenVerifier"]


@dataclass(frozen=True)
class _Unverified:
    issuer: IssuerKeys
    kid: str | None


# Verified access tokens, by the token string: checking an ES256/RS256 signature and the claims
# again on every request of a session costs more than the rest of the authentication together.
# A hit still honours the token's expiry; a new token is checked in full on first sight.
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class _Verified:
    actor: Actor
    expires: int  # exp plus the issuer's leeway: after this the token is checked (and refused)


class TokenVerifier:
    def __init__(self, issuers: list[TrustedIssuer], fetch: FetchJson = fetch_json) -> None:
        self.issuers = {config.issuer: IssuerKeys(config, fetch) for config in issuers}
        self._verified: dict[str, _Verified] = {}

    def _cached(self, token: str, now: int) -> Actor | None:
        hit = self._verified.get(token)
        if hit is None:
            return None
        if now > hit.expires:
            self._verified.pop(token, None)
            return None
        return hit.actor

    def _remember(
        self, token: str, actor: Actor, claims: dict[str, Any], issuer: IssuerKeys
    ) -> None:
        if len(self._verified) >= _CACHE_SIZE:
            # Oldest first (insertion order); expired ones go when they are next looked up.
            self._verified.pop(next(iter(self._verified)), None)
        expires = int(claims["exp"]) + issuer.config.leeway_seconds
        self._verified[token] = _Verified(actor, expires)

    def by_name(self, name: str) -> IssuerKeys | None:
        """The issuer the web pages sign in with under /signin/<name>."""
        return next(
            (i for i in self.issuers.values() if i.config.name == name and i.config.signs_in_pages),
            None,
        )

    async def authenticate(self, token: str, now: int) -> Actor:
        """The actor an access token stands for; fetches the issuer's keys when it must."""
        cached = self._cached(token, now)
        if cached is not None:
            return cached
        unverified = self._inspect(token)
        keys = await unverified.issuer.key_set(unverified.kid)
        claims = self._checked_claims(token, unverified.issuer, keys, now)
        actor = actor_from_claims(claims, unverified.issuer.config)
        self._remember(token, actor, claims, unverified.issuer)
        return actor

    async def id_token_claims(
        self, token: str, now: int, *, issuer: IssuerKeys, client_id: str, nonce: str
    ) -> dict[str, Any]:
        """An ID token's claims, checked for the pages' client and this sign-in's nonce."""
        unverified = self._inspect(token)
        if unverified.issuer is not issuer:
            raise TokenRejected("unknown_issuer", "The ID token comes from another issuer")
        keys = await issuer.key_set(unverified.kid)
        claims = self._checked_claims(token, issuer, keys, now, audience=client_id)
        if claims.get("nonce") != nonce:
            raise TokenRejected("invalid_nonce", "The ID token is not for this sign-in")
        return claims

    def verify(self, token: str, now: int) -> Actor:
        """Like authenticate, with the keys already held (no fetching): for synchronous callers."""
        unverified = self._inspect(token)
        keys = unverified.issuer.cached
        if keys is None:
            raise IssuerUnavailable(f"no keys cached for {unverified.issuer.config.issuer}")
        claims = self._checked_claims(token, unverified.issuer, keys, now)
        return actor_from_claims(claims, unverified.issuer.config)

    def _inspect(self, token: str) -> _Unverified:
        """Issuer and algorithm from the unverified token, checked before any key is touched."""
        try:
            unverified = jws.extract_compact(token.encode("ascii"))
            claims = json.loads(unverified.payload)
        except (JoseError, ValueError, UnicodeError):
            raise TokenRejected("invalid_token", "The token is not a signed JWT") from None
        if not isinstance(claims, dict):
            raise TokenRejected("invalid_token", "The token's payload is not a JSON object")
        issuer = self.issuers.get(claims.get("iss"))  # type: ignore[arg-type]
        if issuer is None:
            raise TokenRejected("unknown_issuer", "The token's issuer is not trusted")
        header = unverified.headers()
        # Allow-listed per issuer: rules out `none` and HS256-with-the-public-key confusion.
        algorithm = header.get("alg")
        if algorithm not in issuer.config.algorithms:
            raise TokenRejected(
                "algorithm_not_allowed", f"Algorithm {algorithm!r} is not allowed for this issuer"
            )
        kid = header.get("kid")
        return _Unverified(issuer, kid if isinstance(kid, str) else None)

    def _checked_claims(
        self,
        token: str,
        issuer: IssuerKeys,
        keys: KeySet,
        now: int,
        audience: str | None = None,
    ) -> dict[str, Any]:
        config = issuer.config
        try:
            verified = jwt.decode(token, keys, algorithms=config.algorithms)
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
            leeway=config.leeway_seconds,
            iss={"essential": True, "value": config.issuer},
            aud={"essential": True, "value": audience or config.audience},
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
        return verified.claims
