"""`helhed db backup` while views are served, `helhed db restore` into a fresh database."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from sqlalchemy import text
from typer.testing import CliRunner

from gateway.cli import app
from gateway.db import make_engine
from tests.builders import consent_body

runner = CliRunner()


def _config(home: Path, database_url: str, name: str) -> Path:
    path = home.parent / name
    path.write_text(tomli_w.dumps({"home": str(home), "database_url": database_url}), "utf-8")
    return path


def said(result: Any) -> str:
    """The command's output without rich's line wrapping."""
    return " ".join(result.output.split())


def _rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


def test_a_backup_taken_while_views_are_served_restores_and_verifies(
    own_gateway: Callable[..., Any],
    new_database: Callable[[], str],
    twin_of: Callable[[str], str],
    tmp_path: Path,
) -> None:
    citizen = twin_of("Sara Holm")
    backup = tmp_path / "helhed.backup"
    with own_gateway() as gateway:
        home, original = gateway.settings.home, gateway.settings.sqlalchemy_url
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        served, stop = [], threading.Event()

        def keep_viewing() -> None:
            while not stop.is_set():
                served.append(gateway.view(citizen).status_code)

        viewer = threading.Thread(target=keep_viewing)
        viewer.start()
        try:
            # Some views, and a signed checkpoint of them (the job signs within a second).
            while len(served) < 5 or not _rows(original, "SELECT size FROM log_checkpoint"):
                stop.wait(0.05)
            config = _config(home, original, "original.toml")
            taken = runner.invoke(app, ["db", "backup", str(backup), "-c", str(config)])
            during = len(served)
            while len(served) < during + 3:  # and the gateway went on serving
                stop.wait(0.05)
        finally:
            stop.set()
            viewer.join(timeout=30)
    assert taken.exit_code == 0, taken.output
    assert set(served) == {200}
    manifest = json.loads((tmp_path / "helhed.backup.json").read_text("utf-8"))
    assert manifest["log_entries"] >= 6  # the consent and at least five views

    fresh = new_database()
    restored = runner.invoke(
        app, ["db", "restore", str(backup), "-c", str(_config(home, fresh, "restored.toml"))]
    )
    assert restored.exit_code == 0, restored.output
    assert "Restored and verified" in said(restored)
    size = manifest["log_entries"]
    assert f"{size} entries" in said(restored)
    # Every entry up to the backup's head, as it was; the original has gone on past it.
    kept = _rows(fresh, "SELECT seq, hash FROM access_entry ORDER BY seq")
    assert [seq for seq, _ in kept] == list(range(1, size + 1))
    live = _rows(original, f"SELECT seq, hash FROM access_entry WHERE seq <= {size} ORDER BY seq")
    assert kept == live
    assert _rows(original, "SELECT size FROM log_head")[0][0] > size
    # The signed checkpoints it holds are the original's, signature and all.
    signed = manifest["checkpoint_size"]
    checkpoints = _rows(fresh, "SELECT size, root, note FROM log_checkpoint ORDER BY size")
    assert checkpoints
    assert checkpoints[-1][0] == signed
    assert checkpoints == _rows(
        original,
        f"SELECT size, root, note FROM log_checkpoint WHERE size <= {signed} ORDER BY size",
    )


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(
    own_gateway: Callable[..., Any], tmp_path: Path
) -> None:
    backup = tmp_path / "kept.backup"
    with own_gateway() as gateway:
        settings = gateway.settings
        config = _config(settings.home, settings.sqlalchemy_url, "one.toml")
        assert runner.invoke(app, ["db", "backup", str(backup), "-c", str(config)]).exit_code == 0
        again = runner.invoke(app, ["db", "backup", str(backup), "-c", str(config)])
        assert again.exit_code == 2
        assert "exists already" in said(again)
        before = _rows(settings.sqlalchemy_url, "SELECT size, head_hash FROM log_head")
        refused = runner.invoke(app, ["db", "restore", str(backup), "-c", str(config)])
        assert refused.exit_code == 2
        assert "not empty" in said(refused)
        assert _rows(settings.sqlalchemy_url, "SELECT size, head_hash FROM log_head") == before


def test_a_restored_log_that_was_altered_fails_verification(
    own_gateway: Callable[..., Any],
    new_database: Callable[[], str],
    twin_of: Callable[[str], str],
    tmp_path: Path,
    backend: str,
) -> None:
    if backend != "sqlite":
        pytest.skip("the backup file is altered with sqlite3; the check is the same on both")
    backup = tmp_path / "altered.backup"
    with own_gateway() as gateway:
        settings = gateway.settings
        assert gateway.view(twin_of("Sara Holm")).status_code == 200
        config = _config(settings.home, settings.sqlalchemy_url, "one.toml")
        assert runner.invoke(app, ["db", "backup", str(backup), "-c", str(config)]).exit_code == 0
    # A manifest that names another head than the file holds: the wrong file, or a cut one.
    manifest = tmp_path / "altered.backup.json"
    kept = manifest.read_text("utf-8")
    manifest.write_text(kept.replace('"log_entries": ', '"log_entries": 1'), "utf-8")
    mismatch = runner.invoke(
        app,
        ["db", "restore", str(backup), "-c", str(_config(settings.home, new_database(), "m.toml"))],
    )
    assert mismatch.exit_code == 1
    assert "the backup's manifest names" in said(mismatch)
    manifest.write_text(kept, "utf-8")
    # Someone with the file drops the append-only triggers and edits the first entry.
    with sqlite3.connect(backup) as altered:
        triggers = altered.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in triggers.fetchall():
            altered.execute(f'DROP TRIGGER "{name}"')
        altered.execute(
            "UPDATE access_entry SET body = replace(body, 'view', 'viev') WHERE seq = 1"
        )
    restored = runner.invoke(
        app,
        ["db", "restore", str(backup), "-c", str(_config(settings.home, new_database(), "r.toml"))],
    )
    assert restored.exit_code == 1
    assert "does not verify at entry 1" in said(restored)
