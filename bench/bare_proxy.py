"""The yardstick: a bare FastAPI proxy that fans out to the same sources and merges their
answers, with no token, no consent, no release rules and no access log.

`POST /v1/views {"citizen": ...}` asks every configured source at once over one aiohttp
session (REST sources with their OAuth2 bearer token, fetched once; the SOAP source with a
hand-written envelope, parsed with lxml), turns each record into a flat fragment (source,
department, the record's fields), groups them by department and orders one timeline, and
answers JSON. That is the least a gateway of this shape must do; what the real gateway costs
above it is the price of consent checking and logging (issue 11).

    python bench/bare_proxy.py --port P   (the sources as JSON in HELHED_SOURCES)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import uvicorn
from fastapi import FastAPI, Request, Response
from lxml import etree

SOAP_NS = "urn:sensum:borger:indsats:1"
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    '<soap:Body><s:HentBorgerIndsatser xmlns:s="{ns}"><s:CPR>{cpr}</s:CPR>'
    "</s:HentBorgerIndsatser></soap:Body></soap:Envelope>"
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class Source:
    def __init__(self, config: dict[str, Any]) -> None:
        self.name, self.department = config["name"], config["department"]
        self.soap = config["kind"] == "soap_xml"
        if self.soap:
            self.url = config["wsdl"].split("?", 1)[0]
        else:
            self.url = config["base_url"].rstrip("/") + config["path"]
        self.auth = config.get("auth")
        self.headers: dict[str, str] = {}

    async def log_in(self, session: aiohttp.ClientSession) -> None:
        if self.auth:
            async with session.post(
                self.auth["token_url"],
                data={"grant_type": "client_credentials"},
                auth=aiohttp.BasicAuth(self.auth["client_id"], self.auth["client_secret"]),
            ) as response:
                token = (await response.json())["access_token"]
            self.headers = {"Authorization": f"Bearer {token}"}

    async def records(self, session: aiohttp.ClientSession, citizen: str) -> list[dict[str, Any]]:
        if self.soap:
            body = ENVELOPE.format(ns=SOAP_NS, cpr=citizen).encode()
            async with session.post(
                self.url, data=body, headers={"Content-Type": "text/xml", "SOAPAction": ""}
            ) as response:
                root = etree.fromstring(await response.read(), parser=_PARSER)
            return [
                {etree.QName(child).localname: child.text for child in item}
                for item in root.iter(f"{{{SOAP_NS}}}Indsats")
            ]
        async with session.post(
            self.url, json={"personNumber": citizen}, headers=self.headers
        ) as response:
            document = await response.json()
        return list(document["data"]["engagements"])


def create_app(configs: list[dict[str, Any]]) -> FastAPI:
    sources = [Source(c) for c in configs if c["kind"] in ("rest_json", "soap_xml")]
    client: dict[str, aiohttp.ClientSession] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        session = client["session"] = aiohttp.ClientSession()
        for source in sources:
            await source.log_in(session)
        yield
        await session.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/views")
    async def view(request: Request) -> Response:
        citizen = (await request.json())["citizen"]
        session = client["session"]
        answers = await asyncio.gather(*(s.records(session, citizen) for s in sources))
        departments: dict[str, list[dict[str, Any]]] = {}
        timeline = []
        for source, records in zip(sources, answers, strict=True):
            for record in records:
                fragment = {"source": source.name, "department": source.department, **record}
                departments.setdefault(source.department, []).append(fragment)
                timeline.append(fragment)
        timeline.sort(key=lambda f: str(f.get("Startdato") or f.get("period") or ""))
        return Response(
            json.dumps(
                {
                    "citizen": citizen,
                    "departments": [
                        {"department": d, "fragments": f} for d, f in departments.items()
                    ],
                    "timeline": timeline,
                    "coverage": [
                        {"source": s.name, "status": "included", "fragments": len(a)}
                        for s, a in zip(sources, answers, strict=True)
                    ],
                }
            ),
            media_type="application/json",
        )

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(json.loads(os.environ["HELHED_SOURCES"]))
    # The same log level as `helhed serve`: both write an access log line per request.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
