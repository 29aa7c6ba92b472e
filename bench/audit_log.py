"""The access log's speed: appends, full verification and proofs, on SQLite and PostgreSQL.

  appends/s     record_access from 1 and 8 writer threads through the group commit, each call
                returning only once its entry is durable (SQLite: WAL, synchronous=FULL;
                PostgreSQL: fsync on, synchronous_commit on); and from two processes of 4
                writers on one log, as two gateway instances append
  verify 1M     `helhed audit verify`'s work (verify_log) over a log of --million entries
  proof         produce one inclusion proof from the database at that size, and check it
  proof size    hashes per proof and bytes of its JSON

Entries are a realistic mix: half citizen views with 12 release lines, half consent searches.
Prints a table and writes bench/results/audit_log.json.
    .venv/bin/python bench/audit_log.py [--appends 5000] [--million 1000000]
                                        [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.access_log import lifecycle, merkle, proofs
from gateway.access_log.entries import write_entries
from gateway.access_log.service import AccessEvent, AuditContext, _draft, record_access
from gateway.access_log.verify import verify_log
from gateway.db import read_session, write_session
from gateway.migrate import upgrade
from gateway.runtime import Runtime, build_runtime
from gateway.settings import load_settings, normalize_database_url
from schemas.access import Action, ActorRecord, Outcome, ReleaseLine

console = Console(width=110)  # the table whole, also when piped to a file

CONTEXT = AuditContext(
    actor=ActorRecord(
        subject="maja.holm",
        name="Maja Holm",
        department="children-family",
        roles=["caseworker"],
        client="10.1.2.3",
        token_id=uuid.uuid4().hex,
    ),
    request_id=uuid.uuid4().hex,
    instance="bench:1",
)
LINES = [
    ReleaseLine(
        source=f"{department}-system",
        department=department,
        category=category,
        decision="permit",
        reason="consent",
        status="released",
        fragments=2,
    )
    for department in ("jobcenter", "adult-social", "health")
    for category in ("case-overview", "interventions", "benefits", "plans-goals")
]


def event(n: int) -> AccessEvent:
    if n % 2:
        return AccessEvent(
            action=Action.CONSENT_SEARCH, outcome=Outcome.SUCCESS, citizen="0101901234"
        )
    return AccessEvent(
        action=Action.VIEW,
        outcome=Outcome.SUCCESS,
        citizen="1203911234",
        purpose="coordinated-plan",
        released=LINES,
        detail={"n": n},
    )


def fresh_postgres(admin_url: str) -> tuple[str, str]:
    name = f"helhed_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(normalize_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def drop_postgres(admin_url: str, name: str) -> None:
    engine = create_engine(normalize_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def runtime_for(home: Path, database_url: str) -> Runtime:
    runtime = build_runtime(load_settings(None, home=home, database_url=database_url))
    upgrade(runtime.engine)
    lifecycle.start(runtime)
    return runtime


def appends_per_second(runtime: Runtime, writers: int, total: int) -> float:
    each = total // writers

    def write(_writer: int) -> None:
        for n in range(each):
            record_access(
                engine=runtime.engine,
                protector=runtime.protector,
                context=CONTEXT,
                event=event(n),
                now=runtime.clock.now(),
            )

    started = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))
    return each * writers / (time.perf_counter() - started)


def writer_process(home: str, url: str, count: int, writers: int) -> None:
    """One gateway process of several appending to one log: prints when its writing began and
    ended (wall clock, so the parent can line processes up) and how many it wrote."""
    runtime = build_runtime(load_settings(None, home=Path(home), database_url=url))
    lifecycle.start(runtime)
    record_access(  # connect and warm up before the clock starts
        engine=runtime.engine,
        protector=runtime.protector,
        context=CONTEXT,
        event=event(0),
        now=runtime.clock.now(),
    )
    began = time.time()
    rate = appends_per_second(runtime, writers, count)
    print(json.dumps({"began": began, "ended": time.time(), "count": count, "rate": rate}))
    runtime.engine.dispose()


def several_processes(home: Path, url: str, processes: int, writers: int, total: int) -> float:
    """Appends per second of `processes` gateway processes with `writers` threads each."""
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--writer-process", *map(str, (home, url, each, writers))],
            stdout=subprocess.PIPE,
            text=True,
        )
        for each in [total // processes] * processes
    ]
    reports = [json.loads(child.communicate(timeout=600)[0]) for child in children]
    if any(child.returncode for child in children):
        raise RuntimeError("a writer process failed")
    span = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    return sum(r["count"] for r in reports) / span


def append_rates(home: Path, backend: str, make: Any, appends: int) -> dict[str, int]:
    """1 and 8 writer threads in this process, then two processes of 4 writers on one log (a
    deployment with two gateway instances), each on a fresh database."""
    rates = {}
    for label, writers, processes in (("1 writer", 1, 1), ("8 writers", 8, 1),
                                      ("2 processes x 4 writers", 4, 2)):  # fmt: skip
        runtime = runtime_for(home, make())
        if processes == 1:
            rate = appends_per_second(runtime, writers, appends)
        else:
            url = runtime.settings.sqlalchemy_url
            rate = several_processes(home, url, processes, writers, appends)
        runtime.engine.dispose()
        rates[f"{backend}, {label}"] = round(rate)
        console.print(f"{backend:8} {label}: {rate:8.0f} appends/s")
    return rates


def fill(runtime: Runtime, count: int) -> None:
    """Bulk-append through the product's own write path, 5,000 entries a transaction."""
    have = 0
    with read_session(runtime.engine) as session:
        have = session.execute(text("SELECT size FROM log_head")).scalar_one()
    signer = lifecycle.signer(runtime)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"filling to {count:,}", total=count, completed=have)
        n = have
        while n < count:
            batch = min(5000, count - n)
            drafts = [
                _draft(runtime.protector, CONTEXT, event(n + i), runtime.clock.now())
                for i in range(batch)
            ]
            with write_session(runtime.engine) as session:
                write_entries(session=session, drafts=drafts, checkpointer=signer)
            n += batch
            progress.update(task, completed=n)


