"""Children & family's DUBU-like system: GET with the CPR in a header, a Danish-keyed answer."""

from __future__ import annotations

from aiohttp import web

from demo.records import Record, dubu
from demo.systems.server import SimulatedSystem

CPR_HEADER = "X-Borger-CPR"


class DubuDialect:
    method = "GET"
    path = "/dubu/api/v1/borgersager"

    async def citizen_asked(self, request: web.Request) -> str | None:
        return request.headers.get(CPR_HEADER)

    def answer(self, records: list[Record]) -> dict[str, object]:
        return {"antal": len(records), "sager": records}


def dubu_system() -> SimulatedSystem:
    return SimulatedSystem(
        name="dubu", department="children-family", dialect=DubuDialect(), records=dubu.RECORDS
    )
