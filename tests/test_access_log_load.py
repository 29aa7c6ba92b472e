"""Nothing lost under concurrency: group commit with 8 writers, and a process killed mid-load."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from gateway.access_log.group_commit import committer_for
from gateway.access_log.service import AccessEvent, AuditContext, record_access
from gateway.access_log.verify import verify_log
from gateway.auth.dev_issuer import mint_token
from gateway.db import make_engine, read_session
from gateway.settings import load_settings
from gateway.signing.keys import SigningKeys
from schemas.access import Action, ActorRecord, Outcome


def _verify(engine: Any, keys_dir: Path, **options: Any) -> Any:
    keys = [key.public_key for key in SigningKeys(keys_dir).keyring("checkpoint")]
    with read_session(engine) as session:
        return verify_log(session=session, keys=keys, **options)


def _load_context(runtime: Any) -> AuditContext:
    return AuditContext(
        actor=ActorRecord(subject="load", department="jobcenter", roles=["caseworker"]),
        request_id="load",
        instance=runtime.settings.instance,
    )


def test_eight_writers_append_ten_thousand_entries_at_consecutive_positions(
    own_gateway: Callable[..., Any],
) -> None:
    writers, each = 8, 1250
    with own_gateway() as gateway:
        runtime = gateway.runtime
        context = _load_context(runtime)
        before = committer_for(runtime.engine).batches

        def write(writer: int) -> list[int]:
            return [
                record_access(
                    engine=runtime.engine,
                    protector=runtime.protector,
                    context=context,
                    event=AccessEvent(
                        action=Action.CONSENT_SEARCH,
                        outcome=Outcome.SUCCESS,
                        citizen="0101901234",
                        detail={"writer": writer, "n": n},
                    ),
                    now=runtime.clock.now(),
                )
                for n in range(each)
            ]

        with ThreadPoolExecutor(writers) as pool:
            positions = [seq for seqs in pool.map(write, range(writers)) for seq in seqs]
        assert len(positions) == writers * each
        assert sorted(positions) == list(range(1, writers * each + 1))
        batches = committer_for(runtime.engine).batches - before
        assert batches < writers * each, "entries were committed in groups"
        report = _verify(runtime.engine, runtime.settings.keys_dir)
        assert report.ok, report
        assert report.entries == writers * each
        assert report.checkpoints >= 10, "a checkpoint at least every 1,000 entries"
        # In runs of 8 entries, joined above level 3: the same tree, the same checkpoints.
        chunked = _verify(runtime.engine, runtime.settings.keys_dir, chunk_level=3)
        assert (chunked.ok, chunked.head) == (True, report.head)


def test_a_malformed_event_fails_its_own_request_and_no_other(
    own_gateway: Callable[..., Any],
) -> None:
    """The committer drafts a batch's entries: one bad event must not sink its batch-mates."""
    with own_gateway() as gateway:
        runtime = gateway.runtime
        context = _load_context(runtime)

        def write(n: int) -> int | str:
            event = AccessEvent(
                action=Action.CONSENT_SEARCH if n != 5 else "no-such-action",  # type: ignore[arg-type]
                outcome=Outcome.SUCCESS,
                detail={"n": n},
            )
            try:
                return record_access(
                    engine=runtime.engine,
                    protector=runtime.protector,
                    context=context,
                    event=event,
                    now=runtime.clock.now(),
                )
            except Exception as error:
                return type(error).__name__

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(write, range(40)))
        assert results[5] == "ValidationError"
        positions = [r for r in results if isinstance(r, int)]
        assert len(positions) == 39
        assert sorted(positions) == list(range(min(positions), min(positions) + 39))
        assert _verify(runtime.engine, runtime.settings.keys_dir).ok


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_killed_gateway_leaves_an_entry_for_every_answered_request(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    database_url = new_database()
    settings = load_settings(None, home=tmp_path, database_url=database_url)
    port = _free_port()
    env = {
        **os.environ,
        "HELHED_HOME": str(tmp_path),
        "HELHED_DATABASE_URL": database_url,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        token = mint_token(
            settings,
            subject="maja",
            name="Mette",
            roles=["caseworker"],
            department="children-family",
        )
        answered: list[str] = []
        lock, stop = threading.Lock(), threading.Event()

        def client() -> None:
            with httpx.Client(base_url=base, timeout=10) as http:
                while not stop.is_set():
                    request_id = uuid.uuid4().hex
                    try:
                        response = http.post(
                            "/v1/consents/search",
                            json={"citizen": "0101901234"},
                            headers={
                                "Authorization": f"Bearer {token}",
                                "X-Request-ID": request_id,
                            },
                        )
                    except httpx.TransportError:
                        return
                    if response.status_code == 200:
                        with lock:
                            # The echoed id: one that could be a CPR is replaced (rule 5).
                            answered.append(response.headers["X-Request-ID"])

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(answered) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)  # in the middle of the load, no goodbye
        server.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert len(answered) >= 300
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            bodies = connection.execute(text("SELECT body FROM access_entry")).scalars().all()
        logged = {json.loads(body)["request_id"] for body in bodies}
        missing = set(answered) - logged
        assert not missing, f"{len(missing)} answered requests have no entry"
        report = _verify(engine, settings.keys_dir)
        assert report.ok, report
    finally:
        engine.dispose()


def test_two_gateway_processes_share_one_log_without_gaps_or_doubles(
    own_gateway: Callable[..., Any],
) -> None:
    with own_gateway(scheduler_enabled=False) as gateway:
        home, url = str(gateway.settings.home), gateway.settings.sqlalchemy_url
        writers = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.log_writer", home, url, "600", "4"],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        positions = []
        for writer in writers:
            out, _ = writer.communicate(timeout=120)
            assert writer.returncode == 0
            positions += json.loads(out)
        assert sorted(positions) == list(range(1, 1201))
        report = _verify(gateway.runtime.engine, gateway.settings.keys_dir)
        assert report.ok, report
