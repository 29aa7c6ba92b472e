"""The access log's settings (`[audit]` in the TOML file, HELHED_AUDIT__* in the environment)."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field


class AuditSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    origin: str = Field(
        default="helhed/access-log",
        min_length=1,
        pattern=r"^[^\s]+$",
        description="The log's name in its signed checkpoints; make it unique to the "
        "municipality, e.g. 'aarhus.dk/helhed/access-log'",
    )
    checkpoint_every_entries: int = Field(
        default=1000, ge=1, description="Sign a checkpoint at least this often, in entries"
    )
    checkpoint_every_seconds: float = Field(
        default=1.0, gt=0, description="... and at most this long after the log grew"
    )
    retention_months: int = Field(
        default=24, ge=6, description="Entry bodies older than this are pruned (at least 6)"
    )
    timezone: str = Field(default="Europe/Copenhagen", description="For working hours")
    working_hours_start: time = Field(default=time(7, 0), description="Views before are flagged")
    working_hours_end: time = Field(default=time(18, 0), description="Views after are flagged")
    flag_outside_working_hours: bool = Field(
        default=True,
        description="Flag views outside the working hours and days; the demo, which runs at "
        "any hour, switches it off so its sample traffic does not drown the anomaly report",
    )
    working_days: list[int] = Field(
        default=[1, 2, 3, 4, 5], description="ISO weekdays (1 = Monday) that are working days"
    )
    citizens_per_day_threshold: int = Field(
        default=30,
        ge=1,
        description="An actor viewing more distinct citizens a day is always flagged",
    )
    citizens_per_day_floor: int = Field(
        default=10,
        ge=1,
        description="Fewer distinct citizens a day than this are never unusual, whatever the "
        "department's baseline",
    )
    baseline_days: int = Field(
        default=28,
        ge=1,
        le=366,
        description="Days before a report's period that make the department's baseline of "
        "distinct citizens per person per day",
    )
    denials_per_day_threshold: int = Field(
        default=3, ge=1, description="An actor refused this often in a day is flagged"
    )
