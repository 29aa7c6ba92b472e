"""Several gateway instances on one PostgreSQL database keep every guarantee (issue 11).

Two real `helhed serve` processes (one of them with two uvicorn workers) share one database and
the simulated department systems. Views and consent withdrawals go through both while one is
killed with SIGKILL; afterwards the access log is one verifying tree with consecutive positions,
no view started after a withdrawal returned released that consent's data on either instance,
and every scheduled job ran once per period, moving to the survivor when its holder died.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from sqlalchemy import create_engine, text

from demo.run import _without_nulls
from demo.sources import SOURCE_NAMES, source_configs
from demo.systems import SystemsInThread
from gateway.auth.dev_issuer import mint_token
from gateway.runtime import build_runtime
from gateway.settings import Settings, load_settings, normalize_database_url
from tests.builders import consent_body
from tests.conftest import POSTGRES_URL
from tests.support import ThrowawayPostgres, wait_until_healthy

JOBCENTER = SOURCE_NAMES["jobcenter"]
PERIOD = 1.0  # seconds, every job (their own periods are minutes and hours)
LEASE = 2.0  # seconds: how soon the survivor takes over a job its dead holder was running
SERVE = [sys.executable, "-m", "gateway", "serve"]
JOBS = (
    "expire-consents",
    "csv-drop-import",
    "audit-checkpoint",
    "audit-retention",
    "source-health",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Instance:
    """One `helhed serve` process group (a parent and its workers), reached over loopback."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    alive: bool = True

    def wait_ready(self) -> None:
        wait_until_healthy(self.base_url, self.process)

    def workers(self) -> int:
        """How many uvicorn workers the group holds (multiprocessing spawns each by
        `spawn_main`; the group also holds the parent and multiprocessing's resource tracker)."""
        count = 0
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                group = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
                command = (proc / "cmdline").read_bytes()
            except OSError:
                continue  # ended meanwhile
            count += group == self.process.pid and b"spawn_main" in command
        return count

    def kill(self) -> None:
        self.alive = False
        os.killpg(self.process.pid, signal.SIGKILL)  # the workers die with their parent
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


@dataclass
class ViewRecord:
    citizen: str = field(repr=False)  # a CPR: kept out of assertion messages
    instance: str
    started: float
    ended: float
    status: int | None  # None: no answer (the instance died under it)
    consents: set[str] = field(default_factory=set)
    jobcenter_fragments: int = 0
    jobcenter_status: str | None = None
    access_entry: int | None = None


@dataclass
class Withdrawal:
    citizen: str = field(repr=False)  # a CPR: kept out of assertion messages
    consent: str
    instance: str
    returned: float


def _write_config(home: Path, database_url: str, systems: SystemsInThread) -> Path:
    config = {
        "home": str(home),
        "database_url": database_url,
        "view_deadline_seconds": 2.5,
        "source_timeout_seconds": 2.0,
        "views_per_minute": 1_000_000,
        "distinct_citizens_alert": 1_000_000,
        "database": {"pool_size": 3, "max_overflow": 2},
        "scheduler": {"lease_seconds": LEASE, "periods": dict.fromkeys(JOBS, PERIOD)},
        "sources": source_configs(systems.systems),
    }
    path = home / "helhed.toml"
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(_without_nulls(config)), encoding="utf-8")
    return path


@pytest.fixture
def two_instances(
    throwaway_postgres: ThrowawayPostgres, systems: SystemsInThread, tmp_path: Path
) -> Iterator[tuple[Settings, str, list[Instance]]]:
    database_url = throwaway_postgres.new_database()
    config = _write_config(tmp_path / "home", database_url, systems)
    settings = load_settings(config)
    # The keys (CPR encryption, signing, the development issuer) exist before either starts,
    # as a deployment provisions them; the instances share them through the data folder.
    runtime = build_runtime(settings)
    runtime.engine.dispose()
    mint_token(settings, subject="setup", roles=["dpo"])
    instances = []
    for name, workers in (("A", 2), ("B", 1)):
        port = _free_port()
        with (tmp_path / f"gateway-{name}.log").open("wb") as log:  # the child keeps its copy
            process = subprocess.Popen(
                [*SERVE, "--config", str(config), "--port", str(port), "--workers", str(workers)],
                env={**os.environ, "HELHED_INSTANCE": name},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL takes its workers too
            )
        instances.append(Instance(name, process, f"http://127.0.0.1:{port}"))
    try:
        for instance in instances:
            instance.wait_ready()
        yield settings, database_url, instances
    finally:
        for instance in instances:
            instance.stop()


