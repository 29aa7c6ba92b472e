"""Where a citizen view's time goes: py-spy samples a `helhed serve` process (every thread,
GIL holders only) while the load generator keeps 16 clients busy on canned sources.

    .venv/bin/pip install py-spy   (not a dependency: a tool for whoever profiles)
    .venv/bin/python bench/profile_view.py [--seconds 15] [--database-url URL]

Writes bench/results/profile.txt: the functions holding the GIL most, by own and total time.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fanout import four_delayed_sources
from bench.processes import PIDS, canned_sources, gateways, load
from bench.workloads import VIEW, caseworker_headers, caseworker_tokens, open_every_department


def summarise(collapsed: Path, top: int = 45) -> str:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        samples += n
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1] for f in stack.split(";")[1:]]
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    out = [f"{samples} samples\n", "own %   function"]
    out += [f"{100 * n / samples:5.1f}  {f}" for f, n in own.most_common(top)]
    out += ["", "total % function"]
    out += [f"{100 * n / samples:5.1f}  {f}" for f, n in total.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rate", type=int, default=250, help="samples a second")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, canned_sources(0.0) as demo:
        home = Path(tmp) / "home"
        configs = four_delayed_sources(demo)
        headers, tokens = caseworker_headers(home), caseworker_tokens(home)
        url = args.database_url or f"sqlite:///{tmp}/profile.db"
        with gateways(home, url, configs) as (gateway,):
            open_every_department(gateway, headers)
            pid = PIDS[gateway]
            raw = out / "profile.collapsed"
            recorder = subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--duration", str(int(args.seconds)),
                 "--format", "raw", "--rate", str(args.rate), "--gil", "--threads",
                 "--output", str(raw)],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            figures: dict[str, object] = {}
            worker = threading.Thread(
                target=lambda: figures.update(
                    load(
                        [gateway],
                        body=VIEW,
                        headers={},
                        tokens=tokens,
                        seconds=args.seconds + 2,
                        concurrency=16,
                        warmup=0,
                    )
                )
            )
            worker.start()
            recorder.wait()
            worker.join()
    report = f"{figures}\n\n{summarise(raw)}"
    (out / "profile.txt").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
