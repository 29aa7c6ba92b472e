"""`soap_xml`: a department system that speaks SOAP, described by its WSDL (a file or a URL).

    [[sources]]
    name = "adult-social-sensum"
    kind = "soap_xml"
    department = "adult-social"
    categories = ["case-overview", "interventions"]
    wsdl = "http://sensum.kommune.example/IndsatsService?wsdl"
    operation = "HentBorgerIndsatser"
    arguments = { CPR = "{citizen}" }          # the operation's input, filled in per request
    # endpoint = "https://…"                    # when the WSDL names an address we cannot reach
    [sources.mapping]  ...                      # JMESPath over the answer, as plain data

zeep reads the WSDL and builds and reads the messages; the data call itself goes through
aiohttp like every HTTP kind. XML is parsed safely: a DTD is refused outright (so no entity
expansion, no XML bomb, no external entity), and nothing is fetched but the WSDL itself: zeep
refuses every import or include in it (`forbid_external`), and the loader underneath would
refuse anything outside the WSDL's own origin (or, for a file, its folder) all the same. A WSDL
that imports its schemas must be saved as one self-contained file.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse
from xml.sax.saxutils import escape

import aiohttp
import zeep
import zeep.exceptions
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from zeep.helpers import serialize_object
from zeep.loader import parse_xml
from zeep.transports import Transport
from zeep.wsdl.bindings.soap import Soap12Binding

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
from adapters.mapping import FragmentMapping, to_plain
from adapters.protocol import (
    PROTOCOL_VERSION,
    FetchRequest,
    FetchResult,
    Health,
    SourceConfig,
    SourceUnavailable,
)
from adapters.soap_plain import PlainReader

# No DTDs at all: the defence against entity expansion and external entities in one rule.
SAFE_XML = zeep.Settings(
    strict=True,
    forbid_dtd=True,
    forbid_entities=True,
    forbid_external=True,
    xml_huge_tree=False,
)
_WSDL_TIMEOUT_SECONDS = 10


class SoapXmlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wsdl: str = Field(description="The WSDL: a file path or an http(s) URL")
    operation: str
    service: str | None = Field(default=None, description="WSDL service; default: the first")
    port: str | None = Field(default=None, description="WSDL port; default: the first")
    endpoint: HttpUrl | None = Field(default=None, description="Overrides the WSDL's address")
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="The operation's input; {citizen} is filled in"
    )
    idempotent: bool = Field(
        default=True, description="A look-up, safe to repeat; false for anything that writes"
    )
    max_response_bytes: int = Field(default=5_000_000, gt=0)
    health_url: HttpUrl | None = Field(
        default=None, description="GET for health checks; default: the service's address"
    )
    auth: AuthOptions = Field(default_factory=NoAuth)
    tls: TlsOptions = Field(default_factory=TlsOptions)
    mapping: FragmentMapping

    @field_validator("wsdl")
    @classmethod
    def _file_or_http(cls, wsdl: str) -> str:
        scheme = urlparse(wsdl).scheme
        if scheme not in ("http", "https", "") and not Path(wsdl).is_absolute():
            raise ValueError("an http(s) URL or a file path")
        return wsdl


class ForbiddenFetch(Exception):
    """The WSDL wanted something from outside its own origin or folder."""


class WsdlOnlyTransport(Transport):
    """zeep's loader, allowed only the WSDL's own origin (or folder) and nothing else."""

    def __init__(self, wsdl: str) -> None:
        super().__init__(timeout=_WSDL_TIMEOUT_SECONDS, operation_timeout=_WSDL_TIMEOUT_SECONDS)
        parsed = urlparse(wsdl)
        self._origin = (parsed.scheme, parsed.netloc) if parsed.scheme else None
        self._folder = None if parsed.scheme else Path(wsdl).resolve().parent

    def load(self, url: str) -> bytes:
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https"):
            if (parsed.scheme, parsed.netloc) != self._origin:
                raise ForbiddenFetch(url)
            return bytes(super().load(url))
        path = Path(parsed.path if parsed.scheme == "file" else url).resolve()
        if self._folder is None or not path.is_relative_to(self._folder):
            raise ForbiddenFetch(url)
        return path.read_bytes()


class _Service:
    """The parts of a loaded WSDL one operation needs."""

    def __init__(self, options: SoapXmlOptions) -> None:
        transport = WsdlOnlyTransport(options.wsdl)
        self.client = zeep.Client(options.wsdl, transport=transport, settings=SAFE_XML)
        self.proxy = self.client.bind(options.service, options.port)
        binding = self.proxy._binding
        self.operation = binding.get(options.operation)
        self.namespaces = binding.nsmap
        self.soap12 = isinstance(binding, Soap12Binding)
        self.address = str(options.endpoint or self.proxy._binding_options["address"])
        self.transport = transport
        self.reader = PlainReader(self.operation)
        self.template = _envelope_template(self, options.arguments)


# Stand-ins for the values filled in per request: the envelope is built by zeep once, with
# these, and each request's envelope is that template with the (escaped) values put back.
_MARKERS = {key: f"HELHED{key.upper()}7F3A9C" for key in ("citizen", "categories")}


def _envelope_template(service: _Service, arguments: dict[str, Any]) -> bytes | None:
    """The operation's envelope with markers where {citizen}/{categories} go; None when the
    arguments do not allow it (a typed argument zeep would not take a marker for)."""
    try:
        marked = fill_in(arguments, _MARKERS)
        envelope = service.client.create_message(service.proxy, service.operation.name, **marked)
    except (zeep.exceptions.Error, TypeError, ValueError):
        return None
    template = bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))
    expected = sum(str(arguments).count("{" + key + "}") for key in _MARKERS)
    found = sum(template.count(marker.encode()) for marker in _MARKERS.values())
    return template if found == expected else None


class SoapXmlAdapter:
    protocol_version: ClassVar[int] = PROTOCOL_VERSION

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.options = SoapXmlOptions.model_validate(config.options)
        self.idempotent = self.options.idempotent
        self._auth = authenticator(self.options.auth, self.options.tls)
        self._service: _Service | None = None
        self._loading: asyncio.Lock | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _loaded(self) -> _Service:
        """The WSDL, read once (in a thread: zeep reads synchronously) and then kept."""
        if self._loading is None:
            self._loading = asyncio.Lock()
        async with self._loading:
            if self._service is None:
                try:
                    self._service = await asyncio.to_thread(_Service, self.options)
                except (ForbiddenFetch, zeep.exceptions.ExternalReferenceForbidden) as forbidden:
                    raise SourceUnavailable(
                        "wsdl_invalid", f"the WSDL refers to another document: {forbidden}"
                    ) from None
                except (zeep.exceptions.Error, ValueError, KeyError, OSError) as error:
                    raise SourceUnavailable(
                        "wsdl_unavailable",
                        f"the WSDL could not be read ({type(error).__name__})",
                        retryable=True,
                    ) from None
        return self._service

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = client_session(self.options.tls)
        return self._session

    def _envelope(self, service: _Service, citizen: str, categories: str) -> bytes:
        if service.template is not None:
            body = service.template
            for key, value in (("citizen", citizen), ("categories", categories)):
                escaped = escape(value, {'"': "&quot;", "'": "&apos;"}).encode()
                body = body.replace(_MARKERS[key].encode(), escaped)
            return body
        arguments = fill_in(self.options.arguments, {"citizen": citizen, "categories": categories})
        try:
            envelope = service.client.create_message(
                service.proxy, self.options.operation, **arguments
            )
        except (zeep.exceptions.Error, TypeError, ValueError) as error:
            raise SourceUnavailable(
                "bad_arguments", f"the arguments do not fit the operation ({type(error).__name__})"
            ) from None
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))

    def _headers(self, service: _Service) -> dict[str, str]:
        action = service.operation.soapaction or ""
        if service.soap12:
            return {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
        return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}

    async def fetch(self, request: FetchRequest) -> FetchResult:
        service = await self._loaded()
        body = self._envelope(service, request.citizen, ",".join(sorted(request.categories)))
        raw, status = await self._post(service, body, request.timeout)
        return self._read(service, raw, status)

    async def _post(self, service: _Service, body: bytes, seconds: float) -> tuple[bytes, int]:
        for attempt in (1, 2):  # a second time only after a 401 with a cached token
            headers = {**self._headers(service), **(await self._auth.headers())}
            try:
                async with self._client().post(
                    service.address,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=max(seconds, 0.001)),
                ) as response:
                    if response.status == 401 and attempt == 1:
                        self._auth.rejected()
                        continue
                    # A SOAP fault comes with 500 and an envelope; anything else is HTTP's own.
                    if response.status >= 400 and response.status != 500:
                        raise status_failure(response.status)
                    return await read_limited(
                        response, self.options.max_response_bytes
                    ), response.status
            except TimeoutError:
                raise SourceUnavailable("timeout", "no answer within the deadline") from None
            except aiohttp.ClientError as error:
                raise SourceUnavailable(
                    "unreachable", type(error).__name__, retryable=True
                ) from None
        raise SourceUnavailable("auth_failed", "the source refused our credentials (HTTP 401)")

    def _read(self, service: _Service, raw: bytes, status: int) -> FetchResult:
        if declares_dtd(raw):
            raise SourceUnavailable(
                "unsafe_xml", "the answer declares a DTD (entities); refused unread"
            )
        try:
            # zeep annotates the content as str; it hands it to lxml, which takes bytes.
            document = parse_xml(raw, service.transport, settings=SAFE_XML)  # type: ignore[arg-type]
        except (zeep.exceptions.DTDForbidden, zeep.exceptions.EntitiesForbidden):
            raise SourceUnavailable(
                "unsafe_xml", "the answer declares a DTD or entities; refused unread"
            ) from None
        except (zeep.exceptions.XMLSyntaxError, ForbiddenFetch, ValueError):
            if status != 200:  # an error page from the server or a proxy, not a SOAP fault
                raise status_failure(status) from None
            raise SourceUnavailable("invalid_xml", "the answer is not well-formed XML") from None
        fault = document.find("soap-env:Body/soap-env:Fault", namespaces=service.namespaces)
        if fault is not None or status != 200:
            # The fault's text may quote the request (a CPR): only that there was one leaves.
            raise (
                status_failure(status)
                if fault is None
                else SourceUnavailable("soap_fault", "the service answered with a SOAP fault")
            )
        plain = service.reader.read(document)  # the plain case, without zeep's value objects
        if plain is None:
            try:
                answer = service.operation.process_reply(document)
            except (zeep.exceptions.Error, ValueError, TypeError, AttributeError):
                raise SourceUnavailable(
                    "invalid_xml", "the answer does not match the WSDL's message"
                ) from None
            plain = to_plain(serialize_object(answer, target_cls=dict))
        return self.options.mapping.map_document(
            plain, source=self.config.name, department=self.config.department
        )

    async def check_health(self) -> Health:
        try:
            service = await self._loaded()
        except SourceUnavailable as failure:  # e.g. the WSDL cannot be read
            return Health(False, failure.message)
        # A SOAP endpoint may refuse a GET (405, 500): it answered, so it is up.
        url = str(self.options.health_url or service.address)
        return await probe(self._client(), url, healthy_below=502)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self._auth.aclose()


_ROOT_START = re.compile(rb"<[A-Za-z_]")


def declares_dtd(raw: bytes) -> bool:
    """A DOCTYPE in the prolog, before the root element: where entities and bombs live. Checked
    before any parser sees the bytes (lxml would report a bomb as a mere syntax error)."""
    doctype = raw.find(b"<!DOCTYPE")
    if doctype < 0:
        return False
    root = _ROOT_START.search(raw)
    return root is None or doctype < root.start()