def _token(settings: Settings, role: str, department: str | None) -> str:
    return mint_token(
        settings, subject=f"{role}-{department}", name="Test", roles=[role], department=department
    )


def _view(client: httpx.Client, base_url: str, name: str, citizen: str, token: str) -> ViewRecord:
    started = time.monotonic()
    try:
        response = client.post(
            f"{base_url}/v1/views",
            json={"citizen": citizen, "purpose": "coordinated-plan"},
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.TransportError:
        return ViewRecord(citizen, name, started, time.monotonic(), None)
    record = ViewRecord(citizen, name, started, time.monotonic(), response.status_code)
    if response.status_code == 200:
        view = response.json()
        record.consents = {ref["id"] for ref in view["consents"]}
        record.jobcenter_fragments = sum(
            1 for fragment in view["timeline"] if fragment["source"] == JOBCENTER
        )
        (line,) = [c for c in view["coverage"] if c["source"] == JOBCENTER]
        record.jobcenter_status = line["status"]
        record.access_entry = view["access_entry"]
    return record


def _drive(
    instances: list[Instance],
    action: Callable[[httpx.Client, Instance], None],
    stop: threading.Event,
) -> None:
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            alive = [i for i in instances if i.alive]
            action(client, random.choice(alive))


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="HELHED_TEST_POSTGRES_URL is not set")
def test_two_instances_one_log_withdrawal_everywhere_jobs_once_through_a_kill(
    two_instances: tuple[Settings, str, list[Instance]], twin_of: Callable[[str], str]
) -> None:
    settings, database_url, instances = two_instances
    a, b = instances
    assert a.workers() == 2, "serve --workers 2"
    caseworker = _token(settings, "caseworker", "children-family")
    recorder = _token(settings, "caseworker", "jobcenter")
    citizens = [twin_of("Sara Holm") for _ in range(8)]
    consents: dict[str, str] = {}
    with httpx.Client(timeout=30) as client:
        for index, citizen in enumerate(citizens):
            response = client.post(
                f"{instances[index % 2].base_url}/v1/consents",
                json=consent_body(citizen),
                headers={"Authorization": f"Bearer {recorder}"},
            )
            assert response.status_code == 201, response.text
            consents[citizen] = response.json()["id"]

    views: list[ViewRecord] = []
    withdrawals: list[Withdrawal] = []
    to_withdraw = list(citizens[:6])
    stop = threading.Event()

    def view_one(client: httpx.Client, instance: Instance) -> None:
        citizen = random.choice(citizens)
        views.append(_view(client, instance.base_url, instance.name, citizen, caseworker))

    def withdraw_next(client: httpx.Client, instance: Instance) -> None:
        if not to_withdraw:
            stop.wait(0.1)
            return
        citizen = to_withdraw.pop(0)
        try:
            response = client.post(
                f"{instance.base_url}/v1/consents/{consents[citizen]}/withdraw",
                json={"reason": "the citizen withdrew"},
                headers={"Authorization": f"Bearer {recorder}"},
            )
        except httpx.TransportError:  # the kill cut it off: it may or may not have happened
            return
        assert response.status_code == 200, response.text
        withdrawals.append(Withdrawal(citizen, consents[citizen], instance.name, time.monotonic()))
        stop.wait(0.5)

    workers = [
        threading.Thread(target=_drive, args=(instances, view_one, stop)) for _ in range(4)
    ] + [threading.Thread(target=_drive, args=(instances, withdraw_next, stop))]
    for worker in workers:
        worker.start()
    try:
        time.sleep(3)
        killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
        a.kill()  # mid-load: views, withdrawals and job runs in flight
        time.sleep(3)  # the survivor serves alone
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    # A's leases lapse, and the survivor runs every job from then on.
    taken_over = killed_wall + timedelta(seconds=LEASE + PERIOD)
    _wait_for_takeover(database_url, taken_over)
    ended_wall = datetime.now(UTC)

    # Every view answered, except those on A that the kill cut off.
    for view in views:
        assert view.status == 200 or (view.instance == "A" and view.ended >= killed_at), view
    answered = [v for v in views if v.status == 200]
    assert {v.instance for v in answered} == {"A", "B"}
    assert any(v.instance == "B" and v.started > killed_at for v in answered)

    _check_withdrawals(withdrawals, answered, citizens)  # rule 3, on every instance
    _check_one_log(database_url, answered, b.base_url, _token(settings, "dpo", None))
    _check_jobs(_scheduled_runs(database_url), killed_wall, taken_over, ended_wall)


