"""The shared resilience layer around any adapter: timeout, retries, breaker, limits, stats."""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import pytest

from adapters.policy import ResiliencePolicy
from adapters.protocol import (
    PROTOCOL_VERSION,
    FetchRequest,
    FetchResult,
    Health,
    SourceConfig,
    SourceUnavailable,
)
from adapters.resilience import BreakerState, Resilient, unwrap
from schemas.fragment import Fragment

CPR = "0101901234"
REQUEST = FetchRequest(CPR, frozenset({"benefits"}), timeout=1.0)


def _fragment(n: int) -> Fragment:
    return Fragment.model_validate(
        {
            "id": f"fake:{n}",
            "citizen": CPR,
            "source": "fake",
            "department": "jobcenter",
            "category": "benefits",
            "kind": "benefit",
            "title": "Kontanthjælp",
        }
    )


class Scripted:
    """An adapter that does what the test says: each call pops the next step."""

    protocol_version: ClassVar[int] = PROTOCOL_VERSION

    def __init__(self, *steps: Any, idempotent: bool = True, **policy: Any) -> None:
        self.config = SourceConfig(
            name="fake",
            kind="fake",
            department="jobcenter",
            categories=["benefits"],
            resilience=ResiliencePolicy(**policy),
        )
        self.steps = list(steps)
        self.idempotent = idempotent
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.calls += 1
        step = self.steps.pop(0) if self.steps else "ok"
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if isinstance(step, float):
                await asyncio.sleep(step)
                return FetchResult([_fragment(1)])
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, int):
                return FetchResult([_fragment(n) for n in range(step)])
            return FetchResult([_fragment(1)])
        finally:
            self.in_flight -= 1

    async def check_health(self) -> Health:
        return Health(True, "fine")

    async def aclose(self) -> None:
        pass


def transient() -> SourceUnavailable:
    return SourceUnavailable("unreachable", "ConnectionRefused", retryable=True)


def run(adapter: Resilient, request: FetchRequest = REQUEST) -> FetchResult | SourceUnavailable:
    async def once() -> FetchResult | SourceUnavailable:
        try:
            return await adapter.fetch(request)
        except SourceUnavailable as failure:
            return failure

    return asyncio.run(once())


def test_a_transient_failure_of_an_idempotent_read_is_retried() -> None:
    inner = Scripted(transient(), "ok", backoff_seconds=0.01)
    result = run(Resilient(inner))
    assert isinstance(result, FetchResult)
    assert inner.calls == 2


def test_no_retry_for_a_read_that_may_not_be_repeated_or_a_lasting_failure() -> None:
    inner = Scripted(transient(), "ok", idempotent=False, backoff_seconds=0.01)
    assert isinstance(run(Resilient(inner)), SourceUnavailable)
    assert inner.calls == 1
    lasting = Scripted(SourceUnavailable("invalid_json", "not JSON"), "ok", backoff_seconds=0.01)
    assert isinstance(run(Resilient(lasting)), SourceUnavailable)
    assert lasting.calls == 1


def test_no_retry_when_the_deadline_does_not_allow_one() -> None:
    inner = Scripted(transient(), "ok", backoff_seconds=0.5)
    failure = run(Resilient(inner), FetchRequest(CPR, frozenset({"benefits"}), timeout=0.3))
    assert isinstance(failure, SourceUnavailable)
    assert failure.code == "unreachable"
    assert inner.calls == 1


def test_a_slow_adapter_is_cut_at_its_timeout_even_if_it_ignores_it() -> None:
    inner = Scripted(30.0)
    started = time.monotonic()
    failure = run(Resilient(inner), FetchRequest(CPR, frozenset({"benefits"}), timeout=0.2))
    assert time.monotonic() - started < 1
    assert isinstance(failure, SourceUnavailable)
    assert failure.code == "timeout"


def test_the_breaker_opens_after_repeated_failures_and_closes_after_recovery() -> None:
    failures = [SourceUnavailable("http_status", "HTTP 500") for _ in range(3)]
    inner = Scripted(*failures, "ok", breaker_failures=3, breaker_reset_seconds=0.2, retries=0)
    adapter = Resilient(inner)
    for _ in range(3):
        assert run(adapter).code == "http_status"  # type: ignore[union-attr]
    assert adapter.breaker.state is BreakerState.OPEN
    refused = run(adapter)
    assert isinstance(refused, SourceUnavailable)
    assert refused.code == "circuit_open"
    assert inner.calls == 3, "an open circuit does not call the source"
    time.sleep(0.25)
    assert adapter.breaker.state is BreakerState.HALF_OPEN
    assert isinstance(run(adapter), FetchResult)  # the trial call succeeds
    assert adapter.breaker.state is BreakerState.CLOSED
    assert adapter.stats.last_success is not None
    assert adapter.stats.last_error is not None
    assert adapter.stats.last_error.code == "http_status"


def test_a_failed_trial_call_opens_the_circuit_again() -> None:
    inner = Scripted(
        SourceUnavailable("http_status", "HTTP 500"),
        SourceUnavailable("http_status", "HTTP 500"),
        breaker_failures=1,
        breaker_reset_seconds=0.1,
        retries=0,
    )
    adapter = Resilient(inner)
    run(adapter)
    assert adapter.breaker.state is BreakerState.OPEN
    time.sleep(0.15)
    run(adapter)
    assert adapter.breaker.state is BreakerState.OPEN
    assert inner.calls == 2


def test_concurrency_per_source_is_limited() -> None:
    inner = Scripted(*([0.05] * 6), max_concurrency=2)
    adapter = Resilient(inner)

    async def six_at_once() -> None:
        await asyncio.gather(*(adapter.fetch(REQUEST) for _ in range(6)))

    asyncio.run(six_at_once())
    assert inner.calls == 6
    assert inner.most_in_flight == 2


def test_too_many_fragments_and_a_crashing_adapter_make_the_source_unavailable() -> None:
    assert run(Resilient(Scripted(50, max_fragments=10))).code == "too_large"  # type: ignore[union-attr]
    crashing = Resilient(Scripted(RuntimeError("boom")))
    failure = run(crashing)
    assert isinstance(failure, SourceUnavailable)
    assert failure.code == "adapter_error"


def test_statistics_and_unwrapping() -> None:
    inner = Scripted()
    adapter = Resilient(inner)
    for _ in range(5):
        run(adapter)
    latency = adapter.stats.latency_ms()
    assert latency is not None
    assert set(latency) == {"p50", "p95", "p99"}
    assert adapter.stats.calls == 5
    assert unwrap(adapter) is inner
    assert adapter.idempotent is True


@pytest.mark.parametrize("field", ["retries", "breaker_failures", "max_concurrency"])
def test_policy_values_are_bounded(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ResiliencePolicy.model_validate({field: -1})
