"""How fast is a consent decision, and what does loading the consents cost at view time?

  decide, 50 versions   the pure decision for a citizen whose one consent has 50 versions
                        (49 superseded), over 4 sources x 4 categories
  decide, 50 active     the same with 50 distinct active consents (the worst realistic case)
  load+decide           what a view pays: the citizen's consents read from a database holding
                        100,000 consents (keyed-hash look-up, decryption, validation), then decided

Prints a table and writes bench/results/consent_decision.json. Target: load+decide under 2 ms
at the 99th percentile on SQLite.
    .venv/bin/python bench/consent_decision.py [--stored 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consent.decision import AccessRequest, decide, local_day
from gateway.consents.models import ConsentRow, ConsentUsageRow
from gateway.consents.service import consents_of_citizen, to_read_model
from gateway.cpr_protection import CprProtector
from gateway.db import make_engine, read_session
from gateway.migrate import upgrade
from schemas.consent import ConsentRead

DEPARTMENTS = ["children-family", "jobcenter", "adult-social", "health"]
CATEGORIES = ["case-overview", "interventions", "benefits", "plans-goals"]
NOW = datetime.now(UTC)
TODAY = local_day(NOW)
CITIZEN = "0101901234"
BUSY_CITIZEN = "0202902345"  # 50 active consents: nothing can be filtered out by the query
REQUEST = AccessRequest(
    citizen=CITIZEN,
    requester_department="children-family",
    purpose="coordinated-plan",
    scopes=frozenset((d, c) for d in DEPARTMENTS for c in CATEGORIES),
    special_categories=frozenset({"health"}),
)


def row(citizen: str, protector: CprProtector, consent_id: str, version: int, status: str) -> dict:
    return {
        "id": consent_id,
        "version": version,
        "status": status,
        "citizen_hash": protector.lookup_hash(citizen),
        "citizen_ciphertext": protector.encrypt(citizen),
        "given_by": {"kind": "self"},
        "from_departments": random.sample(DEPARTMENTS[1:], 2),
        "to_departments": ["children-family"],
        "categories": random.sample(CATEGORIES, 3),
        "purpose": "coordinated-plan",
        "valid_from": TODAY - timedelta(days=30),
        "valid_until": TODAY + timedelta(days=300),
        "evidence": {"kind": "signed-form", "reference": f"J.nr. {version}"},
        "recorded_by": {"subject": "bench", "department": "children-family"},
        "recorded_at": NOW - timedelta(days=30),
    }


def versions_of_one(protector: CprProtector, n: int = 50) -> list[dict]:
    consent_id = str(uuid.uuid4())
    return [
        row(CITIZEN, protector, consent_id, v, "active" if v == n else "superseded")
        for v in range(1, n + 1)
    ]


def as_records(rows: list[dict], protector: CprProtector) -> list[ConsentRead]:
    return [to_read_model(ConsentRow(**r), protector, TODAY) for r in rows]


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    cut = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "n": len(samples),
        "p50_ms": round(cut[49] * 1000, 3),
        "p99_ms": round(cut[98] * 1000, 3),
        "per_second": round(len(samples) / sum(samples)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    random.seed(7)
    protector = CprProtector([("bench", b"k" * 32)], b"l" * 32)
    results: dict[str, dict[str, float]] = {}

    fifty_versions = as_records(versions_of_one(protector), protector)
    results["decide, 50 versions"] = summary(
        timed(lambda: decide(REQUEST, fifty_versions, NOW), args.repeat)
    )
    fifty_active = as_records(
        [row(CITIZEN, protector, str(uuid.uuid4()), 1, "active") for _ in range(50)], protector
    )
    results["decide, 50 active"] = summary(
        timed(lambda: decide(REQUEST, fifty_active, NOW), args.repeat)
    )

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        target = versions_of_one(protector)
        others = []
        citizens = [
            f"{random.randint(1, 28):02d}{random.randint(1, 12):02d}{random.randint(50, 99)}"
            f"{random.randint(0, 3)}{random.randint(0, 999):03d}"
            for _ in range(30_000)
        ]
        for _ in range(args.stored - len(target)):
            others.append(row(random.choice(citizens), protector, str(uuid.uuid4()), 1, "active"))
        with engine.begin() as connection:
            for start in range(0, len(others), 5000):
                connection.execute(insert(ConsentRow), others[start : start + 5000])
            connection.execute(insert(ConsentRow), target)
            connection.execute(
                insert(ConsentRow),
                [row(BUSY_CITIZEN, protector, str(uuid.uuid4()), 1, "active") for _ in range(50)],
            )
            connection.execute(
                insert(ConsentUsageRow),
                [{"consent_id": r["id"], "version": r["version"]} for r in target],
            )
        loaded_in = time.perf_counter() - started
        backend = engine.dialect.name

        def load_and_decide(citizen: str) -> None:
            with read_session(engine) as session:
                rows = consents_of_citizen(
                    session=session, protector=protector, citizen=citizen, deciding=True
                )
                records = [to_read_model(r, protector, TODAY) for r in rows]
            decide(AccessRequest(**{**REQUEST.__dict__, "citizen": citizen}), records, NOW)

        for _ in range(50):
            load_and_decide(CITIZEN)  # warm the connection pool and the page cache
        results[f"load+decide, 50 versions ({backend})"] = summary(
            timed(lambda: load_and_decide(CITIZEN), args.repeat)
        )
        results[f"load+decide, 50 active ({backend})"] = summary(
            timed(lambda: load_and_decide(BUSY_CITIZEN), args.repeat)
        )
        engine.dispose()

    print(f"{args.stored:,} consents stored ({loaded_in:.1f} s to insert); scope 4 x 4")
    print(f"{'measure':<40} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'per s':>9}")
    for name, r in results.items():
        print(f"{name:<40} {r['n']:>6} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['per_second']:>9}")
    out = Path(__file__).parent / "results" / "consent_decision.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"stored": args.stored, "results": results}, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
