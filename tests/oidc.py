"""Helpers for tests against the demo's OpenID Connect provider: a browser that signs in
through the gateway's code flow, a script client that gets tokens straight from the provider,
and page sessions made directly for the role table's tests."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from demo.identity import Realm
from demo.identity.demo_realms import CLIENT_ID
from gateway.auth.actor import Actor
from gateway.web.cookies import session_cookie_name
from gateway.web.sessions import create_session
from tests.support import LiveGateway

STAFF_SECRET = "demo-staff-secret-for-tests"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def provider_tokens(
    realm: Realm, subject: str, *, client_secret: str | None = STAFF_SECRET
) -> dict[str, Any]:
    """The code flow as a script runs it against the provider alone: the tokens it issues."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": "http://127.0.0.1:9/signin/callback",
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    with httpx.Client(timeout=10) as http:
        chosen = http.post(f"{realm.issuer}/authorize", params=params, data={"user": subject})
        assert chosen.status_code == 302, chosen.text
        code = parse_qs(urlsplit(chosen.headers["location"]).query)["code"][0]
        auth = (CLIENT_ID, client_secret) if client_secret else None
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "code_verifier": verifier,
        }
        if auth is None:
            data["client_id"] = CLIENT_ID
        answer = http.post(f"{realm.issuer}/token", data=data, auth=auth)
        answer.raise_for_status()
        tokens: dict[str, Any] = answer.json()
        return tokens


@contextmanager
def browser_sign_in(gateway: LiveGateway, issuer: str, subject: str) -> Iterator[httpx.Client]:
    """A browser that follows the gateway's sign-in to the provider, picks a user, comes back."""
    with httpx.Client(base_url=gateway.base_url, follow_redirects=True, timeout=30) as browser:
        sign_in_page = browser.get(f"/signin/{issuer}")
        assert sign_in_page.status_code == 200, sign_in_page.text
        assert "/realms/" in sign_in_page.url.path  # at the provider, its sign-in page
        home = browser.post(str(sign_in_page.url), data={"user": subject})
        assert home.status_code == 200, home.text
        assert home.url.path == "/"
        yield browser


def csrf_of(browser: httpx.Client) -> str:
    found = _CSRF.search(browser.get("/").text)
    assert found, "the start page carries the session's CSRF token"
    return found.group(1)


def page_session(gateway: LiveGateway, actor: Actor) -> tuple[dict[str, str], str]:
    """A session made directly (sign-in itself is tested elsewhere): cookies and CSRF token."""
    runtime = gateway.runtime
    now = runtime.clock.now()
    token, web = create_session(
        engine=runtime.engine,
        protector=runtime.protector,
        actor=actor,
        expires_at=now + timedelta(minutes=30),
        now=now,
    )
    return {session_cookie_name(False): token}, web.csrf
