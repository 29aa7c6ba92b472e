"""Health & care's Nexus-EOJ-like API: POST {"patient": {"identifier"}}, a bundle of entries."""

from __future__ import annotations

from aiohttp import web

from demo.records import Record, nexus
from demo.systems.server import SimulatedSystem, json_body


class NexusDialect:
    method = "POST"
    path = "/api/core/care-records/_search"

    async def citizen_asked(self, request: web.Request) -> str | None:
        body = await json_body(request)
        patient = body.get("patient") if body else None
        return patient.get("identifier") if isinstance(patient, dict) else None

    def answer(self, records: list[Record]) -> dict[str, object]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(records),
            "entries": [{"resource": record} for record in records],
        }


def nexus_system() -> SimulatedSystem:
    return SimulatedSystem(
        name="nexus", department="health", dialect=NexusDialect(), records=nexus.RECORDS
    )
