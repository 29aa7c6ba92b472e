"""Instructions per citizen view, counted by valgrind's callgrind: a figure the machine's speed
does not move, for changes too small for views/s to show (on this shared 2-core host views/s
and CPU time drift by 10% from one run to the next; two counts agree within about 0.7%).

    .venv/bin/python bench/instructions.py [--views 100] [--compare CHECKOUT] [--no-yardsticks]

The gateway's app is called in process as ASGI, so the count covers its middlewares, routing,
dependencies, the token check, the view (limits and consents read, decision, fan-out, mapping,
release, the durable log entry, insights), its JSON and its request log line, but not uvicorn's
HTTP parsing or the kernel's socket work. It runs on SQLite, against the canned sources in a
process of their own (not counted), four views at a time. The two yardsticks of the overhead
workload (bench/bare_proxy.py, bench/typed_proxy.py) are counted the same way, in process, so
their counts over the gateway's are the headline ratio in instructions (uvicorn's access log
line, which the bare proxy writes and the gateway does not, is left out with uvicorn). Each
figure is the difference of two counted runs, one with W views (a consent recorded, every
user's token seen once) and one with W + N, divided by N: start-up and first sights cancel out.
With --compare, another checkout's gateway code is counted the same way, in the same run.
Needs valgrind (Debian's package). Writes bench/results/instructions.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging.config
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
USERS = 100  # few users, each seeing 2 views a run: within the per-user limits
CONCURRENCY = 4
SLOW_SECONDS = 60  # the most the settings allow
_COLLECTED = re.compile(r"Collected : ([0-9]+)")
_LABELS = {
    "gateway": "gateway (sqlite)",
    "bare": "bare proxy",
    "typed": "typed proxy (mapping and insights, no consent or log)",
}


# --- the counted run, in a process of its own (`--run`) -----------------------------------------


async def _call(
    app: Any,
    method: str,
    path: str,
    token: str,
    body: dict[str, Any],
    answer: list[bytes] | None = None,
) -> int:
    """One request through the ASGI app; its status. The answer's bytes are made and dropped,
    or kept in `answer`."""
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
        elif answer is not None:
            answer.append(message.get("body", b""))

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
    """One counted run: the gateway (`job["code"]`'s) or a yardstick proxy (bench/'s)."""
    sys.path.insert(0, job["code"])
    os.environ.update(job["environment"])
    import uvloop

    main = _gateway_run(job) if job["target"] == "gateway" else _proxy_run(job)
    uvloop.run(main())


def _gateway_run(job: dict[str, Any]) -> Callable[[], Coroutine[Any, Any, None]]:
    """Build the gateway, record the consent, sign every user in, then `job["views"]` views."""
    from gateway.access_log import lifecycle
    from gateway.app import create_app
    from gateway.logging_setup import logging_config
    from gateway.migrate import upgrade
    from gateway.ops.heap import settle_after_start_up
    from gateway.runtime import build_runtime
    from gateway.settings import load_settings

    settings = load_settings(None)
    # Logging as `helhed serve` sets it up: a JSON line a request, to stderr (valgrind's
    # report, read after the run, is on stderr too).
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    runtime = build_runtime(settings)
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
            name: (a.stats.failures, a.stats.last_error and a.stats.last_error.code)
            for name, a in runtime.adapters.items()
            if a.stats.failures
        }
        if failed:
            raise RuntimeError(f"sources failed during the counted run: {failed}")
        await asyncio.to_thread(lifecycle.stop, runtime)

    return main


def _proxy_run(job: dict[str, Any]) -> Callable[[], Coroutine[Any, Any, None]]:
    """bench/bare_proxy.py or bench/typed_proxy.py, in its lifespan, `job["views"]` views
    after as many as the gateway's first sights (neither checks a token)."""
    sys.path.insert(0, str(ROOT / "bench"))
    module = __import__(f"{job['target']}_proxy")
    app = module.create_app(json.loads(job["environment"]["HELHED_SOURCES"]))
    tokens = ["unused"]

    async def main() -> None:
        async with app.router.lifespan_context(app):
            await _views(app, tokens, job["view"], len(job["tokens"]))
            await _views(app, tokens, job["view"], job["views"])
            # The typed proxy answers 200 with a failed source marked in its coverage, and
            # its adapters are inside the app: a last view, in both runs, tells.
            answer: list[bytes] = []
            await _call(app, "POST", "/v1/views", "unused", job["view"], answer)
            coverage = json.loads(b"".join(answer))["coverage"]
            failed = [line["source"] for line in coverage if line["status"] != "included"]
            if failed:
                raise RuntimeError(f"sources failed during the counted run: {failed}")

    return main


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


