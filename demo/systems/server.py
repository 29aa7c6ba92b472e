"""One simulated legacy system: a real aiohttp server on loopback that can be made to misbehave.

What differs between systems (how the citizen is asked for, how the answer is wrapped) is a
`Dialect`; the server, the knobs and the request record are the same for all of them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from demo.records import Record

# Long enough for a normal answer to finish, short enough that stop() never waits on a delay.
_SHUTDOWN_GRACE_SECONDS = 1.0

# What a reverse proxy in front of a legacy system answers when the system behind it is down.
_PROXY_ERROR_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"  # <hr> unclosed: not even XML
)
# "Billion laughs": ten levels of ten references, a few hundred bytes that expand to 10^10.
XML_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + "]>\n<lolz>&lol9;</lolz>\n"
)


@dataclass
class Behaviour:
    """How the system misbehaves on its next data requests; read afresh for every request."""

    delay: float = 0.0  # seconds to wait before answering
    fail_status: int | None = None  # answer this HTTP status instead
    invalid_json: bool = False  # answer a body that is not JSON
    foreign_citizen: bool = False  # also return one record belonging to another citizen
    oversize_bytes: int | None = None  # pad the answer to at least this size
    health_status: int = 200  # what GET /health answers
    xml_bomb: bool = False  # answer an entity-expansion bomb
    external_entity: bool = False  # answer XML whose DTD pulls in a file and a URL (XXE)


@dataclass(frozen=True)
class DataRequest:
    """One data request as the system received it."""

    at: datetime
    # Left out of repr: a request that ends up in a log or an assertion message must not leak it.
    citizen: str | None = field(repr=False)


class Dialect(Protocol):
    """How one legacy system is asked for a citizen's records, and how it wraps its answer."""

    method: str
    path: str

    async def citizen_asked(self, request: web.Request) -> str | None:
        """The CPR the request asks about, as sent; None when the request names none."""
        ...

    def answer(self, records: list[Record]) -> Any:
        """The document the system answers with (JSON unless the dialect has `render`)."""
        ...


class DepartmentSystem(Protocol):
    """What every simulated system offers tests and the demo, whatever it is: a server, a
    database file or a drop folder. `base_url` is where the gateway finds it."""

    name: str
    department: str
    behaviour: Behaviour
    requests: list[DataRequest]
    base_url: str

    def reset(self) -> None: ...

    def citizens(self) -> list[str]: ...

    def add_twin(self, original: str, twin: str) -> None: ...

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str: ...

    async def stop(self) -> None: ...


@runtime_checkable
class Rendering(Protocol):
    """A dialect that answers something other than JSON (a SOAP envelope, say)."""

    content_type: str

    def render(self, answer: Any) -> bytes: ...


TOKEN_PATH = "/oauth2/token"  # noqa: S105 (a path)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _with_citizen_replaced(value: Any, original: str, twin: str) -> Any:
    """A deep copy in which every occurrence of the CPR (with or without hyphen) is replaced."""
    if isinstance(value, str):
        hyphenated = f"{original[:6]}-{original[6:]}"
        return value.replace(hyphenated, f"{twin[:6]}-{twin[6:]}").replace(original, twin)
    if isinstance(value, list):
        return [_with_citizen_replaced(item, original, twin) for item in value]
    if isinstance(value, dict):
        return {k: _with_citizen_replaced(v, original, twin) for k, v in value.items()}
    return value


