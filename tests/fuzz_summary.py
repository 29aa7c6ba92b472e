"""Counts from the fuzz targets, and the summary `make fuzz` ends with.

Each target records one line per run (target, examples, failures; for the API fuzzer also the
operations and the role or token kind sent) in the file HELHED_FUZZ_TALLY names; without it,
nothing is written (a plain `make test`).
Loaded as a pytest plugin (`-p tests.fuzz_summary`), it also records each failed test as a
failure of its target. `python tests/fuzz_summary.py FILE` prints one line per target and a
total line, and exits 1 when any target failed or recorded nothing.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

TALLY_ENV = "HELHED_FUZZ_TALLY"


def target_of(nodeid: str) -> str:
    """`api` for the API fuzzer's tests, `input <test>` for each input target, else the
    module's name (`crash_consistency`)."""
    module, _, test = nodeid.partition("::")
    if module.endswith("test_api_fuzz.py"):
        return "api"
    if module.endswith("test_input_fuzz.py"):
        return f"input {test.split('[')[0].removeprefix('test_')}"
    return Path(module).stem.removeprefix("test_")


def pytest_runtest_logreport(report: Any) -> None:
    """Each test's outcome, counted against its target (its examples are counted by the test)."""
    if report.when == "call" or report.failed:
        record(target_of(report.nodeid), examples=0, failures=int(report.failed), tests=1)


def record(
    target: str,
    *,
    examples: int,
    failures: int = 0,
    operations: int = 0,
    kind: str = "",
    tests: int = 0,
) -> None:
    path = os.environ.get(TALLY_ENV)
    if not path:
        return
    line = {
        "target": target,
        "examples": examples,
        "failures": failures,
        "operations": operations,
        "kind": kind,
        "tests": tests,
    }
    with Path(path).open("a", encoding="utf-8") as tally:
        tally.write(json.dumps(line) + "\n")


def summarise(lines: list[dict[str, int | str]]) -> tuple[list[str], bool]:
    targets: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    kinds: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        name = str(line["target"])
        counts = targets[name]
        counts["tests"] += int(line.get("tests", 0))
        counts["examples"] += int(line["examples"])
        counts["failures"] += int(line["failures"])
        counts["operations"] = max(counts["operations"], int(line.get("operations", 0)))
        if line.get("kind"):
            kinds[name].add(str(line["kind"]))
    out = []
    for name in sorted(targets):
        c = targets[name]
        api = (
            f", {c['operations']} operations x {len(kinds[name])} roles and token kinds"
            if c["operations"]
            else ""
        )
        out.append(
            f"  {name}: {c['examples']} examples in {c['tests']} tests{api}, "
            f"{c['failures']} failures"
        )
    examples = sum(c["examples"] for c in targets.values())
    failures = sum(c["failures"] for c in targets.values())
    ok = bool(targets) and failures == 0
    out.append(
        f"FUZZ {'OK' if ok else 'FAILED'}: {len(targets)} targets, {examples} examples, "
        f"{failures} failures"
    )
    return out, ok


def main(path: str) -> int:
    file = Path(path)
    text = file.read_text(encoding="utf-8") if file.exists() else ""
    lines, ok = summarise([json.loads(line) for line in text.splitlines() if line.strip()])
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
