"""`make bench`: the whole benchmark suite, one command (issue 11).

Starts what it needs (canned sources, the gateway as `helhed serve` processes, the bare proxy,
PostgreSQL when one answers), runs each workload for a fixed time with the load generator in a
process of its own, and writes bench/results/suite.json and bench/results/RESULTS.md:

  1 overhead   views/s and p50/p95/p99 of the full gateway (consent decision, fan-out, merge,
               durable log entry) against bench/bare_proxy.py on the same four zero-latency
               sources, same run, alternating rounds; the ratio is the headline
  2 fan-out    latency with 4 and 16 sources that each answer after 50 ms, against the floor
               (the slowest source asked directly through its adapter)
  3 log        appends/s with 1, 8 and 64 concurrent writers; verification per million entries
  4 scale-out  1, 2 and 4 gateway processes on one PostgreSQL: views/s and p99
  5 size       view latency with 1,000,000 log entries and 100,000 consents stored, against an
               empty database

    .venv/bin/python bench/suite.py [--quick] [--only overhead,fanout,...] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import ROOT
from bench.report import write_reports
from bench.workloads import (
    Setup,
    fanout_workload,
    log_workload,
    overhead_workload,
    scale_workload,
    size_workload,
)

WORKLOADS: dict[str, Callable[[Setup], dict[str, Any]]] = {
    "overhead": overhead_workload,
    "fanout": fanout_workload,
    "log": log_workload,
    "scale": scale_workload,
    "size": size_workload,
}


def postgres_url() -> str | None:
    found = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "find_postgres.py")],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return found or None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="every workload, briefly")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    parser.add_argument("--seconds", type=float, default=None, help="per measured run")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--compare", type=Path, default=None, help="another checkout's gateway, in the same rounds"
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "workloads": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        setup = Setup(
            tmp=Path(tmp),
            quick=args.quick,
            seconds=args.seconds or (2.0 if args.quick else 10.0),
            postgres=None if args.no_postgres else postgres_url(),
            compare=args.compare,
        )
        for name in chosen:
            started = time.perf_counter()
            print(f"== {name}", flush=True)
            results["workloads"][name] = WORKLOADS[name](setup)
            results["workloads"][name]["wall_seconds"] = round(time.perf_counter() - started, 1)
            print(json.dumps(results["workloads"][name], indent=1), flush=True)
    out = Path(args.out)
    json_path, md_path = write_reports(results, out)
    print(f"written to {json_path} and {md_path}")


if __name__ == "__main__":
    main()
