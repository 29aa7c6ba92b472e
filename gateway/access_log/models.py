"""Access-log tables. `body` (canonical JSON) is the truth; the other columns index it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from gateway.db_types import UTCDateTime

GENESIS_HASH = "0" * 64


class AccessEntryRow(SQLModel, table=True):
    __tablename__ = "access_entry"
    __table_args__ = (
        Index("ix_access_entry_citizen_hash", "citizen_hash"),
        Index("ix_access_entry_actor", "actor_subject"),
        Index("ix_access_entry_at", "at"),
    )

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    action: str = Field(max_length=40)
    outcome: str = Field(max_length=16)
    actor_subject: str | None = Field(default=None, max_length=200)
    actor_department: str | None = Field(default=None, max_length=64)
    citizen_hash: str | None = Field(default=None, max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=64)


class LogHeadRow(SQLModel, table=True):
    """One row: the chain's length and last hash. Locking it serialises appends."""

    __tablename__ = "log_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    head_hash: str = Field(max_length=64)