def _per_view(
    target: str, code: Path, configs: list[dict[str, Any]], views: int, users: int, tmp: Path
) -> dict[str, Any]:
    from bench.processes import gateway_env
    from bench.workloads import VIEW, caseworker_token, every_department_opened
    from gateway.settings import load_settings

    counts = []
    for label, count in (("start", 0), ("views", views)):
        run_dir = tmp / f"{target}-{label}"
        run_dir.mkdir(parents=True)
        home = run_dir / "home"
        settings = load_settings(None, home=home)

        # Under callgrind the gateway runs some 30 times slower: its timeouts are stretched
        # alike, so that no source is cut off (which would make a view cheaper).
        slow = [{**config, "timeout": SLOW_SECONDS} for config in configs]
        environment = {
            **gateway_env(home, f"sqlite:///{run_dir}/helhed.db", slow),
            "HELHED_VIEW_DEADLINE_SECONDS": str(SLOW_SECONDS),
            "HELHED_SOURCE_TIMEOUT_SECONDS": str(SLOW_SECONDS),
        }
        job = {
            "target": target,
            "code": str(code),
            "environment": environment,
            "recorder": caseworker_token(settings, "recorder"),
            "consent": every_department_opened(),
            "tokens": [caseworker_token(settings, f"caseworker-{n}") for n in range(users)],
            "view": VIEW,
            "views": count,
        }
        counts.append(_counted(job, run_dir, label))
    return {
        "target": target,
        "code": str(code),
        "views": views,
        "instructions_start": counts[0],
        "instructions_with_views": counts[1],
        "instructions_per_view": round((counts[1] - counts[0]) / views),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views", type=int, default=100)
    parser.add_argument("--users", type=int, default=USERS, help=argparse.SUPPRESS)
    parser.add_argument("--compare", type=Path, default=None, help="another checkout's gateway")
    parser.add_argument(
        "--no-yardsticks", action="store_true", help="only the gateway, not the two proxies"
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep callgrind's files here (callgrind_annotate)"
    )
    parser.add_argument("--run", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if args.run is not None:
        run(json.loads(args.run.read_text()))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    sys.path.insert(0, str(ROOT))
    from bench.fanout import four_delayed_sources
    from bench.processes import canned_sources

    targets = [("gateway", ROOT)]
    if args.compare:
        targets.append(("gateway", args.compare.resolve()))
    if not args.no_yardsticks:
        targets += [("bare", ROOT), ("typed", ROOT)]
    with tempfile.TemporaryDirectory() as scratch, canned_sources(0.0) as demo:
        tmp = args.keep.resolve() if args.keep else Path(scratch)
        configs = four_delayed_sources(demo)
        results = [
            _per_view(target, code, configs, args.views, args.users, tmp / str(number))
            for number, (target, code) in enumerate(targets)
        ]
    bare = next((r["instructions_per_view"] for r in results if r["target"] == "bare"), None)
    print("| measure | instructions a view | bare proxy's over this |")
    print("| --- | ---: | ---: |")
    for result in results:
        label = _LABELS[result["target"]]
        if result["target"] == "gateway" and result["code"] != str(ROOT):
            label = f"gateway, compared code ({result['code']})"
        count = result["instructions_per_view"]
        ratio = f"{bare / count:.3f}" if bare else ""
        print(f"| {label} | {count:,} | {ratio} |")
    gateways = [r["instructions_per_view"] for r in results if r["target"] == "gateway"]
    if len(gateways) == 2:
        change = 100 * (gateways[0] / gateways[1] - 1)
        print(f"\nthis checkout's gateway against the other's: {change:+.1f}%")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "instructions.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
