"""Consent tables. A row per version; lifecycle changes are events, never deletions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from gateway.db_types import UTCDateTime


class ConsentRow(SQLModel, table=True):
    __tablename__ = "consent"
    __table_args__ = (
        Index("ix_consent_citizen_hash", "citizen_hash"),
        Index("ix_consent_status_valid_until", "status", "valid_until"),
    )

    id: str = Field(primary_key=True, max_length=36)
    version: int = Field(primary_key=True, default=1)
    status: str = Field(max_length=20)
    citizen_hash: str = Field(max_length=64)
    citizen_ciphertext: str
    given_by: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    from_departments: list[str] = Field(sa_column=Column(JSON, nullable=False))
    to_departments: list[str] = Field(sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    purpose: str = Field(max_length=64)
    valid_from: date
    valid_until: date
    evidence: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recorded_by: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    withdrawal: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    case_ref: str | None = Field(default=None, max_length=100)
    data_period: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    legal_basis: str | None = Field(default=None, max_length=300)
    notice_version: str | None = Field(default=None, max_length=50)
    version_reason: str | None = Field(default=None, max_length=1000)


class ConsentUsageRow(SQLModel, table=True):
    """How often a consent version was relied on, and when last (GDPR art. 15 insight)."""

    __tablename__ = "consent_usage"

    consent_id: str = Field(primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    use_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class ConsentEventRow(SQLModel, table=True):
    """Who changed a consent's state, when and why: kept forever (GDPR art. 7(1))."""

    __tablename__ = "consent_event"

    id: int | None = Field(default=None, primary_key=True)
    consent_id: str = Field(max_length=36, index=True)
    version: int
    event: str = Field(max_length=32)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    by: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    reason: str | None = None
    access_entry: int | None = None
