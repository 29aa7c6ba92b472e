"""The scheduler's settings (`[scheduler]` in the TOML file, HELHED_SCHEDULER__* in the
environment): how long a lease lasts, and per-job periods for operators and tests."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SchedulerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long a job's lease lasts; the running instance renews it every third "
        "of this, so an instance that dies hands its jobs on within this long",
    )
    periods: dict[str, float] = Field(
        default_factory=dict,
        description="A job's period in seconds instead of its built-in one, e.g. "
        '{"expire-consents" = 300}',
    )
