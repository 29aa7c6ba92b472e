"""Liveness, readiness and metrics: no citizen data, no token needed."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from gateway.deps import RuntimeDep
from gateway.ops.live import live_metrics
from gateway.ops.metrics import scrape_registry
from gateway.problems import problem_response, problem_responses

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready", response_model=None, responses=problem_responses(503))
def ready(runtime: RuntimeDep) -> dict[str, object] | Response:
    """Ready to serve: the database answers and holds the access log."""
    try:
        with runtime.engine.connect() as connection:
            size = connection.execute(text("SELECT size FROM log_head WHERE id = 1")).scalar_one()
    except SQLAlchemyError:
        return problem_response(503, "database_unavailable", "The database does not answer")
    return {"status": "ready", "log_entries": size, "sources": len(runtime.adapters)}


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format: counters of this process (or of every worker), gauges of now."""
    registry = scrape_registry(runtime.metrics, lambda: live_metrics(runtime))
    body = await run_in_threadpool(generate_latest, registry)  # reads the database
    return Response(body, media_type=CONTENT_TYPE_LATEST)
