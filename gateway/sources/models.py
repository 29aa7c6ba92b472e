"""Imported CSV exports: which one is in service per source, and its fragments, sealed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel

from gateway.db_types import UTCDateTime


class DropExportRow(SQLModel, table=True):
    """The one export in service for a csv_drop source, and its import report."""

    __tablename__ = "drop_export"

    source: str = Field(primary_key=True, max_length=64)
    file_name: str = Field(max_length=300)
    sha256: str = Field(max_length=64)
    exported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    imported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    rows: int
    imported: int
    # [{"line": 7, "problem": "..."}]: field names and error types only, never a row's values.
    rejected: str = Field(sa_column=Column(Text, nullable=False))


class DropFragmentRow(SQLModel, table=True):
    """One imported fragment: AES-GCM ciphertext, found by the citizen's keyed hash."""

    __tablename__ = "drop_fragment"
    __table_args__ = (Index("ix_drop_fragment_lookup", "source", "citizen_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    citizen_hash: str = Field(max_length=64)
    category: str = Field(max_length=64)
    sealed: str = Field(sa_column=Column(Text, nullable=False))


class SourceHealthRow(SQLModel, table=True):
    """The last scheduled health check of one source, whichever instance ran it: what every
    instance behind the load balancer shows alike. A source's name and how it answered; no
    citizen data, and the detail has any CPR-like number blanked out."""

    __tablename__ = "source_health"

    source: str = Field(primary_key=True, max_length=64)
    ok: bool
    detail: str = Field(max_length=500)
    latency_ms: float | None = None
    checked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    checked_by: str = Field(max_length=200)  # the instance that ran the check