@dataclass(frozen=True)
class _Run:
    job: str
    period_start: datetime
    instance: str
    outcome: str
    late: float  # seconds from the period's start to the run's


def _scheduled_runs(database_url: str) -> list[_Run]:
    engine = create_engine(normalize_database_url(database_url))
    query = (
        "SELECT job, period_start, instance, outcome, started_at FROM job_run "
        "WHERE trigger = 'schedule'"
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(query)).all()
    finally:
        engine.dispose()
    return [
        _Run(job, start, instance, outcome, (started - start).total_seconds())
        for job, start, instance, outcome, started in rows
    ]


def _wait_for_takeover(database_url: str, taken_over: datetime) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = _scheduled_runs(database_url)
        if all(any(r.job == job and r.period_start > taken_over for r in runs) for job in JOBS):
            return
        time.sleep(0.5)


def _check_withdrawals(
    withdrawals: list[Withdrawal], answered: list[ViewRecord], citizens: list[str]
) -> None:
    # Rule 3: a withdrawal binds every instance from the next request on.
    assert len(withdrawals) >= 5, "one withdrawal at most is cut off by the kill"
    checked: defaultdict[str, int] = defaultdict(int)
    for withdrawal in withdrawals:
        for view in answered:
            if view.citizen != withdrawal.citizen:
                continue
            if view.started > withdrawal.returned:
                assert withdrawal.consent not in view.consents, (withdrawal, view)
                assert view.jobcenter_fragments == 0, (withdrawal, view)
                assert view.jobcenter_status == "not-covered", (withdrawal, view)
                checked[view.instance] += 1
    assert checked["A"] > 0, f"views after a withdrawal: {dict(checked)}"
    assert checked["B"] > 0, f"views after a withdrawal: {dict(checked)}"
    untouched = set(citizens) - {w.citizen for w in withdrawals}
    assert any(v.jobcenter_fragments > 0 for v in answered if v.citizen in untouched), (
        "consented jobcenter data is released (else the check above proves nothing)"
    )


def _check_one_log(database_url: str, answered: list[ViewRecord], base_url: str, dpo: str) -> None:
    # One log: consecutive positions, each view's entry its own, and the whole tree verifies.
    engine = create_engine(normalize_database_url(database_url))
    try:
        with engine.connect() as connection:
            positions = [row[0] for row in connection.execute(text("SELECT seq FROM access_entry"))]
    finally:
        engine.dispose()
    assert sorted(positions) == list(range(1, len(positions) + 1)), "no gap, no duplicate"
    entries = [v.access_entry for v in answered]
    assert len(set(entries)) == len(entries)
    assert set(entries) <= set(positions)
    auth = {"Authorization": f"Bearer {dpo}"}
    verified = httpx.get(f"{base_url}/v1/audit/verify", headers=auth, timeout=60).json()
    assert verified["ok"] is True, verified
    assert verified["entries"] == len(positions), verified


