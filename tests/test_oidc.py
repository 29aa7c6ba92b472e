"""Against the demo's OpenID Connect provider on loopback: the code flow signs in, and every kind
of bad token is refused with a 401 problem document that the access log records."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from demo.identity import IdentityProvider, Realm
from demo.identity.demo_realms import CLIENT_ID
from demo.identity.in_thread import ProviderInThread
from tests.conftest import SAMPLE, demo_identity_provider, issuers_of
from tests.oidc import browser_sign_in, csrf_of, provider_tokens
from tests.support import LiveGateway

SARA = SAMPLE["Sara Holm"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(realm: Realm, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": realm.issuer,
        "aud": "helhed",
        "sub": "mette.kjaer",
        "name": "Mette Kjær",
        "iat": now,
        "exp": now + 600,
        "roles": ["Helhed.Caseworker"],
        "groups": ["sg-helhed-children-family"],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _alg_none(realm: Realm) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(_claims(realm)).encode())}."


def _hs256_with_public_key(realm: Realm) -> str:
    """The classic confusion: the provider's published RSA key (PEM) as an HMAC secret."""
    published = httpx.get(f"{realm.issuer}/jwks").json()["keys"][0]
    secret = RSAKey.import_key(published).as_pem(private=False)
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': published['kid']}).encode())}."
        f"{_b64(json.dumps(_claims(realm)).encode())}"
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _tampered(realm: Realm) -> str:
    """A real token from the code flow, its payload changed to make Mette a DPO."""
    header, payload, signature = provider_tokens(realm, "mette.kjaer")["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["Helhed.DPO"]
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _forged_with_the_real_kid(realm: Realm) -> str:
    forger = RSAKey.generate_key(2048)
    header = {"alg": "RS256", "kid": realm.signing_key.kid, "typ": "at+jwt"}
    return jwt.encode(header, _claims(realm), forger)


CASES: dict[str, tuple[Callable[[Realm], str], str]] = {
    "unknown issuer": (
        lambda r: r.sign(_claims(r, iss="https://login.example.net/realms/staff")),
        "unknown_issuer",
    ),
    "wrong audience": (lambda r: r.sign(_claims(r, aud="another-api")), "wrong_audience"),
    "expired": (
        lambda r: r.sign(_claims(r, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)),
        "token_expired",
    ),
    "not yet valid": (
        lambda r: r.sign(_claims(r, nbf=int(time.time()) + 3600)),
        "token_not_yet_valid",
    ),
    "alg none": (_alg_none, "algorithm_not_allowed"),
    "hs256 with the public key": (_hs256_with_public_key, "algorithm_not_allowed"),
    "tampered payload": (_tampered, "invalid_signature"),
    "forged with the real kid": (_forged_with_the_real_kid, "invalid_signature"),
}


def _view(gateway: LiveGateway, token: str) -> httpx.Response:
    assert gateway.http is not None
    return gateway.http.post(
        "/v1/views",
        json={"citizen": SARA, "purpose": "coordinated-plan"},
        headers={"Authorization": f"Bearer {token}"},
    )


def _refused_and_logged(gateway: LiveGateway, response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert "invalid_token" in response.headers["www-authenticate"]
    request_id = response.headers["x-request-id"]
    logged = [e for e in gateway.audit_entries(outcome="denied") if e["request_id"] == request_id]
    assert [(e["action"], e["reason"]) for e in logged] == [("view", code)]


def test_a_token_from_the_code_flow_is_accepted(
    oidc_gateway: LiveGateway, identity_provider: IdentityProvider
) -> None:
    tokens = provider_tokens(identity_provider.realms["staff"], "mette.kjaer")
    response = _view(oidc_gateway, tokens["access_token"])
    assert response.status_code == 200, response.text
    entry = oidc_gateway.audit_entries(action="view", actor="mette.kjaer")[0]
    # Entra-style claims mapped: app role -> caseworker, security group -> department.
    assert entry["actor"]["roles"] == ["caseworker"]
    assert entry["actor"]["department"] == "children-family"


def test_an_id_token_is_not_an_access_token(
    oidc_gateway: LiveGateway, identity_provider: IdentityProvider
) -> None:
    tokens = provider_tokens(identity_provider.realms["staff"], "mette.kjaer")
    _refused_and_logged(oidc_gateway, _view(oidc_gateway, tokens["id_token"]), "wrong_audience")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_tokens_from_the_provider_are_refused_and_logged(
    oidc_gateway: LiveGateway, identity_provider: IdentityProvider, case: str
) -> None:
    make, code = CASES[case]
    token = make(identity_provider.realms["staff"])
    _refused_and_logged(oidc_gateway, _view(oidc_gateway, token), code)


def test_a_citizen_login_grants_no_staff_role(
    oidc_gateway: LiveGateway, identity_provider: IdentityProvider
) -> None:
    """Even if the citizens' provider claimed it, the gateway lets that issuer grant only
    `citizen`."""
    realm = identity_provider.realms["citizens"]
    token = realm.sign(_claims(realm, roles=["caseworker"], department="children-family"))
    response = _view(oidc_gateway, token)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.fixture
def fresh_provider(
    own_gateway: Callable[..., Any],
) -> Any:
    """A provider and a gateway of their own: key caches start cold, refresh limits unspent."""

    class Pair:
        def __enter__(self) -> tuple[IdentityProvider, LiveGateway]:
            self._provider = ProviderInThread(demo_identity_provider())
            provider = self._provider.__enter__().provider
            self._gateway = own_gateway(issuers=issuers_of(provider))
            return provider, self._gateway.__enter__()

        def __exit__(self, *exc: object) -> None:
            self._gateway.__exit__(*exc)
            self._provider.__exit__(*exc)

    return Pair()


def test_an_unknown_kid_triggers_exactly_one_jwks_refresh(fresh_provider: Any) -> None:
    with fresh_provider as (provider, gateway):
        realm = provider.realms["staff"]
        assert (
            _view(gateway, provider_tokens(realm, "mette.kjaer")["access_token"]).status_code == 200
        )
        fetched = realm.jwks_requests
        stranger = RSAKey.generate_key(2048, auto_kid=True)
        for _ in range(3):
            _refused_and_logged(
                gateway, _view(gateway, realm.sign(_claims(realm), key=stranger)), "unknown_key"
            )
        assert realm.jwks_requests == fetched + 1


def test_a_key_rotation_is_picked_up_without_a_restart(fresh_provider: Any) -> None:
    with fresh_provider as (provider, gateway):
        realm = provider.realms["staff"]
        before = provider_tokens(realm, "mette.kjaer")["access_token"]
        assert _view(gateway, before).status_code == 200
        realm.rotate()
        after = provider_tokens(realm, "mette.kjaer")["access_token"]
        assert json.loads(base64.urlsafe_b64decode(after.split(".")[0] + "==")).get("kid") == (
            realm.signing_key.kid
        )
        assert _view(gateway, after).status_code == 200
        # The previous key is still published, so tokens signed before the rotation still work.
        assert _view(gateway, before).status_code == 200


def test_sign_in_through_the_code_flow(oidc_gateway: LiveGateway) -> None:
    with browser_sign_in(oidc_gateway, "staff", "mette.kjaer") as browser:
        cookie = next(c for c in browser.cookies.jar if c.name == "helhed_session")
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"
        home = browser.get("/")
        assert "Mette Kjær" in home.text
        assert "Slå en borger op" in home.text, "Danish by default"
        assert home.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in home.headers["content-security-policy"]
        shown = browser.post(
            "/citizen",
            data={"citizen": SARA, "purpose": "coordinated-plan", "csrf": csrf_of(browser)},
        )
        assert shown.status_code == 200, shown.text
        assert "Hvad overblikket dækker" in shown.text
        assert SARA not in str(shown.url)
    signed_in = oidc_gateway.audit_entries(action="sign-in", actor="mette.kjaer")
    assert signed_in[0]["outcome"] == "success"


def test_a_citizen_signs_in_through_the_national_login(oidc_gateway: LiveGateway) -> None:
    from demo.identity.demo_realms import citizen_subject

    with browser_sign_in(oidc_gateway, "citizens", citizen_subject(SARA)) as browser:
        home = browser.get("/")
        assert "Sara Holm" in home.text
        assert "Dine samtykker" in home.text
        # The national login's subject is a pseudonym; the CPR claim says whose consents these are.
        own = browser.get("/my-consents")
        assert own.status_code == 200
        assert "Helhedsorienteret plan" in own.text or "Der er ikke registreret" in own.text
        assert "coordinated-plan" not in own.text
        assert browser.get("/citizen").status_code == 403  # a citizen views no one


def test_sign_out_ends_the_session_here_and_at_the_provider(
    oidc_gateway: LiveGateway, identity_provider: IdentityProvider
) -> None:
    with browser_sign_in(oidc_gateway, "staff", "dorte.pedersen") as browser:
        session = browser.cookies["helhed_session"]
        assert browser.get("/audit").status_code == 200
        realm = identity_provider.realms["staff"]
        before = realm.sign_outs
        out = browser.post("/signout", data={"csrf": csrf_of(browser)})
        assert out.status_code == 200
        assert "Log ind" in out.text
        # Signed out at the provider too (RP-initiated logout), and sent back to the start page.
        (to_provider, back_home) = [str(r.headers["location"]) for r in out.history]
        assert to_provider.startswith(realm.issuer + "/logout?")
        assert f"client_id={CLIENT_ID}" in to_provider
        assert back_home == f"{oidc_gateway.base_url}/"
        assert realm.sign_outs == before + 1
        # The old cookie, replayed, no longer works: the session ended in the database.
        replay = httpx.get(f"{oidc_gateway.base_url}/audit", cookies={"helhed_session": session})
        assert (replay.status_code, replay.headers["location"]) == (303, "/")


def test_a_callback_without_its_state_is_refused_and_logged(oidc_gateway: LiveGateway) -> None:
    assert oidc_gateway.http is not None
    response = oidc_gateway.http.get("/signin/callback", params={"code": "x", "state": "forged"})
    assert response.status_code == 401
    assert "text/html" in response.headers["content-type"]
    request_id = response.headers["x-request-id"]
    logged = [
        e for e in oidc_gateway.audit_entries(outcome="denied") if e["request_id"] == request_id
    ]
    assert [(e["action"], e["reason"]) for e in logged] == [("sign-in", "sign_in_state_mismatch")]


def test_a_callback_works_once(oidc_gateway: LiveGateway) -> None:
    """Replaying the provider's redirect (state and code) signs no one in a second time."""
    with httpx.Client(base_url=oidc_gateway.base_url, follow_redirects=True, timeout=30) as browser:
        provider_page = browser.get("/signin/staff")
        state = browser.cookies["helhed_login"]
        home = browser.post(str(provider_page.url), data={"user": "anders.bak"})
        callback = next(r for r in home.history if r.url.path == "/signin/callback").url
    replay = httpx.get(str(callback), cookies={"helhed_login": state})
    assert replay.status_code == 401
    assert "sign_in_expired" in replay.text
