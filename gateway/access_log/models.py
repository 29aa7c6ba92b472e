"""Access-log tables. `body` (canonical JSON) is the truth; the other columns index it.

`access_entry.hash` is the entry's Merkle leaf hash (hex); `merkle_node` keeps every completed
interior node of the tree, so roots and proofs read O(log n) rows; `log_head` is the one row
that appends lock; `log_checkpoint` keeps the signed tree heads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, SmallInteger, Text
from sqlmodel import Field, SQLModel

from gateway.db_types import UTCDateTime

GENESIS_HASH = "0" * 64
PRUNED = ""  # the body of an entry whose retention period has passed


class AccessEntryRow(SQLModel, table=True):
    __tablename__ = "access_entry"
    __table_args__ = (
        Index("ix_access_entry_citizen_hash", "citizen_hash"),
        Index("ix_access_entry_actor_at", "actor_subject", "at"),
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


class MerkleNodeRow(SQLModel, table=True):
    """A completed interior node: the perfect subtree of 2**level leaves from idx * 2**level."""

    __tablename__ = "merkle_node"

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LogHeadRow(SQLModel, table=True):
    """One row: the tree's size and root. Locking it serialises appends."""

    __tablename__ = "log_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    head_hash: str = Field(max_length=64)
    pruned_through: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "log_checkpoint"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    key_id: str = Field(max_length=100)
    note: str = Field(sa_column=Column(Text, nullable=False))
