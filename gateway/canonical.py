"""Canonical JSON: the bytes that get hashed (log entries) or signed (receipts) never depend on
dict order, the platform or the database's text encoding."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Keys sorted, no insignificant whitespace, ASCII only (RFC 8785 in spirit)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