async def json_body(request: web.Request) -> dict[str, Any] | None:
    """The request's JSON object, or None when the body is not one."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class SimulatedSystem:
    def __init__(
        self,
        *,
        name: str,
        department: str,
        dialect: Dialect,
        records: Mapping[str, list[Record]],
        oauth_clients: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.department = department
        self.dialect = dialect
        self.behaviour = Behaviour()
        self.requests: list[DataRequest] = []
        self.in_flight = 0  # data requests being answered right now
        self.base_url = ""
        self._records = dict(records)
        self._runner: web.AppRunner | None = None
        # OAuth2 client credentials: client id -> secret; the tokens it has issued.
        self.oauth_clients = dict(oauth_clients or {})
        self.tokens_issued = 0
        self._tokens: dict[str, float] = {}  # token -> expiry (time.monotonic)
        self.token_ttl_seconds = 300.0
        self.external_fetches = 0  # requests for the XXE canary: must stay 0

    def __repr__(self) -> str:
        return f"<SimulatedSystem {self.name} ({self.department}) {self.base_url or 'stopped'}>"

    def reset(self) -> None:
        """Back to good behaviour and no requests seen, e.g. between tests."""
        self.behaviour = Behaviour()
        self.requests.clear()

    def citizens(self) -> list[str]:
        """The CPRs this system holds records about."""
        return list(self._records)

    def add_twin(self, original: str, twin: str) -> None:
        """Give `twin` a copy of everything held about `original`: a fresh citizen per test."""
        if original in self._records:
            self._records[twin] = _with_citizen_replaced(self._records[original], original, twin)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0: any free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError(f"{self.name} is already running at {self.base_url}")
        app = web.Application()
        app.router.add_get("/health", self._answer_health)
        app.router.add_route(self.dialect.method, self.dialect.path, self._answer_data_request)
        app.router.add_get("/canary", self._answer_canary)
        if self.oauth_clients:
            app.router.add_post(TOKEN_PATH, self._issue_token)
        for method, path, handler in getattr(self.dialect, "extra_routes", lambda _s: [])(self):
            app.router.add_route(method, path, handler)
        # No access log (a header or body may carry a CPR), and handlers are cancelled when the
        # client hangs up, so a client that gives up on a delay does not leave work behind.
        runner = web.AppRunner(
            app,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=_SHUTDOWN_GRACE_SECONDS,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self.base_url = f"http://{f'[{host}]' if ':' in host else host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _answer_health(self, _request: web.Request) -> web.Response:
        status = self.behaviour.health_status
        return web.json_response({"status": "ok" if status < 400 else "failing"}, status=status)

    async def _answer_canary(self, _request: web.Request) -> web.Response:
        self.external_fetches += 1
        return web.Response(text="canary")

    async def _issue_token(self, request: web.Request) -> web.Response:
        """RFC 6749 § 4.4: client credentials in HTTP Basic, a bearer token in return."""
        form = await request.post()
        client = _basic_credentials(request.headers.get("Authorization", ""))
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if client is None or self.oauth_clients.get(client[0]) != client[1]:
            return web.json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(24)
        self._tokens[token] = time.monotonic() + self.token_ttl_seconds
        self.tokens_issued += 1
        return web.json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": int(self.token_ttl_seconds),
            }
        )

    def expire_tokens(self) -> None:
        """Every token issued so far stops working, as after a restart of the token service."""
        self._tokens.clear()

    def _authorized(self, request: web.Request) -> bool:
        if not self.oauth_clients:
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expiry = self._tokens.get(token) if scheme.lower() == "bearer" else None
        return expiry is not None and expiry > time.monotonic()

    async def _answer_data_request(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response(
                {"error": "invalid_token"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        asked = await self.dialect.citizen_asked(request)
        citizen = asked.strip().replace("-", "") if isinstance(asked, str) else None
        self.requests.append(DataRequest(datetime.now(UTC), citizen))
        # A copy, so a change from another thread half-way through applies to the next request.
        behaviour = dataclasses.replace(self.behaviour)
        if not citizen:
            return web.json_response({"error": "no citizen in the request"}, status=400)
        self.in_flight += 1
        try:
            if behaviour.delay > 0:
                await asyncio.sleep(behaviour.delay)
            return self._answer(citizen, behaviour)
        finally:
            self.in_flight -= 1

    def _answer(self, citizen: str, behaviour: Behaviour) -> web.Response:
        if behaviour.fail_status is not None:
            return web.json_response({"error": "simulated failure"}, status=behaviour.fail_status)
        if behaviour.invalid_json:
            return web.Response(text=_PROXY_ERROR_PAGE, content_type="text/html")
        if behaviour.xml_bomb:
            return web.Response(text=XML_BOMB, content_type="text/xml")
        if behaviour.external_entity:
            return web.Response(text=self._external_entity_answer(), content_type="text/xml")
        records = list(self._records.get(citizen, ()))
        if behaviour.foreign_citizen:
            records.append(self._record_about_someone_else(citizen))
        answer = self.dialect.answer(records)
        if isinstance(self.dialect, Rendering):
            body, content_type = self.dialect.render(answer), self.dialect.content_type
        else:
            body, content_type = json.dumps(answer, ensure_ascii=False).encode(), "application/json"
        if behaviour.oversize_bytes is not None:
            # Trailing whitespace keeps the document valid JSON (or XML), only bigger.
            body = body.ljust(behaviour.oversize_bytes, b" ")
        return web.Response(body=body, content_type=content_type, charset="utf-8")

    def _external_entity_answer(self) -> str:
        # Both a local file and a URL (our own canary, so a fetch would be seen, never sent out).
        return (
            '<?xml version="1.0"?>\n<!DOCTYPE data [\n'
            '<!ENTITY file SYSTEM "file:///etc/passwd">\n'
            f'<!ENTITY net SYSTEM "{self.base_url}/canary">\n]>\n'
            "<data>&file;&net;</data>\n"
        )

    def _record_about_someone_else(self, citizen: str) -> Record:
        for other, records in self._records.items():
            if other != citizen and records:
                return records[0]
        raise LookupError(f"{self.name} holds no records about any other citizen")
