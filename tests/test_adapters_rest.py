"""rest_json's authentication, paging and mutual TLS, against real servers on loopback."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.protocol import FetchRequest, FetchResult, SourceConfig, SourceUnavailable
from adapters.rest_json import RestJsonAdapter
from demo.citizens import SARA_HOLM
from demo.systems import SystemsInThread
from demo.systems.momentum import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET
from demo.systems.server import TOKEN_PATH

CPR = "0101901234"
MAPPING = {
    "records": "items",
    "fields": {"id": "id", "citizen": "cpr", "category": "c", "kind": "k", "title": "t"},
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _item(n: int) -> dict[str, Any]:
    return {"id": n, "cpr": CPR, "c": "benefits", "k": "benefit", "t": f"Ydelse {n}"}


async def _serve(handler: Handler, ssl_context: ssl.SSLContext | None = None) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/search", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
    return runner


def _fetch(handler: Handler, ssl_context: ssl.SSLContext | None = None, **options: Any) -> Any:
    async def run() -> Any:
        runner = await _serve(handler, ssl_context)
        scheme = "https" if ssl_context else "http"
        config = SourceConfig.model_validate(
            {
                "name": "test-source",
                "kind": "rest_json",
                "department": "jobcenter",
                "categories": ["benefits"],
                "base_url": f"{scheme}://127.0.0.1:{runner.addresses[0][1]}",
                "path": "/search",
                "headers": {"X-CPR": "{citizen}"},
                "mapping": MAPPING,
                **options,
            }
        )
        adapter = RestJsonAdapter(config)
        try:
            return await adapter.fetch(FetchRequest(CPR, frozenset({"benefits"}), timeout=5))
        except SourceUnavailable as failure:
            return failure
        finally:
            await adapter.aclose()
            await runner.cleanup()

    return asyncio.run(run())


def _requiring(header: str, value: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        if request.headers.get(header) != value:
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"items": [_item(1)]})

    return handler


def test_an_api_key_header() -> None:
    handler = _requiring("X-API-Key", "k3y")
    assert len(_fetch(handler, auth={"type": "api_key", "key": "k3y"}).fragments) == 1
    refused = _fetch(handler, auth={"type": "api_key", "key": "wrong"})
    assert (type(refused), refused.code) == (SourceUnavailable, "auth_failed")


def test_http_basic() -> None:
    expected = "Basic " + base64.b64encode(b"helhed:s3cret").decode()
    handler = _requiring("Authorization", expected)
    auth = {"type": "basic", "username": "helhed", "password": "s3cret"}
    assert len(_fetch(handler, auth=auth).fragments) == 1
    refused = _fetch(handler, auth={**auth, "password": "nope"})
    assert refused.code == "auth_failed"


def test_secrets_never_show_in_the_configuration_as_printed() -> None:
    config = SourceConfig.model_validate(
        {
            "name": "s",
            "kind": "rest_json",
            "department": "jobcenter",
            "categories": ["benefits"],
            "base_url": "http://127.0.0.1:9",
            "path": "/",
            "auth": {"type": "basic", "username": "u", "password": "hunter2"},
            "mapping": MAPPING,
        }
    )
    assert "hunter2" not in repr(RestJsonAdapter(config).options)


def test_oauth2_client_credentials_fetches_caches_and_renews_the_token() -> None:
    with SystemsInThread() as systems:
        jobcenter = systems["jobcenter"]
        config = SourceConfig.model_validate(
            next(c for c in _configs(systems) if c["department"] == "jobcenter")
        )
        adapter = RestJsonAdapter(config)
        request = FetchRequest(SARA_HOLM.cpr, frozenset(config.categories), timeout=5)

        async def three_views_then_expiry() -> list[FetchResult]:
            results = [await adapter.fetch(request) for _ in range(3)]
            assert jobcenter.tokens_issued == 1, "one token serves many calls"
            jobcenter.expire_tokens()  # the source forgets it: 401, a new token, the same call
            results.append(await adapter.fetch(request))
            await adapter.aclose()
            return results

        results = systems.run(three_views_then_expiry())
        assert all(len(r.fragments) == 4 for r in results)
        assert jobcenter.tokens_issued == 2
        assert len(jobcenter.requests) == 4  # the refused call never reached the data

        wrong = config.model_dump() | {"auth": {**config.options["auth"], "client_secret": "wrong"}}
        bad = RestJsonAdapter(SourceConfig.model_validate(wrong))

        async def refused() -> str:
            try:
                await bad.fetch(request)
            except SourceUnavailable as failure:
                return failure.code
            finally:
                await bad.aclose()
            return "no failure"

        assert systems.run(refused()) == "auth_failed"


def _configs(systems: SystemsInThread) -> list[dict[str, Any]]:
    from demo.sources import source_configs

    configs = source_configs(systems.systems)
    jobcenter = next(c for c in configs if c["department"] == "jobcenter")
    assert jobcenter["auth"]["token_url"].endswith(TOKEN_PATH)
    assert jobcenter["auth"]["client_id"] == OAUTH_CLIENT_ID
    assert jobcenter["auth"]["client_secret"] == OAUTH_CLIENT_SECRET
    return configs


def test_page_number_paging_reads_until_an_empty_page() -> None:
    pages: list[str] = []

    async def paged(request: web.Request) -> web.Response:
        page = request.query["page"]
        pages.append(page)
        items = [_item(int(page) * 10 + n) for n in range(3)] if int(page) <= 3 else []
        return web.json_response({"items": items})

    result = _fetch(paged, paging={"style": "page", "param": "page", "start": 1})
    assert pages == ["1", "2", "3", "4"]
    assert len(result.fragments) == 9


def test_cursor_paging_follows_the_cursor_in_the_body_and_stops_at_max_pages() -> None:
    cursors: list[Any] = []

    async def cursored(request: web.Request) -> web.Response:
        body = await request.json()
        cursors.append(body.get("after"))
        n = len(cursors)
        return web.json_response(
            {"items": [_item(n)], "meta": {"next": f"c{n}" if n < 3 else None}}
        )

    options = {
        "method": "POST",
        "json_body": {"cpr": "{citizen}"},
        "paging": {"style": "cursor", "param": "after", "send_in": "body", "next": "meta.next"},
    }
    result = _fetch(cursored, **options)
    assert cursors == [None, "c1", "c2"]
    assert [f.id for f in result.fragments] == [f"test-source:{n}" for n in (1, 2, 3)]
    cursors.clear()

    async def endless(request: web.Request) -> web.Response:
        cursors.append(1)
        return web.json_response({"items": [_item(len(cursors))], "meta": {"next": "more"}})

    limited = {**options, "paging": {**options["paging"], "max_pages": 5}}
    assert len(_fetch(endless, **limited).fragments) == 5


# --- mutual TLS --------------------------------------------------------------------------


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, Any] | None, **kw: Any
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer if issuer else (name, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if kw.get("ip"):
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(kw["ip"]))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, *items: Any) -> Path:
    data = b""
    for item in items:
        if isinstance(item, x509.Certificate):
            data += item.public_bytes(serialization.Encoding.PEM)
        else:
            data += item.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
    path.write_bytes(data)
    return path


def test_mutual_tls_presents_our_certificate_and_trusts_only_the_configured_ca(
    tmp_path: Path,
) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Test municipality CA", ca_key, None)
    issuer = (ca.subject, ca_key)
    server_key, client_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    server = _certificate("momentum", server_key, issuer, ip="127.0.0.1")
    client = _certificate("helhed", client_key, issuer)
    ca_file = _write(tmp_path / "ca.pem", ca)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca_file)
    server_context.load_cert_chain(
        _write(tmp_path / "server.pem", server), _write(tmp_path / "server.key", server_key)
    )
    server_context.verify_mode = ssl.CERT_REQUIRED
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        seen.append(dict(x[0] for x in peer["subject"])["commonName"] if peer else "")
        return web.json_response({"items": [_item(1)]})

    tls = {
        "ca_file": str(ca_file),
        "client_cert_file": str(_write(tmp_path / "client.pem", client)),
        "client_key_file": str(_write(tmp_path / "client.key", client_key)),
    }
    assert len(_fetch(handler, server_context, tls=tls).fragments) == 1
    assert seen == ["helhed"]
    without_certificate = _fetch(handler, server_context, tls={"ca_file": str(ca_file)})
    assert without_certificate.code == "unreachable"
    untrusted = _fetch(handler, server_context, tls={})  # the system CAs do not know ours
    assert untrusted.code == "unreachable"
    assert seen == ["helhed"]
