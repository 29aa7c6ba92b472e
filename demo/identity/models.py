"""The provider's clients, users and authorization codes, as authlib's mixins want them."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oidc.core import AuthorizationCodeMixin

LOOPBACK = {"127.0.0.1", "localhost", "::1"}

CODE_LIFETIME_SECONDS = 120


@dataclass(frozen=True)
class ProviderUser:
    subject: str
    name: str
    title: str  # what the sign-in page shows beside the name: "caseworker, jobcenter"
    claims: dict[str, Any] = field(default_factory=dict)  # roles, groups, CPR …

    def get_user_id(self) -> str:
        return self.subject


@dataclass(frozen=True)
class ProviderClient(ClientMixin):  # type: ignore[misc]
    client_id: str
    redirect_uris: tuple[str, ...]
    client_secret: str | None = None  # None: a public client, PKCE only
    post_logout_redirect_uris: tuple[str, ...] = ()

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "profile"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(_same_redirect(redirect_uri, allowed) for allowed in self.redirect_uris)

    def check_post_logout_redirect_uri(self, uri: str) -> bool:
        return any(_same_redirect(uri, allowed) for allowed in self.post_logout_redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and hmac.compare_digest(
            client_secret.encode(), self.client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client_secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: ProviderUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd"]

    def is_expired(self) -> bool:
        return time.time() > self.auth_time + CODE_LIFETIME_SECONDS


def _same_redirect(requested: str, registered: str) -> bool:
    """Exact match, except that a loopback redirect may use any port (RFC 8252 section 7.3)."""
    if requested == registered:
        return True
    asked, allowed = urlsplit(requested), urlsplit(registered)
    return (
        asked.hostname in LOOPBACK
        and asked.hostname == allowed.hostname
        and (asked.scheme, asked.path, asked.query) == (allowed.scheme, allowed.path, "")
    )