def verify_seconds(runtime: Runtime, workers: int) -> tuple[float, int]:
    """What `helhed audit verify` does: the entries checked in `workers` processes."""
    keys = [key.public_key for key in runtime.signing_keys.keyring("checkpoint")]
    started = time.perf_counter()
    with read_session(runtime.engine) as session:
        report = verify_log(
            session=session,
            keys=keys,
            workers=workers,
            database_url=runtime.settings.sqlalchemy_url,
        )
    elapsed = time.perf_counter() - started
    assert report.ok, report
    return elapsed, report.entries


def proof_figures(runtime: Runtime, size: int, samples: int = 300) -> dict[str, float]:
    produce, check, sizes, counts = [], [], [], []
    with read_session(runtime.engine) as session:
        root = bytes.fromhex(session.execute(text("SELECT head_hash FROM log_head")).scalar_one())
        for seq in random.sample(range(1, size + 1), samples):
            started = time.perf_counter()
            proof = proofs.inclusion(session=session, seq=seq, tree_size=size)
            produce.append(time.perf_counter() - started)
            document = proof.model_dump_json()
            started = time.perf_counter()
            import base64

            entry = base64.b64decode(proof.entry or "")
            leaf = merkle.leaf_hash(entry)
            ok = merkle.verify_inclusion(
                index=proof.leaf_index,
                size=proof.tree_size,
                leaf=leaf,
                proof=[base64.b64decode(h) for h in proof.hashes],
                root=root,
            )
            check.append(time.perf_counter() - started)
            assert ok
            sizes.append(len(document))
            counts.append(len(proof.hashes))
    return {
        "produce_p50_ms": round(statistics.median(produce) * 1000, 3),
        "produce_p99_ms": round(sorted(produce)[int(samples * 0.99) - 1] * 1000, 3),
        "check_p50_ms": round(statistics.median(check) * 1000, 3),
        "hashes": round(statistics.mean(counts), 1),
        "proof_json_bytes": round(statistics.mean(sizes)),
    }


def body_bytes(runtime: Runtime) -> int:
    with read_session(runtime.engine) as session:
        return int(
            session.execute(
                text("SELECT avg(length(body)) FROM (SELECT body FROM access_entry LIMIT 1000) b")
            ).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appends", type=int, default=5000, help="entries per append run")
    parser.add_argument("--million", type=int, default=1_000_000, help="size for verify/proofs")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--million-on-postgres", action="store_true")
    parser.add_argument("--writer-process", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer_process:
        home, url, count, writers = args.writer_process
        writer_process(home, url, int(count), int(writers))
        return
    results: dict[str, Any] = {"appends_per_second": {}, "million": {}}
    created: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        backends = {"sqlite": lambda: f"sqlite:///{tmp}/{uuid.uuid4().hex}.db"}
        if args.postgres:

            def make_pg() -> str:
                url, name = fresh_postgres(args.postgres)
                created.append(name)
                return url

            backends["postgres"] = make_pg
        try:
            for backend, make in backends.items():
                results["appends_per_second"].update(
                    append_rates(Path(tmp), backend, make, args.appends)
                )
            million_backends = ["sqlite"] + (["postgres"] if args.million_on_postgres else [])
            for backend in million_backends:
                runtime = runtime_for(Path(tmp), backends[backend]())
                started = time.perf_counter()
                fill(runtime, args.million)
                fill_seconds = time.perf_counter() - started
                seconds, entries = verify_seconds(runtime, os.cpu_count() or 1)
                single, _ = verify_seconds(runtime, 0)
                figures = {
                    "verify_seconds_one_process": round(single, 2),
                    "entries": entries,
                    "average_entry_bytes": body_bytes(runtime),
                    "fill_seconds": round(fill_seconds, 1),
                    "verify_seconds": round(seconds, 2),
                    "verify_seconds_per_million": round(seconds * 1_000_000 / entries, 2),
                    **proof_figures(runtime, entries),
                }
                results["million"][backend] = figures
                console.print(backend, figures)
                runtime.engine.dispose()
        finally:
            for name in created:
                drop_postgres(args.postgres, name)

    table = Table(title="Access log (2-core machine)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    for name, rate in results["appends_per_second"].items():
        target = "5,000/s" if "8 writers" in name else ""
        table.add_row(f"appends/s, {name}", f"{rate:,}", target)
    for backend, figures in results["million"].items():
        table.add_row(
            f"verify, {backend}, per million",
            f"{figures['verify_seconds_per_million']} s",
            "< 10 s",
        )
        table.add_row(
            f"produce one proof, {backend} (p50 / p99)",
            f"{figures['produce_p50_ms']} / {figures['produce_p99_ms']} ms",
            "< 5 ms",
        )
        table.add_row(f"check one proof, {backend}", f"{figures['check_p50_ms']} ms", "")
        table.add_row(
            f"proof size, {backend}",
            f"{figures['hashes']} hashes, {figures['proof_json_bytes']} B JSON",
            "",
        )
        table.add_row(f"average entry, {backend}", f"{figures['average_entry_bytes']} B", "")
    console.print(table)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "audit_log.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
