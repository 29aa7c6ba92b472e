"""Adult social services' Sensum-like system: POST {"CPR"}, a bare JSON list of records."""

from __future__ import annotations

from aiohttp import web

from demo.records import Record, sensum
from demo.systems.server import SimulatedSystem, json_body


class SensumDialect:
    method = "POST"
    path = "/Sensum/api/Borger/Indsatser"

    async def citizen_asked(self, request: web.Request) -> str | None:
        body = await json_body(request)
        return body.get("CPR") if body else None

    def answer(self, records: list[Record]) -> list[Record]:
        return records


def sensum_system() -> SimulatedSystem:
    return SimulatedSystem(
        name="sensum", department="adult-social", dialect=SensumDialect(), records=sensum.RECORDS
    )
