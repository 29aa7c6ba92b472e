"""`python bench/load.py --url U [--url U2 ...] --seconds S --concurrency C --body JSON`

The load generator, in a process of its own so that it does not share an interpreter with what
it measures: C clients, each on its own keep-alive connection, post the body to /v1/views back
to back for S seconds after a warm-up (client i asks URL i mod the number of URLs, so several
gateway processes get an equal share). With --tokens FILE (one access token a line) each
request is sent as the next user in the file, as many caseworkers would send them, so each
user stays within the per-user limits; with --each-token-once, each user once and no more.
Prints one line of JSON: views/s, latency percentiles, and the count of answers that were not
200 (a benchmark with errors is not a result).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp


def percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    cut = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(cut[49] * 1000, 1),
        "p95_ms": round(cut[94] * 1000, 1),
        "p99_ms": round(cut[98] * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
    }


async def client(
    url: str,
    body: bytes,
    headers: dict[str, str],
    until: float,
    warm_until: float,
    users: Iterator[str] | None,
) -> tuple[list[float], int, str | None, int]:
    samples: list[float] = []
    errors, last_error, answered = 0, None, 0
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        while (started := time.perf_counter()) < until:
            if users is not None:
                token = next(users, None)
                if token is None:  # --each-token-once, and every token has been sent
                    break
                headers = {**headers, "Authorization": f"Bearer {token}"}
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                ok = response.status == 200
                answered += ok
                if not ok:
                    last_error = f"{response.status} {(await response.text())[:200]}"
            if started >= warm_until:
                if ok:
                    samples.append(time.perf_counter() - started)
                else:
                    errors += 1
    return samples, errors, last_error, answered


async def run(args: argparse.Namespace) -> dict[str, object]:
    headers = {"Content-Type": "application/json", **dict(h.split(": ", 1) for h in args.header)}
    body = args.body.encode()
    users: Iterator[str] | None = None
    if args.users:
        users = iter(args.users) if args.each_token_once else itertools.cycle(args.users)
    begin = time.perf_counter()
    warm_until = begin + args.warmup
    until = warm_until + args.seconds
    results = await asyncio.gather(
        *(
            client(args.url[i % len(args.url)], body, headers, until, warm_until, users)
            for i in range(args.concurrency)
        )
    )
    measured = time.perf_counter() - warm_until
    samples = [s for r in results for s in r[0]]
    errors = sum(r[1] for r in results)
    return {
        "concurrency": args.concurrency,
        "servers": len(args.url),
        "seconds": round(measured, 2),
        "views": len(samples),
        "answered": sum(r[3] for r in results),  # with the warm-up's: what the servers did
        "errors": errors,
        "last_error": next((r[2] for r in results if r[2]), None),
        "views_per_s": round(len(samples) / measured, 1),
        **percentiles(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--body", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--tokens", default=None, help="a file of access tokens, one a line")
    parser.add_argument(
        "--each-token-once",
        action="store_true",
        help="send each token once, then stop (every user signed in before a measured run)",
    )
    args = parser.parse_args()
    if args.each_token_once and not args.tokens:
        parser.error("--each-token-once needs --tokens")
    args.users = (
        [line.strip() for line in Path(args.tokens).read_text("ascii").splitlines() if line]
        if args.tokens
        else []
    )
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
