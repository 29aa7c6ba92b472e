"""The benchmark suite still runs: one brief overhead round on SQLite, so `make bench` never
rots between the runs that measure (the figures themselves are not judged here: timing)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_overhead_workload_runs_and_writes_its_reports(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "suite.py"), "--quick", "--only", "overhead",
         "--no-postgres", "--seconds", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=180, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads((tmp_path / "suite.json").read_text())["workloads"]["overhead"]["sqlite"]
    for measured in ("bare", "typed", "gateway"):
        assert figures[measured]["views"] > 0, figures
        assert figures[measured]["p50_ms"] <= figures[measured]["p99_ms"]
        assert figures[measured]["cpu_ms_per_view"] > 0, figures  # read from /proc
    assert figures["ratio"] > 0
    assert figures["cpu ratio"] > 0
    assert figures["ratio to typed"] > 0  # the typed proxy answered views, the gateway's shape
    assert "**ratio (sqlite)**" in (tmp_path / "RESULTS.md").read_text()


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="bench/instructions.py needs valgrind")
def test_the_instruction_count_runs_and_writes_its_report(tmp_path: Path) -> None:
    """Two views counted with two users: the figures are not judged (too few to be steady),
    only that a counted run completes with every source answering and writes its JSON."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "instructions.py"), "--views", "2", "--users", "2",
         "--no-yardsticks", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (result,) = json.loads((tmp_path / "instructions.json").read_text())
    assert result["target"] == "gateway"
    assert result["instructions_with_views"] > result["instructions_start"] > 0
    assert "| gateway (sqlite) |" in done.stdout
