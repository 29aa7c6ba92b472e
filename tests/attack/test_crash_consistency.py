"""SIGKILL a real `helhed serve` under load, again and again: after every restart the log
verifies, every view answered 200 has its entry (at the position the client was given, with the
client's request id), and no consent change is half applied.

HELHED_CRASH_LOOPS sets the number of kills per backend (10 in `make test`, 100 in `make fuzz`).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from demo.sources import source_configs
from demo.systems import SystemsInThread
from gateway.db import make_engine
from tests.attack.served import ServedGateway
from tests.builders import consent_body
from tests.fuzz_summary import record

LOOPS = int(os.environ.get("HELHED_CRASH_LOOPS", "10"))
# Each kill comes this long into the load (seconds): long enough for answers to be in flight.
LOAD_SECONDS = (0.3, 0.9)


@dataclass
class Answered:
    """What clients were told, to be held against what the log says after the crashes."""

    views: list[tuple[str, int]] = field(default_factory=list)  # (request id, access_entry)
    recorded: list[tuple[str, str]] = field(default_factory=list)  # (request id, consent id)
    withdrawn: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post(http: httpx.Client, path: str, body: Any, headers: dict[str, str]) -> tuple[str, Any]:
    response = http.post(path, json=body, headers={**headers, "X-Request-ID": uuid.uuid4().hex})
    # The id the gateway used: one that could hold a CPR (a hex id, now and then) is replaced.
    return response.headers["X-Request-ID"], response


def _viewer(
    gateway: ServedGateway, citizens: list[str], answered: Answered, stop: threading.Event
) -> None:
    headers = gateway.headers()
    with httpx.Client(base_url=gateway.base_url, timeout=10) as http:
        while not stop.is_set():
            body = {"citizen": random.choice(citizens), "purpose": "coordinated-plan"}
            try:
                request_id, response = _post(http, "/v1/views", body, headers)
            except httpx.TransportError:
                return  # the process is gone
            if response.status_code == 200:
                with answered.lock:
                    answered.views.append((request_id, response.json()["access_entry"]))


def _consenter(
    gateway: ServedGateway, citizens: list[str], answered: Answered, stop: threading.Event
) -> None:
    """Records consents and withdraws each one right after: both changes cross the kill."""
    headers = gateway.headers()
    with httpx.Client(base_url=gateway.base_url, timeout=10) as http:
        while not stop.is_set():
            try:
                body = consent_body(random.choice(citizens), categories=["interventions"])
                request_id, response = _post(http, "/v1/consents", body, headers)
                if response.status_code != 201:
                    continue
                consent = response.json()["id"]
                with answered.lock:
                    answered.recorded.append((request_id, consent))
                request_id, response = _post(
                    http, f"/v1/consents/{consent}/withdraw", {"reason": "crash test"}, headers
                )
                if response.status_code == 200:
                    with answered.lock:
                        answered.withdrawn.append((request_id, consent))
            except httpx.TransportError:
                return


def _one_crash(gateway: ServedGateway, citizens: list[str], answered: Answered) -> None:
    gateway.start()
    verified = httpx.get(
        f"{gateway.base_url}/v1/audit/verify", headers=gateway.headers("dpo", None), timeout=30
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is True, f"after restart {gateway.starts}: {verified.json()}"
    stop = threading.Event()
    workers = [
        threading.Thread(target=_viewer, args=(gateway, citizens, answered, stop)),
        threading.Thread(target=_viewer, args=(gateway, citizens, answered, stop)),
        threading.Thread(target=_consenter, args=(gateway, citizens, answered, stop)),
    ]
    for worker in workers:
        worker.start()
    time.sleep(random.uniform(*LOAD_SECONDS))
    gateway.kill()
    stop.set()
    for worker in workers:
        worker.join(timeout=20)


def _log(url: str) -> dict[int, dict[str, Any]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT seq, body FROM access_entry")).all()
    finally:
        engine.dispose()
    return {seq: json.loads(body) for seq, body in rows}


def _consent_state(url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, int | None]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            consents = connection.execute(text("SELECT id, status FROM consent")).all()
            events = connection.execute(
                text("SELECT consent_id, event, access_entry FROM consent_event")
            ).all()
    finally:
        engine.dispose()
    return [tuple(c) for c in consents], [tuple(e) for e in events]  # type: ignore[misc]


@pytest.fixture
def served(
    new_database: Callable[[], str], systems: SystemsInThread, tmp_path: Path
) -> Iterator[ServedGateway]:
    gateway = ServedGateway(tmp_path / "home", new_database(), source_configs(systems.systems))
    try:
        yield gateway
    finally:
        gateway.stop()


def test_repeated_sigkill_under_load_loses_no_answered_entry_and_halves_no_consent(
    served: ServedGateway, twin_of: Callable[[str], str]
) -> None:
    citizens = [twin_of("Sara Holm") for _ in range(4)]
    answered = Answered()
    served.start()
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        for citizen in citizens:
            http.post(
                "/v1/consents", json=consent_body(citizen), headers=served.headers()
            ).raise_for_status()
    served.kill()
    started = time.monotonic()
    for _ in range(LOOPS):
        _one_crash(served, citizens, answered)
    served.start()  # the last restart: everything below is what survived
    verified = httpx.get(
        f"{served.base_url}/v1/audit/verify", headers=served.headers("dpo", None), timeout=60
    ).json()
    assert verified["ok"] is True, verified
    served.stop()
    seconds = time.monotonic() - started

    url = served.settings.sqlalchemy_url
    log = _log(url)
    assert answered.views, "the load got answers before the kills"
    for request_id, seq in answered.views:
        entry = log.get(seq)
        assert entry is not None, f"view answered with entry {seq}, which is not in the log"
        assert (entry["request_id"], entry["action"]) == (request_id, "view")

    consents, events = _consent_state(url)
    status = dict(consents)
    by_consent: dict[str, dict[str, int | None]] = {}
    for consent, event, seq in events:
        by_consent.setdefault(consent, {})[event] = seq
    for consent, state in consents:
        kinds = by_consent.get(consent, {})
        assert "recorded" in kinds, f"consent {consent} exists without its recorded event"
        assert (state == "withdrawn") == ("withdrawn" in kinds), (consent, state, kinds)
    for consent, kinds in by_consent.items():
        assert consent in status, f"an event for consent {consent}, which does not exist"
        for event, seq in kinds.items():
            entry = log.get(seq) if seq is not None else None
            assert entry is not None, f"{event} of {consent} has no log entry"
            assert entry["target"] == consent
    for request_id, consent in answered.recorded:
        assert consent in status, "a consent answered 201 is gone after the crash"
        assert log[by_consent[consent]["recorded"]]["request_id"] == request_id  # type: ignore[index]
    for _request_id, consent in answered.withdrawn:
        assert status[consent] == "withdrawn", "a withdrawal answered 200 was undone"
    print(
        f"{LOOPS} kills in {seconds:.1f} s: {len(answered.views)} views, "
        f"{len(answered.recorded)} consents, {len(answered.withdrawn)} withdrawals answered; "
        f"{len(log)} entries checked"
    )
    # make fuzz's summary counts each kill survived as one example of this target.
    record("crash_consistency", examples=LOOPS)
