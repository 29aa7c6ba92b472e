"""Instructions per citizen view, counted by valgrind's callgrind: a figure the machine's speed
does not move, for changes too small for views/s to show (on this shared 2-core host views/s
and CPU time drift by 10% from one run to the next; two counts agree within about 0.5%).

    .venv/bin/python bench/instructions.py [--views 100] [--compare CHECKOUT]

The gateway's app is called in process as ASGI, so the count covers its middlewares, routing,
dependencies, the token check, the view (limits and consents read, decision, fan-out, mapping,
release, the durable log entry, insights) and its JSON, but not uvicorn's HTTP parsing or the
kernel's socket work. It runs on SQLite, against the canned sources in a process of their own
(not counted), four views at a time. Each figure is the difference of two counted runs, one
with W views (a consent recorded, every user's token seen once) and one with W + N, divided by
N: start-up and first sights cancel out. With --compare, another checkout's gateway code is
counted the same way, in the same run. Needs valgrind (Debian's package). Writes
bench/results/instructions.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
USERS = 100  # few users: minting tokens under callgrind is slow, and each sees 2 views a run
CONCURRENCY = 4
SLOW_SECONDS = 60  # the most the settings allow
_COLLECTED = re.compile(r"Collected : ([0-9]+)")


# --- the counted run, in a process of its own (`--run`) -----------------------------------------


async def _call(app: Any, method: str, path: str, token: str, body: dict[str, Any]) -> int:
    """One request through the ASGI app; its status (the answer's bytes are made and dropped)."""
    payload = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _views(app: Any, tokens: list[str], view: dict[str, Any], count: int) -> None:
    turn = iter(range(count))

    async def client() -> None:
        for n in turn:
            status = await _call(app, "POST", "/v1/views", tokens[n % len(tokens)], view)
            if status != 200:
                raise RuntimeError(f"a view answered {status}")

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))


def run(job: dict[str, Any]) -> None:
    """Build the gateway from `job["code"]`, record the consent, sign every user in, then
    `job["views"]` views."""
    sys.path.insert(0, job["code"])
    os.environ.update(job["environment"])
    import uvloop

    from gateway.access_log import lifecycle
    from gateway.app import create_app
    from gateway.migrate import upgrade
    from gateway.ops.heap import settle_after_start_up
    from gateway.runtime import build_runtime
    from gateway.settings import load_settings

    runtime = build_runtime(load_settings(None))
    upgrade(runtime.engine)  # as `helhed serve` does first
    app = create_app(runtime)
    tokens: list[str] = job["tokens"]

    async def main() -> None:
        lifecycle.start(runtime)  # the log's checkpoints; no scheduler: its jobs would count
        status = await _call(app, "POST", "/v1/consents", job["recorder"], job["consent"])
        if status != 201:
            raise RuntimeError(f"the consent answered {status}")
        await _views(app, tokens, job["view"], len(tokens))  # each token's first sight
        settle_after_start_up()
        await _views(app, tokens, job["view"], job["views"])
        await asyncio.gather(*(a.aclose() for a in runtime.adapters.values()))
        # A view whose source failed is cheaper: a count with one is not a result.
        failed = {
            name: a.stats.failures for name, a in runtime.adapters.items() if a.stats.failures
        }
        if failed:
            raise RuntimeError(f"sources failed during the counted run: {failed}")

    uvloop.run(main())
    lifecycle.stop(runtime)


# --- the orchestration -------------------------------------------------------------------------


def _counted(job: dict[str, Any], tmp: Path, name: str) -> int:
    """Instructions of one run of `job` under callgrind (every thread of the process)."""
    job_file = tmp / f"{name}.json"
    job_file.write_text(json.dumps(job))
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp / name}.out",
         sys.executable, str(Path(__file__).resolve()), "--run", str(job_file)],
        capture_output=True, text=True, cwd=job["code"], check=False,
    )  # fmt: skip
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"the counted run failed:\n{done.stderr[-3000:]}")
    return int(found.group(1))


def _per_view(code: Path, configs: list[dict[str, Any]], views: int, tmp: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bench.processes import gateway_env
    from bench.workloads import CATEGORIES, CITIZEN, VIEW
    from gateway.auth.dev_issuer import mint_token
    from gateway.settings import load_settings
    from tests.builders import consent_body

    counts = []
    for label, count in (("start", 0), ("views", views)):
        run_dir = tmp / f"{code.name}-{label}"
        run_dir.mkdir(parents=True)
        home = run_dir / "home"
        settings = load_settings(None, home=home)

        def token(subject: str, settings: Any = settings) -> str:
            return mint_token(settings, subject=subject, roles=["caseworker"],
                              department="adult-social", ttl_seconds=4 * 3600)  # fmt: skip

        # Under callgrind the gateway runs some 30 times slower: its timeouts are stretched
        # alike, so that no source is cut off (which would make a view cheaper).
        slow = [{**config, "timeout": SLOW_SECONDS} for config in configs]
        environment = {
            **gateway_env(home, f"sqlite:///{run_dir}/helhed.db", slow),
            "HELHED_VIEW_DEADLINE_SECONDS": str(SLOW_SECONDS),
            "HELHED_SOURCE_TIMEOUT_SECONDS": str(SLOW_SECONDS),
        }
        job = {
            "code": str(code),
            "environment": environment,
            "recorder": token("recorder"),
            "consent": consent_body(
                CITIZEN,
                from_departments=["jobcenter", "children-family", "health"],
                to_departments=["adult-social"],
                categories=CATEGORIES,
            ),
            "tokens": [token(f"caseworker-{n}") for n in range(USERS)],
            "view": VIEW,
            "views": count,
        }
        counts.append(_counted(job, run_dir, label))
    return {
        "code": str(code),
        "views": views,
        "instructions_start": counts[0],
        "instructions_with_views": counts[1],
        "instructions_per_view": round((counts[1] - counts[0]) / views),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views", type=int, default=100)
    parser.add_argument("--compare", type=Path, default=None, help="another checkout's gateway")
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep callgrind's files here (callgrind_annotate)"
    )
    parser.add_argument("--run", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run is not None:
        run(json.loads(args.run.read_text()))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    sys.path.insert(0, str(ROOT))
    from bench.fanout import four_delayed_sources
    from bench.processes import canned_sources

    codes = [ROOT] + ([args.compare.resolve()] if args.compare else [])
    with tempfile.TemporaryDirectory() as scratch, canned_sources(0.0) as demo:
        tmp = args.keep.resolve() if args.keep else Path(scratch)
        configs = four_delayed_sources(demo)
        results = []
        for number, code in enumerate(codes):
            results.append(_per_view(code, configs, args.views, tmp / str(number)))
    print("| code | views counted | instructions a view |")
    print("| --- | ---: | ---: |")
    for result in results:
        print(f"| {result['code']} | {result['views']} | {result['instructions_per_view']:,} |")
    if len(results) == 2:
        change = results[0]["instructions_per_view"] / results[1]["instructions_per_view"] - 1
        print(f"\nthis checkout against the other: {100 * change:+.1f}%")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "instructions.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
