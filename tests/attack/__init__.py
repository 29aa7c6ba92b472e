"""The attack suite (issue 12): what a security reviewer would throw at the gateway.

`make test` runs every target with a bounded number of examples; `make fuzz` sets HELHED_FUZZ
to `long` and runs many more (and records counts for its summary, see tests/fuzz_summary.py).
"""

from __future__ import annotations

import os

LONG = os.environ.get("HELHED_FUZZ") == "long"


def examples(short: int, long: int) -> int:
    """Examples per target: `short` inside `make test`, `long` under `make fuzz`."""
    return long if LONG else short
