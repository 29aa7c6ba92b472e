"""How the gateway treats one source: retries, the circuit breaker, concurrency.

[sources.resilience]
retries = 1                 # extra attempts after a transient failure, deadline permitting
backoff_seconds = 0.05      # before the first retry; doubled for each further one
breaker_failures = 5        # consecutive failures that open the circuit
breaker_reset_seconds = 30  # how long an open circuit stays open before one trial call
max_concurrency = 10        # calls in flight to this source at once
max_fragments = 5000        # more than this in one answer makes the source `unavailable`
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ResiliencePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    retries: int = Field(
        default=1, ge=0, le=5, description="Extra attempts after a transient failure"
    )
    backoff_seconds: float = Field(
        default=0.05, ge=0, le=5, description="Wait before the first retry; doubled after"
    )
    breaker_failures: int = Field(
        default=5, ge=1, le=1000, description="Consecutive failures that open the circuit"
    )
    breaker_reset_seconds: float = Field(
        default=30, gt=0, le=3600, description="Seconds an open circuit waits for a trial call"
    )
    max_concurrency: int = Field(
        default=10, ge=1, le=1000, description="Calls in flight to this source at once"
    )
    max_fragments: int = Field(
        default=5000, ge=1, description="An answer with more fragments is refused as too large"
    )
