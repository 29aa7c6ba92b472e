"""The scheduler dies a little: one job raises every time, one hangs on the event loop's side,
one blocks its thread. The other jobs keep their periods, the app keeps answering (views
included), and the failing and the hung job run again the next period (a hung coroutine job is
cancelled at its time limit; a blocked thread cannot be, and is not run twice at once)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from gateway.jobs import JOBS
from gateway.runtime import Runtime
from gateway.scheduler import ScheduledJob
from tests.attack.faults import eventually, shared_citizen, timed

EVERY = timedelta(seconds=1)


def test_a_job_that_raises_or_hangs_stops_neither_the_others_nor_the_app(
    own_gateway: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    twin_of: Callable[[str], str],
) -> None:
    started: Counter[str] = Counter()
    release = threading.Event()

    async def raises(_runtime: Runtime) -> None:
        started["raises"] += 1
        raise RuntimeError("a job that always fails")

    async def hangs(_runtime: Runtime) -> None:
        started["hangs"] += 1
        await asyncio.Event().wait()  # never set

    def blocks(_runtime: Runtime) -> None:
        started["blocks"] += 1
        release.wait(30)  # a blocking call stuck on a dead share, say

    def ticks(_runtime: Runtime) -> None:
        started["ticks"] += 1

    jobs = [
        *JOBS,  # the gateway's own go on beside them
        ScheduledJob("raises", EVERY, raises, run_at_start=True),
        ScheduledJob("hangs", EVERY, hangs, run_at_start=True, time_limit=EVERY / 2),
        ScheduledJob("blocks", EVERY, blocks, run_at_start=True),
        ScheduledJob("ticks", EVERY, ticks, run_at_start=True),
    ]
    monkeypatch.setattr("gateway.app.JOBS", jobs)
    try:
        with own_gateway() as gateway:
            assert eventually(lambda: started["ticks"] >= 3), started
            assert started["raises"] >= 2, f"a failed job runs again next period: {started}"
            assert eventually(lambda: started["hangs"] >= 2), f"a hung one too: {started}"
            citizen = shared_citizen(gateway, twin_of)
            response, seconds = timed(lambda: gateway.view(citizen))
            assert response.status_code == 200
            assert seconds < 5, "the event loop is not held by a stuck job"
            assert gateway.http is not None
            assert gateway.http.get("/health").status_code == 200
            ticks = started["ticks"]
            time.sleep(2.5)
            assert started["ticks"] > ticks, "the other jobs keep their periods"
            # A stopping gateway waits (up to SHUTDOWN_WAIT_SECONDS) for the stuck thread's job
            # to end before it lets go of its database: let it end.
            release.set()
    finally:
        release.set()
