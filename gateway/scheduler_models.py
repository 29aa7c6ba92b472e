"""The lease that lets one gateway instance run a scheduled job at a time, and the record of
every run, which lets a job's period run only once however many instances there are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.db_types import UTCDateTime


class JobLeaseRow(SQLModel, table=True):
    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class JobRunRow(SQLModel, table=True):
    """One run of a job. Scheduled runs are keyed by their period; the unique constraint is
    what makes a second run of the same period impossible, not the lease alone."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period_start", name="uq_job_run_period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    # A scheduled run's period start (periods are aligned to the Unix epoch, so every instance
    # names the same period the same); a manual run's own start.
    period_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    trigger: str = Field(max_length=16)  # "schedule" or "manual"
    instance: str = Field(max_length=200)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    outcome: str = Field(max_length=16)  # "running", then "ok" or "failed"
