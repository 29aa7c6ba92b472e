"""A gateway process that only appends: `python -m tests.log_writer HOME URL COUNT THREADS`
prints the positions it was given, as JSON. For tests of many processes on one log."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gateway.access_log.service import AccessEvent, AuditContext, record_access
from gateway.runtime import build_runtime
from gateway.settings import load_settings
from schemas.access import Action, ActorRecord, Outcome


def main() -> None:
    home, url, count, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    runtime = build_runtime(load_settings(None, home=Path(home), database_url=url))
    context = AuditContext(
        actor=ActorRecord(subject="writer", roles=["caseworker"]),
        request_id="multi-process",
        instance=runtime.settings.instance,
    )

    def write(_: int) -> list[int]:
        return [
            record_access(
                engine=runtime.engine,
                protector=runtime.protector,
                context=context,
                event=AccessEvent(action=Action.CONSENT_SEARCH, outcome=Outcome.SUCCESS),
                now=runtime.clock.now(),
            )
            for _ in range(count // threads)
        ]

    with ThreadPoolExecutor(threads) as pool:
        positions = [seq for seqs in pool.map(write, range(threads)) for seq in seqs]
    runtime.engine.dispose()
    print(json.dumps(positions))


if __name__ == "__main__":
    main()
