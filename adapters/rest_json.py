"""`rest_json`: a department system behind an HTTP API that answers JSON.

[[sources]]
name = "jobcenter-momentum"
kind = "rest_json"
department = "jobcenter"
categories = ["case-overview", "benefits"]
base_url = "http://127.0.0.1:8102"
method = "POST"
path = "/api/v2/engagements/search"
json_body = { personNumber = "{citizen}" }   # or: headers = { X-CPR = "{citizen}" }
[sources.auth]  ...                           # see adapters.http: none, api_key, basic,
[sources.tls]   ...                           # oauth2_client_credentials; mutual TLS
[sources.paging]                              # optional: cursor or page number
style = "cursor"  next = "meta.nextCursor"  param = "cursor"  send_in = "body"
[sources.mapping]  ...                        # see adapters.mapping
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import aiohttp
import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from adapters import json_text
from adapters.http import (
    AuthOptions,
    NoAuth,
    TlsOptions,
    authenticator,
    client_session,
    fill_in,
    probe,
    read_limited,
    status_failure,
)
from adapters.mapping import FragmentMapping
from adapters.protocol import (
    PROTOCOL_VERSION,
    FetchRequest,
    FetchResult,
    Health,
    Rejection,
    SourceConfig,
    SourceUnavailable,
)


class Paging(BaseModel):
    """`page`: ask page start, start+1, … until one comes back empty. `cursor`: send the token
    that `next` (JMESPath on the answer) finds, until it finds none."""

    model_config = ConfigDict(extra="forbid")

    style: Literal["page", "cursor"]
    param: str = Field(description="The query parameter or json_body key that carries it")
    send_in: Literal["query", "body"] = "query"
    start: int = Field(default=1, description="The first page's number (style page)")
    next: str | None = Field(default=None, description="JMESPath to the next cursor")
    max_pages: int = Field(default=20, ge=1, le=1000, description="A guard against endless paging")

    @model_validator(mode="after")
    def _cursor_needs_next(self) -> Paging:
        if self.style == "cursor":
            if not self.next:
                raise ValueError("next: a cursor style needs the JMESPath to the next cursor")
            try:
                jmespath.compile(self.next)
            except JMESPathError as error:
                raise ValueError(f"next: invalid JMESPath: {error}") from None
        return self


class RestJsonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl
    method: Literal["GET", "POST"] = "GET"
    path: str = Field(description="Path template; {citizen} and {categories} are filled in")
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    json_body: dict[str, Any] | None = None
    not_found_means_empty: bool = Field(
        default=True, description="Many legacy APIs answer 404 for a citizen they do not know"
    )
    max_response_bytes: int = Field(default=5_000_000, gt=0)
    health_path: str = "/"
    allow_citizen_in_url: bool = Field(
        default=False,
        description="Only for a legacy API that cannot take the CPR any other way: URLs end up "
        "in proxy and server logs (rule 5)",
    )
    idempotent: bool | None = Field(
        default=None,
        description="Safe to repeat, so retried on transient failures; default: GET only. "
        "Set true for a POST that only searches",
    )
    auth: AuthOptions = Field(default_factory=NoAuth)
    tls: TlsOptions = Field(default_factory=TlsOptions)
    paging: Paging | None = None
    mapping: FragmentMapping

    @field_validator("path")
    @classmethod
    def _relative(cls, path: str) -> str:
        if "://" in path:
            raise ValueError("a path, not a URL: the host comes from base_url")
        return path

    @model_validator(mode="after")
    def _citizen_stays_out_of_urls(self) -> RestJsonOptions:
        in_url = "{citizen}" in self.path or any("{citizen}" in v for v in self.query.values())
        if in_url and not self.allow_citizen_in_url:
            raise ValueError(
                "path/query: {citizen} would put the CPR in a URL, where logs keep it; send it in "
                "json_body or headers (or set allow_citizen_in_url for a system that cannot)"
            )
        if self.paging and self.paging.send_in == "body" and self.method != "POST":
            raise ValueError("paging.send_in: body needs method POST")
        return self


class RestJsonAdapter:
    protocol_version: ClassVar[int] = PROTOCOL_VERSION

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.options = RestJsonOptions.model_validate(config.options)
        self.idempotent = (
            self.options.method == "GET"
            if self.options.idempotent is None
            else self.options.idempotent
        )
        self._base = str(self.options.base_url).rstrip("/")
        self._auth = authenticator(self.options.auth, self.options.tls)
        self._next = (
            jmespath.compile(self.options.paging.next)
            if self.options.paging and self.options.paging.next
            else None
        )
        self._session: aiohttp.ClientSession | None = None
        # Most sources' headers and query are the same on every call: filled in only if not.
        self._headers_vary = "{" in str(self.options.headers)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = client_session(self.options.tls)
        return self._session

    async def fetch(self, request: FetchRequest) -> FetchResult:
        values = {
            "citizen": request.citizen,
            "categories": ",".join(sorted(request.categories)),
        }
        deadline = time.monotonic() + request.timeout
        paging = self.options.paging
        result = FetchResult()
        page: Any = paging.start if paging and paging.style == "page" else None
        for _ in range(paging.max_pages if paging else 1):
            document = await self._ask(values, page, deadline - time.monotonic())
            if document is None:  # 404 for an unknown citizen
                break
            mapped = self.options.mapping.map_document(
                document, source=self.config.name, department=self.config.department
            )
            offset = len(result.fragments) + len(result.rejected)
            result.fragments.extend(mapped.fragments)
            result.rejected.extend(Rejection(offset + r.record, r.problem) for r in mapped.rejected)
            if paging is None or not (mapped.fragments or mapped.rejected):
                break
            if paging.style == "page":
                page += 1
            else:
                assert self._next is not None
                page = self._next.search(document)
                if page in (None, ""):
                    break
        return result

    async def _ask(self, values: dict[str, str], page: Any, seconds: float) -> Any:
        options = self.options
        # Percent-encoding only when the path has a placeholder to fill (most have none).
        path = options.path
        if "{" in path:
            path = fill_in(path, {k: quote(v) for k, v in values.items()})
        url = self._base + path
        body = fill_in(options.json_body, values) if options.json_body else None
        query = fill_in(options.query, values) if options.query else {}
        if page is not None and options.paging is not None:
            if options.paging.send_in == "query":
                query = {**query, options.paging.param: str(page)}
            else:
                body = {**(body or {}), options.paging.param: page}
        for attempt in (1, 2):  # a second time only after a 401 with a cached token
            fixed = fill_in(options.headers, values) if self._headers_vary else options.headers
            headers = {**fixed, **(await self._auth.headers())}
            try:
                async with self._client().request(
                    options.method,
                    url,
                    json=body,
                    params=query or None,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=max(seconds, 0.001)),
                ) as response:
                    if response.status == 401 and attempt == 1:
                        self._auth.rejected()
                        continue
                    if response.status == 404 and options.not_found_means_empty:
                        return None
                    if response.status >= 400:
                        raise status_failure(response.status)
                    raw = await read_limited(response, options.max_response_bytes)
            except TimeoutError:
                raise SourceUnavailable("timeout", "no answer within the deadline") from None
            except aiohttp.ClientError as error:
                raise SourceUnavailable(
                    "unreachable", type(error).__name__, retryable=True
                ) from None
            try:
                return json_text.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise SourceUnavailable("invalid_json", "the response is not valid JSON") from None
        raise SourceUnavailable("auth_failed", "the source refused our credentials (HTTP 401)")

    async def check_health(self) -> Health:
        try:
            headers = await self._auth.headers()
        except SourceUnavailable as failure:  # e.g. the token endpoint refuses us
            return Health(False, failure.message)
        return await probe(
            self._client(),
            self._base + self.options.health_path,
            healthy_below=500,
            headers=headers,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self._auth.aclose()
