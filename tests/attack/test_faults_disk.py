"""The disk under the SQLite database fills up, or another process locks the file, while the
gateway logs: no view is answered without its entry (a view that cannot be logged is a 503 with
no fragment in it), no consent is half-written, and once space is free again the next view
succeeds without a restart.

The disk is a small tmpfs mounted for the test (root in a container may mount one); where that
is not allowed the test is skipped and says so.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from demo.sources import source_configs
from demo.systems import SystemsInThread
from gateway.keys import load_or_create, new_symmetric_keyring
from tests.attack.faults import refused_cleanly, shared_citizen, timed
from tests.builders import consent_body
from tests.support import LiveGateway, live_gateway


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Write until the disk says ENOSPC; the filler file is returned to free the space again."""
    filler = disk / "filler"
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
            os.fsync(out.fileno())
    with pytest.raises(OSError, match="No space left") as full:
        (disk / "probe").write_bytes(b"\0" * 65536)
    assert full.value.errno == errno.ENOSPC
    return filler


def test_a_full_disk_releases_nothing_unlogged_and_recovers_when_space_returns(
    small_disk: Path, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    url = f"sqlite:///{small_disk / 'helhed.db'}"
    with live_gateway(small_disk / "home", url, source_configs(systems.systems)) as gateway:
        _full_disk_story(gateway, small_disk, twin_of)


def _full_disk_story(gateway: LiveGateway, disk: Path, twin_of: Callable[[str], str]) -> None:
    citizen = shared_citizen(gateway, twin_of)
    assert gateway.view(citizen).status_code == 200
    filler = _fill(disk)
    answered, refused = [], 0
    for _ in range(200):  # the WAL has room for a few entries; soon it must grow, and cannot
        response = gateway.view(citizen)
        if response.status_code == 200:
            answered.append(response.json()["access_entry"])
            continue
        refused_cleanly(response, "access_log_unavailable", "database_unavailable")
        refused += 1
        if refused >= 3:
            break
    assert refused >= 3, "the full disk was noticed"
    other = twin_of("Lars Vestergaard")
    refused_cleanly(
        gateway.post("/v1/consents", consent_body(other)),
        "access_log_unavailable",
        "database_unavailable",
    )
    filler.unlink()
    after = gateway.view(citizen)
    assert after.status_code == 200, after.text
    answered.append(after.json()["access_entry"])
    logged = {entry["seq"] for entry in gateway.audit_entries(action="view")}
    assert set(answered) <= logged, "every answered view has its entry"
    found = gateway.post("/v1/consents/search", {"citizen": other}).json()
    assert found["consents"] == [], "the consent refused on the full disk was not written"
    assert gateway.verify()["ok"] is True


def test_a_database_locked_by_another_process_makes_a_view_wait_not_fail(
    systems: SystemsInThread, tmp_path: Path, twin_of: Callable[[str], str]
) -> None:
    """Another process (a backup, a DBA's shell) holds SQLite's write lock for a moment: the
    view waits for it, within the busy timeout, and is answered with its entry."""
    url = f"sqlite:///{tmp_path / 'helhed.db'}"
    with live_gateway(tmp_path / "home", url, source_configs(systems.systems)) as gateway:
        citizen = shared_citizen(gateway, twin_of)
        holder = sqlite3.connect(
            url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN IMMEDIATE")
        timer = threading.Timer(1.0, holder.execute, args=["COMMIT"])
        timer.start()
        try:
            response, seconds = timed(lambda: gateway.view(citizen))
        finally:
            timer.join()
            holder.close()
        assert response.status_code == 200, response.text
        assert seconds >= 0.5, "the view did wait for the lock"
        assert gateway.http is not None
        assert gateway.verify()["ok"] is True


def test_a_database_locked_for_good_is_a_503_within_the_lock_timeout_and_recovers(
    systems: SystemsInThread, tmp_path: Path, twin_of: Callable[[str], str]
) -> None:
    """The other process does not let go: past `[database] lock_timeout_seconds` the view is a
    clean 503 with nothing released, and the first view after the lock is gone succeeds."""
    url = f"sqlite:///{tmp_path / 'helhed.db'}"
    with live_gateway(
        tmp_path / "home",
        url,
        source_configs(systems.systems),
        database={"lock_timeout_seconds": 1},
    ) as gateway:
        citizen = shared_citizen(gateway, twin_of)
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            response, seconds = timed(lambda: gateway.view(citizen))
            refused_cleanly(response, "access_log_unavailable", "database_unavailable")
            assert seconds < 10, f"the view waited {seconds:.1f} s for the lock"
            refused_cleanly(
                gateway.post("/v1/consents", consent_body(twin_of("Lars Vestergaard"))),
                "access_log_unavailable",
                "database_unavailable",
            )
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        after = gateway.view(citizen)
        assert after.status_code == 200, after.text
        assert gateway.verify()["ok"] is True


def test_a_key_created_on_a_full_disk_is_created_whole_or_not_at_all(small_disk: Path) -> None:
    """Keyrings are made on first use; on a full disk that fails, and must leave nothing behind
    that a later start would read as a (broken, empty) key."""
    path = small_disk / "keys" / "checkpoint-ed25519.json"
    filler = _fill(small_disk)
    big = new_symmetric_keyring() + " " * 200_000  # more than the blocks left free
    with pytest.raises(OSError, match="No space left"):
        load_or_create(path, lambda: big)
    assert not path.exists(), "no half-written key file"
    assert list(path.parent.iterdir()) == [], "no temporary file left either"
    filler.unlink()
    assert json.loads(load_or_create(path, new_symmetric_keyring))["keys"]
