"""One trusted issuer's discovery document and public keys, fetched, cached and refreshed.

Keys are fetched again when the cache is older than `jwks_cache_seconds`, and when a token names
a key id the cache does not hold (the provider has rotated its keys) — but at most once per
`jwks_refresh_min_seconds`, so a stream of tokens with made-up key ids costs the provider one
request, not one per token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.auth.errors import IssuerUnavailable
from gateway.settings import TrustedIssuer

logger = logging.getLogger("helhed.auth")

FetchJson = Callable[[str], Awaitable[dict[str, Any]]]

_MAX_DOCUMENT_BYTES = 512 * 1024


async def fetch_json(url: str) -> dict[str, Any]:
    """GET a small JSON document from a provider; any failure is IssuerUnavailable."""
    try:
        async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise IssuerUnavailable(f"{url}: {type(error).__name__}") from None
    if response.status_code != 200 or len(response.content) > _MAX_DOCUMENT_BYTES:
        raise IssuerUnavailable(f"{url}: HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError:
        raise IssuerUnavailable(f"{url}: not JSON") from None
    if not isinstance(document, dict):
        raise IssuerUnavailable(f"{url}: not a JSON object")
    return document


class IssuerKeys:
    def __init__(self, config: TrustedIssuer, fetch: FetchJson = fetch_json) -> None:
        self.config = config
        self._fetch = fetch
        self._static = config.jwks_file is not None
        self._keys: KeySet | None = self._load_file() if self._static else None
        self._fetched_at = 0.0
        self._last_attempt = -float("inf")
        self._metadata: dict[str, Any] | None = None
        self._lock: asyncio.Lock | None = None
        self.fetches = 0  # JWKS fetches so far: metrics, and tests that count refreshes

    def _load_file(self) -> KeySet:
        assert self.config.jwks_file is not None
        return KeySet.import_key_set(json.loads(self.config.jwks_file.read_text(encoding="utf-8")))

    @property
    def cached(self) -> KeySet | None:
        """The keys held now, without fetching (the synchronous path)."""
        return self._keys

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, checked against OpenID Connect Discovery 1.0."""
        if self._metadata is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = await self._fetch(url)
            try:
                OpenIDProviderMetadata(document).validate()
            except ValueError as error:
                raise IssuerUnavailable(f"{url}: {error}") from None
            # Discovery §4.3: the document must name exactly the issuer we asked.
            if document.get("issuer") != self.config.issuer:
                raise IssuerUnavailable(f"{url}: names issuer {document.get('issuer')!r}")
            self._metadata = document
        return self._metadata

    async def key_set(self, kid: str | None) -> KeySet:
        if self._static:
            assert self._keys is not None
            return self._keys
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # concurrent requests with a new kid share one fetch
            now = time.monotonic()
            stale = self._keys is None or now - self._fetched_at > self.config.jwks_cache_seconds
            unknown = kid is not None and self._keys is not None and not _holds(self._keys, kid)
            may_refresh = now - self._last_attempt >= self.config.jwks_refresh_min_seconds
            if stale:
                await self._refresh(now)
            elif unknown and may_refresh:
                # Only these count against the limit: a rotation right after start still works.
                self._last_attempt = now
                await self._refresh(now)
        if self._keys is None:
            raise IssuerUnavailable(f"no keys for {self.config.issuer}")
        return self._keys

    async def _refresh(self, now: float) -> None:
        try:
            uri = self.config.jwks_uri or (await self.metadata())["jwks_uri"]
            self.fetches += 1
            document = await self._fetch(uri)
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (IssuerUnavailable, JoseError, ValueError, KeyError, TypeError) as error:
            if self._keys is None:
                raise IssuerUnavailable(str(error)) from None
            # Keep serving with the keys we have: a provider's hiccup must not lock users out.
            logger.warning("could not refresh keys of %s: %s", self.config.issuer, error)
            return
        self._keys, self._fetched_at = keys, now


def _holds(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)
