"""Ask the permitted sources, all at once, under one overall deadline."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from adapters.protocol import Adapter, FetchRequest, Rejection, SourceUnavailable
from schemas.fragment import Fragment

logger = logging.getLogger("helhed.fanout")


@dataclass
class SourceAnswer:
    source: str
    fragments: list[Fragment] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    failure: SourceUnavailable | None = None
    seconds: float = 0.0
    as_of: datetime | None = None


async def _ask(adapter: Adapter, request: FetchRequest) -> SourceAnswer:
    started = time.perf_counter()
    name = adapter.config.name
    try:
        result = await adapter.fetch(request)
        answer = SourceAnswer(name, result.fragments, result.rejected, as_of=result.as_of)
    except SourceUnavailable as failure:
        answer = SourceAnswer(name, failure=failure)
    except Exception as error:  # a broken adapter must not break the view (rule 6)
        logger.warning("source %s raised %s", name, type(error).__name__)
        answer = SourceAnswer(name, failure=SourceUnavailable("adapter_error", "adapter failed"))
    answer.seconds = time.perf_counter() - started
    return answer


async def ask_sources(
    calls: list[tuple[Adapter, FetchRequest]], deadline_seconds: float
) -> dict[str, SourceAnswer]:
    """Every call ends by the deadline: answered, failed, or cancelled and marked as timed out."""
    tasks = {
        adapter.config.name: asyncio.create_task(_ask(adapter, request))
        for adapter, request in calls
    }
    if not tasks:
        return {}
    done, pending = await asyncio.wait(tasks.values(), timeout=deadline_seconds)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    answers: dict[str, SourceAnswer] = {}
    for name, task in tasks.items():
        if task in done:
            answers[name] = task.result()
        else:
            answers[name] = SourceAnswer(
                name,
                failure=SourceUnavailable("timeout", "no answer within the view's deadline"),
                seconds=deadline_seconds,
            )
    return answers
