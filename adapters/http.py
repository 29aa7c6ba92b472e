"""What the HTTP kinds (rest_json, soap_xml) share: TLS, authentication, bounded reads.

    [sources.auth]                     # one of:
    type = "none"
    type = "api_key"      header = "X-API-Key"   key = "…"
    type = "basic"        username = "…"         password = "…"
    type = "oauth2_client_credentials"
    token_url = "https://…/token"  client_id = "…"  client_secret = "…"  scope = "cases.read"
    [sources.tls]                      # mutual TLS: a client certificate, and whom to trust
    ca_file = "/etc/helhed/momentum-ca.pem"
    client_cert_file = "/etc/helhed/helhed.pem"   client_key_file = "/etc/helhed/helhed.key"

Data calls go through aiohttp (under concurrent fan-out it holds its latency where httpx does
not: encode/httpx#3215). Only the OAuth2 token endpoint is reached through authlib's client,
which fetches, caches and refreshes the token.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, model_validator

from adapters.protocol import Health, SourceUnavailable

# A token this close to expiry is renewed before use, so it cannot lapse in flight.
_TOKEN_LEEWAY_SECONDS = 30


class TlsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ca_file: Path | None = Field(default=None, description="CA bundle to trust (PEM)")
    client_cert_file: Path | None = Field(default=None, description="Mutual TLS: our certificate")
    client_key_file: Path | None = Field(default=None, description="Mutual TLS: its private key")
    verify: bool = Field(default=True, description="Never switch off outside a laboratory")

    @model_validator(mode="after")
    def _pairs(self) -> TlsOptions:
        if (self.client_cert_file is None) != (self.client_key_file is None):
            raise ValueError("client_cert_file and client_key_file go together")
        return self

    def context(self) -> ssl.SSLContext | bool:
        if not self.verify:
            return False
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.client_cert_file is not None:
            context.load_cert_chain(self.client_cert_file, self.client_key_file)
        return context


class NoAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["none"] = "none"


class ApiKeyAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["api_key"]
    header: str = "X-API-Key"
    key: SecretStr


class BasicAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["basic"]
    username: str
    password: SecretStr


class ClientCredentialsAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["oauth2_client_credentials"]
    token_url: HttpUrl
    client_id: str
    client_secret: SecretStr
    scope: str | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = (
        "client_secret_basic"  # noqa: S105 (a method's name, not a secret)
    )


AuthOptions = Annotated[
    NoAuth | ApiKeyAuth | BasicAuth | ClientCredentialsAuth, Field(discriminator="type")
]


class Authenticator(Protocol):
    async def headers(self) -> dict[str, str]: ...

    def rejected(self) -> None:
        """The source answered 401: whatever credential was cached is no good."""
        ...

    async def aclose(self) -> None: ...


class StaticHeaders:
    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    async def headers(self) -> dict[str, str]:
        return self._headers

    def rejected(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class ClientCredentials:
    """An OAuth2 client-credentials token, fetched on first use and renewed before it expires."""

    def __init__(self, options: ClientCredentialsAuth, tls: TlsOptions) -> None:
        self._options = options
        self._tls = tls
        self._client: object | None = None
        self._lock: asyncio.Lock | None = None
        # The token the header below was made from; another token (renewed, or dropped after a
        # 401) means the header must be made again, under the lock.
        self._held: Any = None
        self._header: dict[str, str] = {}

    def _oauth(self) -> object:
        # Imported here: only sources with OAuth2 pay for authlib's HTTP client.
        from authlib.integrations.httpx_client import AsyncOAuth2Client  # noqa: PLC0415

        if self._client is None:
            self._client = AsyncOAuth2Client(
                client_id=self._options.client_id,
                client_secret=self._options.client_secret.get_secret_value(),
                token_endpoint_auth_method=self._options.token_endpoint_auth_method,
                scope=self._options.scope,
                leeway=_TOKEN_LEEWAY_SECONDS,
                timeout=10,
                verify=self._tls.context(),
            )
        return self._client

    async def headers(self) -> dict[str, str]:
        client = self._oauth()
        token = getattr(client, "token", None)
        if token and token is self._held and not token.is_expired(leeway=_TOKEN_LEEWAY_SECONDS):
            return self._header  # the common case: the token in hand is good; no lock needed
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one token request at a time, however many calls wait for it
            token = getattr(client, "token", None)
            if not token or token.is_expired(leeway=_TOKEN_LEEWAY_SECONDS):
                try:
                    token = await client.fetch_token(  # type: ignore[attr-defined]
                        str(self._options.token_url), grant_type="client_credentials"
                    )
                except Exception as error:  # authlib raises OAuthError, httpx2 its own
                    raise _token_failure(error) from None
            self._held, self._header = token, {"Authorization": f"Bearer {token['access_token']}"}
        return self._header

    def rejected(self) -> None:
        self._held = None
        if self._client is not None:
            self._client.token = None  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()  # type: ignore[attr-defined]


def _token_failure(error: Exception) -> SourceUnavailable:
    import httpx2  # noqa: PLC0415 (authlib's HTTP client, loaded with it)

    if isinstance(error, httpx2.TimeoutException):
        return SourceUnavailable("timeout", "the token endpoint did not answer in time")
    if isinstance(error, httpx2.TransportError):  # the token endpoint is down, not our key
        return SourceUnavailable("unreachable", type(error).__name__, retryable=True)
    return SourceUnavailable(
        "auth_failed", f"the token endpoint refused us ({type(error).__name__})"
    )


def authenticator(
    options: NoAuth | ApiKeyAuth | BasicAuth | ClientCredentialsAuth, tls: TlsOptions
) -> Authenticator:
    if isinstance(options, ApiKeyAuth):
        return StaticHeaders({options.header: options.key.get_secret_value()})
    if isinstance(options, BasicAuth):
        pair = f"{options.username}:{options.password.get_secret_value()}".encode()
        return StaticHeaders({"Authorization": f"Basic {base64.b64encode(pair).decode()}"})
    if isinstance(options, ClientCredentialsAuth):
        return ClientCredentials(options, tls)
    return StaticHeaders({})


def fill_in(template: Any, values: dict[str, str]) -> Any:
    """Fill {citizen}/{categories} into strings, recursively; nothing else is interpreted."""
    if isinstance(template, str):
        for key, value in values.items():
            template = template.replace("{" + key + "}", value)
        return template
    if isinstance(template, dict):
        return {k: fill_in(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill_in(v, values) for v in template]
    return template


def client_session(tls: TlsOptions) -> aiohttp.ClientSession:
    """Created on first use, inside the event loop that will use it."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300, ssl=tls.context()),
        raise_for_status=False,
    )


async def read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, however many pieces it arrives in, but never more than `limit` bytes."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise SourceUnavailable("too_large", f"response larger than {limit} bytes")
    if declared is not None:
        return await response.read()  # aiohttp reads the declared length and no more
    body = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            raise SourceUnavailable("too_large", f"response larger than {limit} bytes")
    return bytes(body)


def status_failure(status: int) -> SourceUnavailable:
    if status in (401, 403):
        return SourceUnavailable(
            "auth_failed", f"HTTP {status}: the source refused our credentials"
        )
    # 502-504 and 429 are the proxy or the system being briefly unable: worth one more try.
    transient = status in (429, 502, 503, 504)
    return SourceUnavailable("http_status", f"HTTP {status}", retryable=transient)


async def probe(
    session: aiohttp.ClientSession,
    url: str,
    *,
    healthy_below: int,
    headers: dict[str, str] | None = None,
) -> Health:
    """One timed GET for a health check: up if it answers below `healthy_below`."""
    started = time.perf_counter()
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
        ) as response:
            latency = (time.perf_counter() - started) * 1000
            return Health(response.status < healthy_below, f"HTTP {response.status}", latency)
    except (TimeoutError, aiohttp.ClientError) as error:
        return Health(False, type(error).__name__)
