"""Retention: prune entry bodies past the retention period (placeholder, filled below)."""

from __future__ import annotations

from gateway.runtime import Runtime


def prune_expired(*, runtime: Runtime) -> None:
    return None
