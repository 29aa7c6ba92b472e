"""What each simulated department system holds, in that system's own shape.

One module per system. The content is fictitious but written the way the real systems hold it:
Danish titles, legal bases, providers, rates and periods. The KLE codes are illustrative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Record = dict[str, Any]


def by_citizen(
    records: Iterable[Record], citizen_of: Callable[[Record], str]
) -> dict[str, list[Record]]:
    """Index a system's records by the CPR each one is about, keeping their order."""
    index: dict[str, list[Record]] = {}
    for record in records:
        index.setdefault(citizen_of(record), []).append(record)
    return index
