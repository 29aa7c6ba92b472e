"""authlib's authorization server wired to one realm: code flow, PKCE (S256 only), ID tokens.

authlib ships server integrations for Flask and Django; this is the small Starlette-shaped
equivalent: a request adapter, and the grant, extension and token-generator subclasses that
say where codes, keys and users live.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import KeySet, RSAKey
from starlette.datastructures import Headers
from starlette.responses import Response

from demo.identity.models import AuthorizationCode, ProviderClient, ProviderUser

if TYPE_CHECKING:
    from demo.identity.provider import Realm

# RS256: what OpenID Connect requires every provider to offer, and what Entra and Keycloak use.
ALGORITHM = "RS256"


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._data = dict(items)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class ProviderRequest(OAuth2Request):  # type: ignore[misc]
    """A request whose query and form have already been read (authlib itself is synchronous)."""

    def __init__(
        self,
        method: str,
        url: str,
        headers: Headers,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method=method, uri=url, headers=headers)
        self._query, self._form = dict(query), dict(form)
        self.payload = _Payload(query + form)

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    @property
    def realm(self) -> Realm:
        return self.server.realm  # type: ignore[no-any-return]

    def save_authorization_code(self, code: str, request: ProviderRequest) -> None:
        data = request.payload.data
        self.realm.codes[code] = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=data.get("redirect_uri", ""),
            scope=request.scope,
            user=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(
        self, code: str, client: ProviderClient
    ) -> AuthorizationCode | None:
        item = self.realm.codes.get(code)
        if item is None or item.client_id != client.client_id or item.is_expired():
            return None
        return item

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self.realm.codes.pop(authorization_code.code, None)  # a code works once

    def authenticate_user(self, authorization_code: AuthorizationCode) -> ProviderUser:
        return authorization_code.user


class _PkceS256Required(CodeChallenge):  # type: ignore[misc]
    """Every client must send an S256 challenge, confidential ones too (RFC 9700 section 2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: _CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, realm: Realm) -> None:
        super().__init__(require_nonce=True)
        self.realm = realm

    def exists_nonce(self, nonce: str, request: ProviderRequest) -> bool:
        return any(code.nonce == nonce for code in self.realm.codes.values())

    def resolve_client_private_key(self, client: ProviderClient) -> RSAKey:
        return self.realm.signing_key

    def get_client_algorithm(self, client: ProviderClient) -> str:
        return ALGORITHM

    def get_encode_header(self, client: ProviderClient) -> dict[str, Any]:
        return {"alg": ALGORITHM, "kid": self.realm.signing_key.kid}

    def get_client_claims(self, client: ProviderClient) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.realm.issuer,
            "aud": [client.client_id],
            "iat": now,
            "exp": now + self.realm.token_ttl,
        }

    def generate_user_info(self, user: ProviderUser, scope: str) -> UserInfo:
        return UserInfo(sub=user.subject, name=user.name)


class _AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 JWT access tokens for the gateway (the resource), carrying the user's claims."""

    def __init__(self, realm: Realm) -> None:
        super().__init__(
            issuer=realm.issuer,
            alg=ALGORITHM,
            expires_generator=lambda client, grant_type: realm.token_ttl,
        )
        self.realm = realm

    def get_jwks(self) -> KeySet:
        return KeySet([self.realm.signing_key])

    def get_audiences(self, client: ProviderClient, user: ProviderUser, scope: str) -> str:
        return self.realm.audience

    def get_extra_claims(
        self, client: ProviderClient, grant_type: str, user: ProviderUser, scope: str
    ) -> dict[str, Any]:
        return {"name": user.name, **user.claims}


class RealmServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, realm: Realm) -> None:
        super().__init__(scopes_supported=["openid", "profile"])
        self.realm = realm
        self.register_grant(_CodeGrant, [_PkceS256Required(required=True), _OpenIDCode(realm)])
        self.register_token_generator("default", _AccessTokens(realm))

    def query_client(self, client_id: str) -> ProviderClient | None:
        return self.realm.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: ProviderRequest) -> None:
        """Tokens are self-contained JWTs; nothing to keep."""

    def create_oauth2_request(self, request: ProviderRequest) -> ProviderRequest:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else (body or "")
        response = Response(content, status_code=status)
        for name, value in headers:
            response.headers[name] = value
        if isinstance(body, dict):
            response.headers["Content-Type"] = "application/json"
        return response

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners."""
