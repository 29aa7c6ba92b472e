"""The database connection pool's settings (`[database]`, HELHED_DATABASE__* in the environment).

Each gateway process (each `--workers` worker too) has pools of its own; PostgreSQL's
`max_connections` must cover instances x workers x (pool_size + max_overflow + read_pool_size +
read_max_overflow + 1), the one being the access log's group committer, which keeps a
connection of its own. The read pool serves a view's two short reads on the event loop.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PoolSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pool_size: int = Field(
        default=10, ge=1, le=1000, description="Connections each process keeps open"
    )
    max_overflow: int = Field(
        default=20, ge=0, le=1000, description="Extra connections opened under load, then closed"
    )
    read_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="PostgreSQL: connections each process keeps open for a view's reads, made "
        "on the event loop",
    )
    read_max_overflow: int = Field(
        default=20, ge=0, le=1000, description="PostgreSQL: extra read connections under load"
    )
    pool_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="How long a request waits for a free connection before it fails (503)",
    )
    connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description="PostgreSQL: longest wait to connect, and for sent data to be acknowledged "
        "(a cut cable, a dead host); past it the request fails cleanly (503), never hangs",
    )
    lock_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="SQLite: how long a write waits for another process's lock on the file "
        "before it fails cleanly (503)",
    )
