"""JSON read fast, with the standard library's answer wherever orjson would give another.

orjson reads JSON several times faster than `json` (a source's answer on every view, six JSON
columns per consent) but differs in three ways: it refuses what is not UTF-8, NaN and
Infinity, and it reads an integer too large for 64 bits as a float, silently (a 20-digit case
number would lose its last digits). Text with a run of 19 digits or more therefore goes to
`json.loads` unread by orjson, as does text orjson refuses: the same value, or the same error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# 2**63 has 19 digits: a shorter integer fits in 64 bits. A long run of digits inside a string
# or a fraction sends the text to the standard library too, which costs time, not correctness.
_LONG_DIGITS = re.compile(r"[0-9]{19}")
_LONG_DIGITS_BYTES = re.compile(rb"[0-9]{19}")


def loads(text: str | bytes) -> Any:
    """`json.loads(text)`: the same value, or the same error (a ValueError)."""
    long_digits = _LONG_DIGITS_BYTES if isinstance(text, bytes) else _LONG_DIGITS
    if long_digits.search(text) is None:  # type: ignore[arg-type]
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
