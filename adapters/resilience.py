"""Shared resilience, written once, wrapped around any adapter of any kind.

`Resilient(adapter)` is itself an Adapter: the gateway calls it and never the kind directly. It
adds, in this order: the circuit breaker (an open circuit answers `circuit_open` at once,
without calling the source), the per-source concurrency limit, the per-source timeout (the
kind's own timeout may be looser or missing), retries with backoff for idempotent reads while
the deadline allows, the fragment-count limit, and the latency and outcome statistics that
`GET /v1/sources` shows.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from adapters.policy import ResiliencePolicy
from adapters.protocol import (
    Adapter,
    FetchRequest,
    FetchResult,
    Health,
    SourceConfig,
    SourceUnavailable,
)

logger = logging.getLogger("helhed.adapters")

# A retry that cannot get at least this much time is not worth starting.
_MIN_ATTEMPT_SECONDS = 0.05
_LATENCY_WINDOW = 1000


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Opens after `failures` consecutive failures; after `reset_seconds` lets one call through
    to find out whether the source has recovered (half-open), and closes when it succeeds."""

    def __init__(self, failures: int, reset_seconds: float) -> None:
        self._threshold = failures
        self._reset_seconds = reset_seconds
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if time.monotonic() - self._opened_at >= self._reset_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def admit(self) -> bool:
        """May a call go to the source now? In half-open, only one trial at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def succeeded(self) -> None:
        self._failures, self._opened_at, self._trial_running = 0, None, False

    def failed(self) -> bool:
        """Count a failure; True when this one opened (or re-opened) the circuit."""
        self._failures += 1
        reopened = self._trial_running
        self._trial_running = False
        if reopened or (self._opened_at is None and self._failures >= self._threshold):
            self._opened_at = time.monotonic()
            return True
        return False


@dataclass
class LastError:
    at: datetime
    code: str
    message: str


class SourceStats:
    """What one gateway process has seen of one source since it started."""

    def __init__(self) -> None:
        self.calls = 0
        self.failures = 0
        self.last_success: datetime | None = None
        self.last_error: LastError | None = None
        self.last_health: Health | None = None
        self._latencies: deque[float] = deque(maxlen=_LATENCY_WINDOW)

    def record(self, seconds: float, failure: SourceUnavailable | None) -> None:
        self.calls += 1
        self._latencies.append(seconds)
        if failure is None:
            self.last_success = datetime.now(UTC)
        else:
            self.failures += 1
            self.last_error = LastError(datetime.now(UTC), failure.code, failure.message)

    def latency_ms(self) -> dict[str, float] | None:
        """p50/p95/p99 over the last calls (nearest rank), or None before the first call."""
        if not self._latencies:
            return None
        ordered = sorted(self._latencies)

        def rank(p: float) -> float:
            index = min(len(ordered) - 1, max(0, round(p * len(ordered) + 0.5) - 1))
            return round(ordered[index] * 1000, 1)

        return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}


class Resilient:
    """An Adapter around an Adapter; `inner` is the kind's own instance."""

    def __init__(self, inner: Adapter, policy: ResiliencePolicy | None = None) -> None:
        self.inner = inner
        self.config: SourceConfig = inner.config
        self.policy = policy or inner.config.resilience
        self.breaker = CircuitBreaker(
            self.policy.breaker_failures, self.policy.breaker_reset_seconds
        )
        self.stats = SourceStats()
        self._slots = asyncio.Semaphore(self.policy.max_concurrency)

    @property
    def idempotent(self) -> bool:
        return bool(getattr(self.inner, "idempotent", False))

    async def fetch(self, request: FetchRequest) -> FetchResult:
        if not self.breaker.admit():
            raise SourceUnavailable(
                "circuit_open", "the source failed repeatedly; not asked until it recovers"
            )
        started = time.monotonic()
        try:
            result = await self._attempts(request, started + request.timeout)
        except SourceUnavailable as failure:
            self._failed(failure, started)
            raise
        except asyncio.CancelledError:
            # The view's deadline passed: a timeout for the breaker, then let the cancel go on.
            self._failed(SourceUnavailable("timeout", "cancelled at the view's deadline"), started)
            raise
        except Exception as error:  # a broken kind counts as a failing source
            broken = SourceUnavailable("adapter_error", type(error).__name__)
            logger.warning("source %s: adapter raised %s", self.config.name, type(error).__name__)
            self._failed(broken, started)
            raise broken from None
        self.breaker.succeeded()
        self.stats.record(time.monotonic() - started, None)
        return result

    def _failed(self, failure: SourceUnavailable, started: float) -> None:
        self.stats.record(time.monotonic() - started, failure)
        if self.breaker.failed():
            logger.warning(
                "source %s: circuit opened after %s (%s s before a trial call)",
                self.config.name,
                failure.code,
                self.policy.breaker_reset_seconds,
            )

    async def _attempts(self, request: FetchRequest, deadline: float) -> FetchResult:
        backoff = self.policy.backoff_seconds
        attempt = 0
        while True:
            try:
                return await self._one_attempt(request, deadline)
            except SourceUnavailable as failure:
                attempt += 1
                wait = backoff * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311
                left = deadline - time.monotonic() - wait
                if (
                    not failure.retryable
                    or not self.idempotent
                    or attempt > self.policy.retries
                    or left < _MIN_ATTEMPT_SECONDS
                ):
                    raise
                await asyncio.sleep(wait)

    async def _one_attempt(self, request: FetchRequest, deadline: float) -> FetchResult:
        if deadline <= time.monotonic():
            raise SourceUnavailable("timeout", "no time left within the deadline")
        try:
            async with asyncio.timeout_at(_loop_time(deadline)), self._slots:
                # Waiting for a slot used some of the time; the kind gets what is left.
                left = max(deadline - time.monotonic(), 0.001)
                result = await self.inner.fetch(
                    FetchRequest(request.citizen, request.categories, left)
                )
        except TimeoutError:
            raise SourceUnavailable("timeout", "no answer within the source's timeout") from None
        if len(result.fragments) + len(result.rejected) > self.policy.max_fragments:
            raise SourceUnavailable(
                "too_large", f"more than {self.policy.max_fragments} records in one answer"
            )
        return result

    async def check_health(self) -> Health:
        try:
            health = await self.inner.check_health()
        except Exception as error:
            health = Health(False, type(error).__name__)
        self.stats.last_health = health
        return health

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not yet set (copying, unpickling): no endless recursion
            raise AttributeError(name)
        # Kind-specific extras (a csv_drop's importer, say) stay reachable through the wrapper.
        return getattr(self.inner, name)


def _loop_time(monotonic_deadline: float) -> float:
    """The same moment on the event loop's clock, which need not be time.monotonic's."""
    return asyncio.get_running_loop().time() + (monotonic_deadline - time.monotonic())


def unwrap(adapter: Adapter) -> Adapter:
    """The kind's own adapter behind any wrappers."""
    while isinstance(adapter, Resilient):
        adapter = adapter.inner
    return adapter
