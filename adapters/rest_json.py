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
    [sources.mapping]  ...                        # see adapters.mapping

Data calls go through aiohttp: under concurrent fan-out it holds its latency where httpx does
not (encode/httpx#3215; the measurement is in the walking-skeleton issue).
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from adapters.mapping import FragmentMapping
from adapters.protocol import (
    PROTOCOL_VERSION,
    FetchRequest,
    FetchResult,
    Health,
    SourceConfig,
    SourceUnavailable,
)


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
    mapping: FragmentMapping

    @model_validator(mode="after")
    def _citizen_stays_out_of_urls(self) -> RestJsonOptions:
        in_url = "{citizen}" in self.path or any("{citizen}" in v for v in self.query.values())
        if in_url and not self.allow_citizen_in_url:
            raise ValueError(
                "path/query: {citizen} would put the CPR in a URL, where logs keep it; send it in "
                "json_body or headers (or set allow_citizen_in_url for a system that cannot)"
            )
        return self


def _render(template: Any, values: dict[str, str]) -> Any:
    """Fill {citizen}/{categories} into strings, recursively; nothing else is interpreted."""
    if isinstance(template, str):
        for key, value in values.items():
            template = template.replace("{" + key + "}", value)
        return template
    if isinstance(template, dict):
        return {k: _render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_render(v, values) for v in template]
    return template


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, however many pieces it arrives in, but never more than `limit` bytes."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise SourceUnavailable("too_large", f"response larger than {limit} bytes")
    body = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            raise SourceUnavailable("too_large", f"response larger than {limit} bytes")
    return bytes(body)


class RestJsonAdapter:
    protocol_version: ClassVar[int] = PROTOCOL_VERSION

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.options = RestJsonOptions.model_validate(config.options)
        self._base = str(self.options.base_url).rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the event loop that will use it.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
                raise_for_status=False,
            )
        return self._session

    async def fetch(self, request: FetchRequest) -> FetchResult:
        values = {
            "citizen": request.citizen,
            "categories": ",".join(sorted(request.categories)),
        }
        url = self._base + _render(self.options.path, {k: quote(v) for k, v in values.items()})
        body = _render(self.options.json_body, values) if self.options.json_body else None
        try:
            async with self._client().request(
                self.options.method,
                url,
                json=body,
                params=_render(self.options.query, values) or None,
                headers=_render(self.options.headers, values),
                timeout=aiohttp.ClientTimeout(total=request.timeout),
            ) as response:
                if response.status == 404 and self.options.not_found_means_empty:
                    return FetchResult()
                if response.status >= 400:
                    raise SourceUnavailable("http_status", f"HTTP {response.status}")
                raw = await _read_limited(response, self.options.max_response_bytes)
        except TimeoutError:
            raise SourceUnavailable("timeout", "no answer within the deadline") from None
        except aiohttp.ClientError as error:
            raise SourceUnavailable("unreachable", type(error).__name__) from None
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SourceUnavailable("invalid_json", "the response is not valid JSON") from None
        return self.options.mapping.map_document(
            document, source=self.config.name, department=self.config.department
        )

    async def check_health(self) -> Health:
        started = time.perf_counter()
        try:
            async with self._client().get(
                self._base + self.options.health_path, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                latency = (time.perf_counter() - started) * 1000
                return Health(response.status < 500, f"HTTP {response.status}", latency)
        except (TimeoutError, aiohttp.ClientError) as error:
            return Health(False, type(error).__name__)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
