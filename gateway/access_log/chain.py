"""Canonical JSON: keys sorted, no insignificant whitespace, ASCII only, so an entry's bytes
never depend on the platform or the database's text encoding."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
