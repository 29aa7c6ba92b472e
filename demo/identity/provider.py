"""Realms (issuers), their keys, and the provider's HTTP face: discovery, JWKS, sign-in, token."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oidc.discovery import OpenIDProviderMetadata
from jinja2 import Environment, select_autoescape
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from demo.identity.models import AuthorizationCode, ProviderClient, ProviderUser
from demo.identity.server import ALGORITHM, ProviderRequest, RealmServer


class Realm:
    """One issuer: its users, its clients and its signing keys (newest first)."""

    def __init__(
        self,
        name: str,
        title: str,
        users: Iterable[ProviderUser],
        clients: Iterable[ProviderClient],
        *,
        audience: str = "helhed",
        token_ttl: int = 3600,
    ) -> None:
        self.name, self.title = name, title
        self.users = {user.subject: user for user in users}
        self.clients = {client.client_id: client for client in clients}
        self.audience, self.token_ttl = audience, token_ttl
        self.issuer = ""
        self.keys = [_new_key()]
        self.codes: dict[str, AuthorizationCode] = {}
        self.jwks_requests = 0  # how often the keys were fetched: tests count refreshes
        self.sign_outs = 0  # RP-initiated logouts that came here
        self._server: RealmServer | None = None

    def bind(self, base_url: str) -> None:
        """The realm's issuer URL is known once the provider listens."""
        self.issuer = f"{base_url.rstrip('/')}/realms/{self.name}"
        self._server = RealmServer(self)

    @property
    def server(self) -> RealmServer:
        if self._server is None:
            raise RuntimeError("the provider is not listening yet")
        return self._server

    @property
    def signing_key(self) -> RSAKey:
        return self.keys[0]

    def rotate(self) -> RSAKey:
        """Sign with a new key from now on; the previous one stays published for a while."""
        self.keys = [_new_key(), *self.keys[:1]]
        return self.signing_key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False) | {"use": "sig"} for key in self.keys]}

    def sign(self, claims: dict[str, Any], *, key: RSAKey | None = None) -> str:
        """A token signed by this realm's key, with exactly these claims (tests, scripts)."""
        key = key or self.signing_key
        return jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "at+jwt"}, claims, key)

    def metadata(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "end_session_endpoint": f"{self.issuer}/logout",
            "jwks_uri": f"{self.issuer}/jwks",
            "scopes_supported": ["openid", "profile"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": sorted(
                {"sub", "name", "iss", "aud", "exp", "iat", "nonce"}
                | {claim for user in self.users.values() for claim in user.claims}
            ),
        }
        OpenIDProviderMetadata(document).validate()
        return document


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, auto_kid=True)


_PAGES = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_SIGN_IN = _PAGES.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ realm.title }}: sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
button{display:block;width:100%;text-align:left;padding:.6rem;margin:.3rem 0;font-size:1rem}
small{color:#555}</style></head>
<body><h1>{{ realm.title }}</h1>
<p>Simulated identity provider for the Helhed demo. Choose who you are; no password.</p>
<p><small>{{ client_id }} asks you to sign in.</small></p>
{% for title, users in groups %}<h2>{{ title }}</h2>
{% for user in users %}<form method="post" action="?{{ query }}">
<input type="hidden" name="user" value="{{ user.subject }}">
<button type="submit">{{ user.name }} <small>{{ user.title }}</small></button></form>
{% endfor %}{% endfor %}
</body></html>"""
)


def _grouped(users: Iterable[ProviderUser]) -> list[tuple[str, list[ProviderUser]]]:
    groups: dict[str, list[ProviderUser]] = {}
    for user in users:
        groups.setdefault(user.title.split(",")[0], []).append(user)
    return list(groups.items())


class IdentityProvider:
    """The realms behind one HTTP server, Keycloak-style: /realms/<name>/…"""

    def __init__(self, realms: Iterable[Realm]) -> None:
        self.realms = {realm.name: realm for realm in realms}
        self.app = Starlette(
            routes=[
                Route("/realms/{realm}/.well-known/openid-configuration", self._discovery),
                Route("/realms/{realm}/jwks", self._jwks),
                Route("/realms/{realm}/authorize", self._authorize, methods=["GET", "POST"]),
                Route("/realms/{realm}/token", self._token, methods=["POST"]),
                Route("/realms/{realm}/logout", self._logout),
            ]
        )

    def bind(self, base_url: str) -> None:
        for realm in self.realms.values():
            realm.bind(base_url)

    def _realm(self, request: Request) -> Realm:
        realm = self.realms.get(request.path_params["realm"])
        if realm is None:
            raise HTTPException(404, "no such realm")
        return realm

    async def _discovery(self, request: Request) -> Response:
        return _json(self._realm(request).metadata())

    async def _jwks(self, request: Request) -> Response:
        realm = self._realm(request)
        realm.jwks_requests += 1
        return _json(realm.jwks())

    async def _authorize(self, request: Request) -> Response:
        realm = self._realm(request)
        oauth_request = await _oauth_request(request)
        try:
            grant = realm.server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return HTMLResponse(
                f"<h1>Sign-in refused</h1><p>{_escape(error.error)}: "
                f"{_escape(error.description or '')}</p>",
                status_code=400,
            )
        if request.method == "GET":
            query = urlencode(list(request.query_params.multi_items()))
            page = _SIGN_IN.render(
                realm=realm,
                groups=_grouped(realm.users.values()),
                query=query,
                client_id=oauth_request.payload.client_id,
            )
            return HTMLResponse(page, headers={"Cache-Control": "no-store"})
        user = realm.users.get(oauth_request.form.get("user", ""))
        response: Response = realm.server.create_authorization_response(
            oauth_request, grant_user=user, grant=grant
        )
        return response

    async def _logout(self, request: Request) -> Response:
        """OpenID Connect RP-Initiated Logout 1.0: end the sign-in here (this provider keeps no
        session of its own, so there is nothing more to end) and send the browser back, but
        only to a place the client registered."""
        realm = self._realm(request)
        client = realm.clients.get(request.query_params.get("client_id", ""))
        back = request.query_params.get("post_logout_redirect_uri")
        realm.sign_outs += 1
        if client is not None and back and client.check_post_logout_redirect_uri(back):
            return RedirectResponse(back, status_code=303)
        return HTMLResponse(
            f"<h1>Signed out</h1><p>You are signed out of {_escape(realm.title)}.</p>",
            headers={"Cache-Control": "no-store"},
        )

    async def _token(self, request: Request) -> Response:
        realm = self._realm(request)
        response: Response = realm.server.create_token_response(await _oauth_request(request))
        return response


def _escape(text: str) -> str:
    return str(_PAGES.from_string("{{ t }}").render(t=text))


def _json(document: dict[str, Any]) -> Response:
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=60"})


async def _oauth_request(request: Request) -> ProviderRequest:
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        async with request.form() as data:
            form = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
    return ProviderRequest(
        request.method,
        str(request.url),
        request.headers,
        list(request.query_params.multi_items()),
        form,
    )
