"""Plain ASGI middleware (not BaseHTTPMiddleware: Starlette #919, #1678): request ids, headers."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logging_setup import request_id_var
from gateway.ops.metrics import UNMATCHED_ROUTE, Metrics
from gateway.problems import problem_response
from schemas.cpr import holds_cpr

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Our own ids carry no digits, so no run of them can pass for a CPR and be redacted in a log.
_NO_DIGITS = str.maketrans("0123456789", "ghijklmnop")

request_log = logging.getLogger("helhed.http")
# Load balancers and Prometheus ask these every few seconds: a line each would bury the rest.
_PROBES = frozenset({"/health", "/ready", "/metrics"})


def request_id_for(incoming: str) -> str:
    """The caller's X-Request-ID if it is sane, else a new one. A caller's id goes into the
    access log and every log line, so one that could be a CPR number is replaced (rule 5)."""
    if _SAFE_REQUEST_ID.match(incoming) and not holds_cpr(incoming):
        return incoming
    return uuid.uuid4().hex.translate(_NO_DIGITS)


def _who(state: dict[str, Any]) -> dict[str, Any]:
    """The signed-in user for the request log. A citizen's subject may be their CPR: never."""
    actor = state.get("actor")
    if actor is None:
        return {}
    if "citizen" in actor.roles:
        return {"role": "citizen"}
    return {"user": actor.subject, "role": ",".join(actor.roles), "department": actor.department}


class RequestContextMiddleware:
    """Gives every request an id (a caller's own if it is sane) and safe response headers;
    counts it by route template and logs one line for it."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = request_id_for(incoming)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        is_api = scope["path"].startswith("/v1/")
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if is_api:
                    # Citizen data must not linger in browser or proxy caches.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self._observe(scope, state, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _observe(self, scope: Scope, state: dict[str, Any], status: int, seconds: float) -> None:
        # The route's template (/v1/consents/{id}), never the raw path: labels stay few, and a
        # path holds nothing a caller typed.
        route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
        method = scope["method"]
        if self.metrics is not None:
            self.metrics.child(self.metrics.requests, route, method, str(status)).inc()
            self.metrics.child(self.metrics.request_latency, route, method).observe(seconds)
        request_log.log(
            logging.DEBUG if route in _PROBES else logging.INFO,
            "%s %s %s",
            method,
            route,
            status,
            extra={
                "route": route,
                "method": method,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                **_who(state),
            },
        )


# Pages load one script (htmx) and one stylesheet from this origin, nothing inline and nothing
# from elsewhere; htmx's requests go back to this origin only. The API docs need a CDN's scripts.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_DOCS = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    """CSP and framing rules on every response, HSTS behind TLS, no-store unless cacheable."""

    def __init__(self, app: ASGIApp, *, public_url: str | None = None) -> None:
        self.app = app
        self.always_tls = (public_url or "").startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = self.always_tls or scope.get("scheme") == "https"
        docs = scope["path"].startswith(_DOCS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not docs:
                    headers["Content-Security-Policy"] = _CSP
                headers["X-Frame-Options"] = "DENY"
                if tls:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                # Pages show citizen data too; only what says it may be cached is cached.
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuses request bodies over the limit (413), declared or streamed, before they are read."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes an HTTPException raised while reading the body through
                    # to the app's handler, which answers with a problem document.
                    raise HTTPException(413, self._detail)
            return message

        await self.app(scope, limited_receive, send)

    @property
    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, "request_too_large", self._detail)
        await response(scope, receive, send)
