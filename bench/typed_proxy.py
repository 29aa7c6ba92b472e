"""The second yardstick: the gateway's own fan-out, mapping, merge and insights, with no token,
consent, release rules, limits or access log.

`bench/bare_proxy.py` passes the sources' records through; the gateway validates every record
into a Fragment, adds the insights and answers a view twice the size. Measured against both,
the overhead workload splits what the gateway costs: against the bare proxy, everything; against
this one, what consent checking and logging cost (the question issue 11 asks), because the rest
is the same code: the same adapters, mapping, `ask_sources`, insights and CitizenView, and the
same collector tuning as `helhed serve`.

`POST /v1/views {"citizen": ..., "purpose": ...}` asks every configured source for all its
categories and answers a CitizenView with every source's coverage, no consents and entry 0.

    python bench/typed_proxy.py --port P   (the sources as JSON in HELHED_SOURCES)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.protocol import FetchRequest, SourceConfig
from adapters.registry import build_adapters
from consent.decision import local_day
from gateway.ops.heap import settle_after_start_up
from gateway.settings import load_settings
from gateway.views.compose import compose_view
from gateway.views.fanout import SourceAnswer, ask_sources
from schemas.fragment import Fragment
from schemas.view import Coverage, CoverageStatus

OWN_DEPARTMENT = "adult-social"  # the bench's caseworkers' department (bench/workloads.py)
# The benchmarked gateway's HELHED_VIEW_DEADLINE_SECONDS (bench/processes.gateway_env), and
# stretched with it where the gateway's is (bench/instructions.py, under callgrind: there the
# first calls, which fetch the sources' tokens, took longer than 5 s and timed out).
DEFAULT_DEADLINE_SECONDS = 5.0


def _coverage(answer: SourceAnswer, config: SourceConfig) -> Coverage:
    failed = answer.failure
    return Coverage(
        source=config.name,
        department=config.department,
        status=CoverageStatus.INCLUDED if failed is None else CoverageStatus.UNAVAILABLE,
        categories=list(config.categories) if failed is None else [],
        fragments=len(answer.fragments),
        problem=failed.code if failed else None,
        as_of=answer.as_of,
        export_date=local_day(answer.as_of) if answer.as_of else None,
    )


def create_app(configs: list[dict[str, Any]]) -> FastAPI:
    settings = load_settings(None, home=Path(tempfile.mkdtemp(prefix="typed-proxy-")))
    catalog = settings.catalog
    adapters = build_adapters([SourceConfig.model_validate(c) for c in configs])
    deadline = float(os.environ.get("HELHED_VIEW_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.gather(*(a.aclose() for a in adapters.values()))

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/views")
    async def view(request: Request) -> Response:
        body = await request.json()
        citizen = body["citizen"]
        now = datetime.now(UTC)
        calls = [
            (a, FetchRequest(citizen, frozenset(a.config.categories), deadline))
            for a in adapters.values()
        ]
        answers = await ask_sources(calls, deadline)
        fragments: list[Fragment] = []
        coverage = []
        for adapter in adapters.values():
            answer = answers[adapter.config.name]
            fragments.extend(answer.fragments)
            coverage.append(_coverage(answer, adapter.config))
        composed = compose_view(
            citizen=citizen,
            purpose=body.get("purpose", ""),
            fragments=fragments,
            coverage=coverage,
            catalog=catalog,
            insight_settings=settings.insights,
            own_department=OWN_DEPARTMENT,
            fetched_at=now,
            now=now,
            consents=[],
            access_entry=0,
        )
        return Response(composed.model_dump_json(), media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(json.loads(os.environ["HELHED_SOURCES"]))
    settle_after_start_up()  # as `helhed serve` does
    # The same log level as `helhed serve`: both write an access log line per request.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
