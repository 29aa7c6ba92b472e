"""Where a citizen view's time goes: py-spy samples a `helhed serve` process (every thread,
GIL holders only) while the load generator keeps 16 clients busy on canned sources.

    .venv/bin/pip install py-spy   (not a dependency: a tool for whoever profiles)
    .venv/bin/python bench/profile_view.py [--seconds 15] [--database-url URL] [--target T]

Writes bench/results/profile.txt (with `--target bare` or `typed`, the yardstick proxy's, in
profile-bare.txt or profile-typed.txt): a view's time by stage (token, consent, sources, mapping,
log, insights, serialisation, framework), then the functions holding the GIL most, by own and
total time.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fanout import four_delayed_sources
from bench.processes import (
    PIDS,
    bare_proxy,
    canned_sources,
    gateways,
    load,
    sign_in,
    typed_proxy,
)
from bench.workloads import VIEW, caseworker_headers, caseworker_tokens, open_every_department

# Where a view's CPU goes, by stage: each sample counts for the first stage whose frame is on
# its stack (mapping before the source call that runs it, and so on).
STAGES = (
    ("sources' records mapped to fragments", ("FragmentMapping.map_document",)),
    ("SOAP answers parsed and read", ("SoapXmlAdapter._read",)),
    ("calls to sources (aiohttp, resilience)", ("Resilient.fetch", "_ask (gateway/views/fanout")),
    ("view serialised to JSON", ("model_dump_json",)),
    ("access token verified", ("bearer_actor",)),
    ("limits and consents read", ("_limits_and_consents", "flag_burst")),
    ("consent decision and release", ("decide (consent", "release_permitted", "consent_needed")),
    ("access log entry written", ("record_access", "GroupCommitter")),
    ("insights (timeline, overlaps, cost, ...)", ("build_insights",)),
    ("merge and coverage", ("_assemble", "group_by_department", "freshness_by_source")),
    ("the view's own steps (worker threads, tasks)", ("build_citizen_view",)),
    ("request log line and metrics", ("RequestContextMiddleware._observe",)),
    ("HTTP server, FastAPI, middleware", ("run_asgi",)),
)
OTHER = "event loop, socket callbacks, other"


def _stacks(collapsed: Path) -> Iterator[tuple[str, int]]:
    """(stack, samples) per line of py-spy's raw output."""
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        yield stack, int(count)


def stage_table(collapsed: Path, views: float, rate: int) -> str:
    """Each stage's share of the process's GIL time, and its microseconds per view (`views`
    served while sampling at `rate` a second; the profiler's own cost is in the figures)."""
    counts: collections.Counter[str] = collections.Counter()
    samples = 0
    for stack, n in _stacks(collapsed):
        samples += n
        stage = next((name for name, marks in STAGES if any(m in stack for m in marks)), OTHER)
        counts[stage] += n
    rows = ["| stage | share | us per view |", "| --- | ---: | ---: |"]
    for name in [*(name for name, _ in STAGES), OTHER]:
        share = counts[name] / samples if samples else 0.0
        per_view = share * samples / rate / views * 1e6 if views else 0.0
        rows.append(f"| {name} | {100 * share:.1f}% | {per_view:,.0f} |")
    return "\n".join(rows)


def summarise(collapsed: Path, top: int = 45) -> str:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for stack, n in _stacks(collapsed):
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


@contextlib.contextmanager
def _server(target: str, home: Path, url: str, configs: list[dict[str, Any]]) -> Iterator[str]:
    if target == "bare":
        with bare_proxy(configs) as proxy:
            yield proxy
    elif target == "typed":
        with typed_proxy(configs) as proxy:
            yield proxy
    else:
        with gateways(home, url, configs) as (gateway,):
            yield gateway


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rate", type=int, default=250, help="samples a second")
    parser.add_argument(
        "--target",
        choices=("gateway", "bare", "typed"),
        default="gateway",
        help="the server sampled: the gateway, or a yardstick (bench/bare_proxy.py, "
        "bench/typed_proxy.py) for the same stages beside it",
    )
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = Path(__file__).parent / "results"
    suffix = "" if args.target == "gateway" else f"-{args.target}"  # profile-bare.txt, ...
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, canned_sources(0.0) as demo:
        home = Path(tmp) / "home"
        configs = four_delayed_sources(demo)
        headers, tokens = caseworker_headers(home), caseworker_tokens(home)
        url = args.database_url or f"sqlite:///{tmp}/profile.db"
        with _server(args.target, home, url, configs) as gateway:
            if args.target == "gateway":
                open_every_department(gateway, headers)
                sign_in([gateway], body=VIEW, tokens=tokens)
            pid = PIDS[gateway]
            raw = out / f"profile{suffix}.collapsed"
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
    views = float(figures["views_per_s"]) * args.seconds  # type: ignore[arg-type]
    report = f"{figures}\n\n{stage_table(raw, views, args.rate)}\n\n{summarise(raw)}"
    (out / f"profile{suffix}.txt").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