def _check_jobs(
    runs: list[_Run], killed_wall: datetime, taken_over: datetime, ended_wall: datetime
) -> None:
    # Every job once per period; after the kill the survivor runs them.
    for job in JOBS:
        mine = sorted((r for r in runs if r.job == job), key=lambda r: r.period_start)
        story = [
            (f"{r.period_start:%S.%f}", r.instance[0], r.outcome, f"{r.late:.2f}") for r in mine
        ]
        periods = [run.period_start for run in mine]
        assert len(periods) == len(set(periods)), f"{job}: a period ran twice: {story}"
        first, last = periods[0], periods[-1]
        expected = {first + timedelta(seconds=PERIOD * k) for k in range(_count(first, last))}
        missing = expected - set(periods)
        # Only while the dead instance's lease had not lapsed may a period go without its run.
        assert all(killed_wall - timedelta(seconds=PERIOD) <= p <= taken_over for p in missing), (
            f"{job}: killed at {killed_wall:%S.%f}, missing {sorted(missing)}: {story}"
        )
        after = [r for r in mine if r.period_start > taken_over]
        assert after, f"{job} did not move to the survivor: {story}"
        assert all(r.instance.startswith("B/") for r in after), story
        assert last >= ended_wall - timedelta(seconds=3 * PERIOD), f"{job} stopped: {story}"
        # Only a run the kill cut off stays unfinished.
        unfinished = [r for r in mine if r.outcome == "running" and r.period_start < last]
        assert len(unfinished) <= 1, story
        assert all(r.instance.startswith("A/") for r in unfinished), story
        assert all(r.outcome in {"ok", "running"} for r in mine), story


def _count(first: datetime, last: datetime) -> int:
    return round((last - first).total_seconds() / PERIOD) + 1


def test_no_request_holds_a_connection_while_its_sources_answer(
    own_gateway: Callable[..., Any], systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    """One pooled connection, four views at once, each waiting two seconds for the jobcenter:
    all four get their data. A view holding its connection through the fan-out would make the
    others wait longer than the pool's timeout, and fail with 503."""
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout_seconds": 1.5}
    deadlines = {"view_deadline_seconds": 5, "source_timeout_seconds": 4}
    with own_gateway(database=pool, **deadlines) as gateway:
        citizens = [twin_of("Sara Holm") for _ in range(4)]
        for citizen in citizens:
            recorded = gateway.post("/v1/consents", consent_body(citizen), as_="jobcenter")
            assert recorded.status_code == 201, recorded.text
        systems["jobcenter"].behaviour.delay = 2.0
        token = gateway.token("caseworker", "children-family")

        def view(citizen: str) -> ViewRecord:
            with httpx.Client(timeout=30) as client:
                return _view(client, gateway.base_url, "only", citizen, token)

        with ThreadPoolExecutor(len(citizens)) as pool_of_callers:
            views = list(pool_of_callers.map(view, citizens))
    assert [v.status for v in views] == [200] * len(citizens)
    assert all(v.jobcenter_status == "included" and v.jobcenter_fragments for v in views), views


_START_ON_SHARED_FOLDER = """
import sys
from gateway.auth.dev_issuer import signing_key, trusted_dev_issuer
from gateway.auth.tokens import TokenVerifier
from gateway.cpr_protection import CprProtector
from gateway.settings import load_settings

settings = load_settings(None, home=sys.argv[1])
protector = CprProtector.from_keys_dir(settings.keys_dir)  # made by one of them, used by all
for _ in range(100):  # what each gateway does at its start, again and again
    verifier = TokenVerifier([trusted_dev_issuer(settings)])
assert verifier.issuers
print(protector.lookup_hash("0101901234"), signing_key(settings).thumbprint())
"""


def test_gateways_starting_at_once_on_one_data_folder_share_its_keys(tmp_path: Path) -> None:
    """Found by the test above: a gateway read the development issuer's key file while another,
    starting at the same moment, had truncated it to write it again (JSONDecodeError at start)."""
    starting = [
        subprocess.Popen(
            [sys.executable, "-c", _START_ON_SHARED_FOLDER, str(tmp_path / "home")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    answers = [process.communicate(timeout=120) for process in starting]
    assert [process.returncode for process in starting] == [0] * 4, [e for _, e in answers]
    assert len({out for out, _ in answers}) == 1, "one key, whoever made it"
