"""Adapters: the protocol every department system is reached through, and the built-in kinds."""

from adapters.protocol import (
    PROTOCOL_VERSION,
    Adapter,
    FetchRequest,
    FetchResult,
    Health,
    Rejection,
    SourceConfig,
    SourceUnavailable,
)

__all__ = [
    "PROTOCOL_VERSION",
    "Adapter",
    "FetchRequest",
    "FetchResult",
    "Health",
    "Rejection",
    "SourceConfig",
    "SourceUnavailable",
]
