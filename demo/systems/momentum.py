"""The jobcenter's Momentum-like REST API: POST {"personNumber"}, a nested camelCase answer,
behind a bearer token that its own OAuth2 endpoint issues for client credentials."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from demo.records import Record, momentum
from demo.systems.server import SimulatedSystem, json_body


class MomentumDialect:
    method = "POST"
    path = "/api/v2/engagements/search"

    async def citizen_asked(self, request: web.Request) -> str | None:
        body = await json_body(request)
        return body.get("personNumber") if body else None

    def answer(self, records: list[Record]) -> dict[str, object]:
        return {
            "data": {"engagements": records},
            "meta": {
                "count": len(records),
                "generatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        }


# The client the gateway is registered as; the simulated jobcenter issues its tokens.
OAUTH_CLIENT_ID = "helhed-gateway"
OAUTH_CLIENT_SECRET = "demo-only-secret"  # noqa: S105 (a demo system's, on loopback)


def momentum_system() -> SimulatedSystem:
    return SimulatedSystem(
        name="momentum",
        department="jobcenter",
        dialect=MomentumDialect(),
        records=momentum.RECORDS,
        oauth_clients={OAUTH_CLIENT_ID: OAUTH_CLIENT_SECRET},
    )
